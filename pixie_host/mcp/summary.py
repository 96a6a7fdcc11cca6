"""An output value as text a model reads well: formatted numbers, compact markdown, and summaries of big values.

A tool result's ``content`` is what a client puts into the model's context, so every rendering
here is bounded: long text is cut, tables and lists show their first rows, charts and maps are
described by counts, ranges and their largest items. The whole value always travels in the
result's ``structuredContent``; the text says so whenever it leaves something out.

Media (``image``, ``audio``, ``video``, ``file``, ``image_grid``, ``image_compare``) become
their own content blocks in ``pixie_host.mcp.results``; this module gives them only a caption.
"""

from __future__ import annotations

import difflib
import json
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence

from pixie_sdk.output_specs import OutputSpec
from pixie_sdk.shapes import normalise_output, presentation, unwrap_scalar
from pixie_sdk.types import JSON

__all__ = [
    "MAX_LIST_ITEMS",
    "MAX_TABLE_ROWS",
    "MAX_TEXT_CHARS",
    "OUTPUT_NOUNS",
    "describe_event",
    "format_number",
    "summarise",
]

#: Characters of one text-like output put into the context; a model rarely needs more, and the rest is
#: one ``structuredContent`` read away (a 200-page document would otherwise fill a context window).
MAX_TEXT_CHARS = 8000
#: Rows of a table shown as markdown: enough to see the shape and the first values.
MAX_TABLE_ROWS = 20
#: Columns of a table shown; wider tables list the rest by name.
MAX_TABLE_COLUMNS = 12
#: Characters of one table cell or one listed value.
MAX_CELL_CHARS = 80
#: Items of a list shown (kv pairs, log lines, events, tasks, slices, links...).
MAX_LIST_ITEMS = 20
#: Series of a chart described one by one.
MAX_SERIES = 10
#: A chart with at most this many points per series is shown whole instead of summarised.
SMALL_CHART_POINTS = 12
#: Nodes of a tree outline, and how deep it goes.
MAX_TREE_NODES = 40
MAX_TREE_DEPTH = 4
#: Lines of a unified diff.
MAX_DIFF_LINES = 60
#: Characters of one progress message: a client shows it on one line.
MAX_EVENT_CHARS = 200

#: What each output type is, in words (tool descriptions and captions).
OUTPUT_NOUNS: Mapping[str, str] = {
    "text": "text", "markdown": "Markdown", "latex": "LaTeX", "code": "code", "stream_text": "streamed text",
    "number": "number", "boolean": "yes/no", "progress": "progress", "image": "image", "audio": "audio",
    "video": "video", "table": "table", "kv": "key-value pairs", "log": "log", "diff": "diff", "tree": "tree",
    "timeline": "timeline", "gantt": "Gantt chart", "chart_line": "line chart", "chart_area": "area chart",
    "chart_bar": "bar chart", "chart_scatter": "scatter chart", "chart_pie": "pie chart",
    "chart_histogram": "histogram", "chart_boxplot": "box plot", "chart_heatmap": "heatmap",
    "chart_candlestick": "candlestick chart", "chart_radar": "radar chart", "chart_sankey": "Sankey diagram",
    "chart_treemap": "treemap", "chart_network": "network graph", "map_points": "map of points",
    "map_heatmap": "map heatmap", "map_route": "map route", "map_polygons": "map of areas",
    "map_choropleth": "choropleth map", "image_grid": "images", "image_compare": "image comparison",
    "file": "file",
}  # fmt: skip

_WHOLE = "the whole value is in structuredContent"


# --- formatting helpers ----------------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _plain(value: float) -> str:
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    return format(value, ",")


def format_number(value: JSON, fmt: JSON = None, precision: JSON = None, unit: JSON = None) -> str:
    """A number as the UI shows it: ``format`` (currency, percent, scientific, decimal), ``precision``, ``unit``.

    A percent shows the fraction too (``5% (0.05)``), so a model is never off by a factor of 100.
    """
    if not _is_number(value):
        return _short(value)
    assert isinstance(value, int | float)
    digits = precision if isinstance(precision, int) and not isinstance(precision, bool) else None
    if fmt == "percent":
        text = f"{value * 100:,.{1 if digits is None else digits}f}% ({_plain(value)})"
    elif fmt == "scientific":
        text = f"{value:.{3 if digits is None else digits}e}"
    elif fmt == "currency":
        text = f"{value:,.{2 if digits is None else digits}f}"
    else:
        text = _plain(value) if digits is None else f"{value:,.{digits}f}"
    return f"{text} {unit}" if isinstance(unit, str) and unit and fmt != "percent" else text


def _short(value: JSON, limit: int = MAX_CELL_CHARS) -> str:
    """A value in one short line: strings as they are, numbers formatted, anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        assert isinstance(value, int | float)
        return _plain(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: JSON) -> str:
    return _short(value).replace("|", "\\|")


def _cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n\n… ({len(text) - limit:,} more characters; {_WHOLE})"


def _more(shown: int, total: int, noun: str) -> str:
    return f"\n… and {total - shown:,} more {noun} ({total:,} in all; {_WHOLE})" if total > shown else ""


def _numbers(values: Iterable[JSON]) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float) and _is_number(v)]


def _span(values: Sequence[float]) -> str:
    if not values:
        return "no values"
    return f"min {_plain(min(values))}, max {_plain(max(values))}"


def _list(value: JSON) -> list[JSON]:
    return list(value) if isinstance(value, list | tuple) else []


def _dict(value: JSON) -> dict[str, JSON]:
    return value if isinstance(value, dict) else {}


def _bullets(lines: Iterable[str], total: int, noun: str) -> str:
    shown = list(lines)[:MAX_LIST_ITEMS]
    return "\n".join(f"- {line}" for line in shown) + _more(len(shown), total, noun)


def _heading(label: str, noun: str, extra: str = "") -> str:
    return f"**{label}** ({noun}{', ' + extra if extra else ''})"


# --- per type --------------------------------------------------------------------------------------------------


def _table(value: JSON, shown: dict[str, JSON]) -> str:
    table = _dict(value)
    rows = [r for r in _list(table.get("rows")) if isinstance(r, dict)]
    columns = [c for c in _list(table.get("columns") or shown.get("columns")) if isinstance(c, dict)]
    keys = [str(c.get("key")) for c in columns if c.get("key") is not None]
    labels = {str(c.get("key")): str(c.get("label") or c.get("key")) for c in columns}
    kinds = {str(c.get("key")): c.get("type") for c in columns}
    if not keys:
        keys = list(dict.fromkeys(k for row in rows[:MAX_TABLE_ROWS] for k in row))
    if not rows:
        return "no rows"
    hidden = keys[MAX_TABLE_COLUMNS:]
    keys = keys[:MAX_TABLE_COLUMNS]

    def cell(key: str, v: JSON) -> str:
        if kinds.get(key) == "currency" and _is_number(v):
            return format_number(v, "currency")
        return _cell(v)

    head = "| " + " | ".join(_cell(labels.get(k, k)) for k in keys) + " |"
    rule = "|" + "---|" * len(keys)
    body = ["| " + " | ".join(cell(k, row.get(k)) for k in keys) + " |" for row in rows[:MAX_TABLE_ROWS]]
    text = "\n".join([head, rule, *body]) + _more(min(len(rows), MAX_TABLE_ROWS), len(rows), "rows")
    if hidden:
        text += f"\nColumns not shown: {', '.join(hidden)}."
    return text


def _kv(value: JSON) -> str:
    pairs = _dict(_dict(value).get("pairs"))
    return _bullets((f"{k}: {_short(v)}" for k, v in pairs.items()), len(pairs), "pairs") or "no pairs"


def _log(value: JSON) -> str:
    lines = [line for line in _list(_dict(value).get("lines")) if isinstance(line, dict)]
    if not lines:
        return "no lines"
    tail = lines[-MAX_LIST_ITEMS:]
    out = []
    for line in tail:
        when = f"[{_short(line.get('t'))}] " if line.get("t") is not None else ""
        level = f"{line.get('level')}: " if line.get("level") else ""
        out.append(f"{when}{level}{_short(line.get('message'), MAX_TEXT_CHARS // MAX_LIST_ITEMS)}")
    earlier = f"(the last {len(tail)} of {len(lines):,} lines; {_WHOLE})\n" if len(lines) > len(tail) else ""
    return earlier + "```\n" + "\n".join(out) + "\n```"


def _diff(value: JSON) -> str:
    diff = _dict(value)
    before, after = str(diff.get("before") or ""), str(diff.get("after") or "")
    lines = list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile=str(diff.get("filename_before") or "before"),
            tofile=str(diff.get("filename_after") or "after"),
            lineterm="",
        )
    )
    if not lines:
        return "no differences"
    return "```diff\n" + "\n".join(lines[:MAX_DIFF_LINES]) + "\n```" + _more(MAX_DIFF_LINES, len(lines), "diff lines")


def _tree(value: JSON) -> str:
    out: list[str] = []
    total = 0

    def walk(node: JSON, depth: int) -> None:
        nonlocal total
        if not isinstance(node, dict):
            return
        total += 1
        if len(out) < MAX_TREE_NODES and depth < MAX_TREE_DEPTH:
            meta = f" ({_short(node['meta'])})" if node.get("meta") is not None else ""
            out.append(f"{'  ' * depth}- {_short(node.get('name'))}{meta}")
        for child in _list(node.get("children")):
            walk(child, depth + 1)

    walk(_dict(value).get("root"), 0)
    return "\n".join(out) + _more(len(out), total, "nodes (or deeper levels)")


def _timeline(value: JSON) -> str:
    events = [e for e in _list(_dict(value).get("events")) if isinstance(e, dict)]
    lines = (
        f"{_short(e.get('t'))}: {_short(e.get('title'))}"
        + (f" — {_short(e.get('description'))}" if e.get("description") else "")
        for e in events
    )
    return _bullets(lines, len(events), "events") or "no events"


def _gantt(value: JSON) -> str:
    tasks = [t for t in _list(_dict(value).get("tasks")) if isinstance(t, dict)]
    lines = (
        f"{_short(t.get('name'))}: {_short(t.get('start'))} → {_short(t.get('end'))}"
        + (f" ({_short(t.get('label'))})" if t.get("label") else "")
        for t in tasks
    )
    return _bullets(lines, len(tasks), "tasks") or "no tasks"


def _xy(value: JSON, shown: dict[str, JSON]) -> str:
    chart = _dict(value)
    x = _list(chart.get("x"))
    series = [s for s in _list(chart.get("series")) if isinstance(s, dict)]
    axes = ", ".join(f"{a}: {shown[k]}" for a, k in (("x", "x_label"), ("y", "y_label")) if shown.get(k))
    parts = [f"{len(x):,} points in {len(series)} series" + (f" ({axes})" if axes else "")]
    if len(x) <= SMALL_CHART_POINTS:
        parts.append(f"x: {', '.join(_short(v) for v in x)}")
        parts.extend(f"{_short(s.get('name'))}: {', '.join(_short(v) for v in _list(s.get('y')))}" for s in series)
    else:
        parts.append(f"x from {_short(x[0])} to {_short(x[-1])}")
        for s in series[:MAX_SERIES]:
            ys = _numbers(_list(s.get("y")))
            last = f", first {_plain(ys[0])}, last {_plain(ys[-1])}" if ys else ""
            parts.append(f"{_short(s.get('name'))}: {_span(ys)}{last}")
    return "\n".join(parts) + _more(min(len(series), MAX_SERIES), len(series), "series")


def _scatter(value: JSON) -> str:
    series = [s for s in _list(_dict(value).get("series")) if isinstance(s, dict)]
    lines = []
    for s in series[:MAX_SERIES]:
        points = [p for p in _list(s.get("points")) if isinstance(p, dict)]
        xs, ys = _numbers(p.get("x") for p in points), _numbers(p.get("y") for p in points)
        x_text = f"x {_span(xs)}" if xs else "x as labels"
        lines.append(f"{_short(s.get('name'))}: {len(points):,} points, {x_text}, y {_span(ys)}")
    return _bullets(lines, len(series), "series") or "no series"


def _pie(value: JSON) -> str:
    slices = [s for s in _list(_dict(value).get("slices")) if isinstance(s, dict)]
    total = sum(_numbers(s.get("value") for s in slices)) or 1.0
    ranked = sorted(slices, key=lambda s: -float(s["value"]) if _is_number(s.get("value")) else 0.0)
    lines = (
        f"{_short(s.get('label'))}: {_short(s.get('value'))} ({float(s['value']) / total:.1%})"
        for s in ranked
        if _is_number(s.get("value"))
    )
    return _bullets(lines, len(slices), "slices") or "no slices"


def _histogram(value: JSON) -> str:
    chart = _dict(value)
    values = _numbers(_list(chart.get("values")))
    if not values:
        return "no values"
    bins = chart.get("bins")
    bin_text = f", {bins} bins" if _is_number(bins) else f", {len(_list(bins)) - 1} bins" if _list(bins) else ""
    return f"{len(values):,} values, {_span(values)}, mean {_plain(statistics.fmean(values))}{bin_text}"


def _quartiles(values: list[float]) -> str:
    if len(values) < 2:
        return _span(values)
    q1, median, q3 = statistics.quantiles(values, n=4)
    low, high = _plain(min(values)), _plain(max(values))
    return f"min {low}, Q1 {_plain(q1)}, median {_plain(median)}, Q3 {_plain(q3)}, max {high}"


def _boxplot(value: JSON) -> str:
    series = [s for s in _list(_dict(value).get("series")) if isinstance(s, dict)]
    lines = (
        f"{_short(s.get('name'))}: {len(_list(s.get('values'))):,} values, "
        f"{_quartiles(_numbers(_list(s.get('values'))))}"
        for s in series
    )
    return _bullets(lines, len(series), "series") or "no series"


def _heatmap(value: JSON) -> str:
    chart = _dict(value)
    rows = [_list(r) for r in _list(chart.get("z"))]
    cells = _numbers(v for r in rows for v in r)
    width = len(rows[0]) if rows else 0
    text = f"{len(rows)} rows × {width} columns, {_span(cells)}"
    for axis, key in (("columns", "x_labels"), ("rows", "y_labels")):
        labels = _list(chart.get(key))
        if labels:
            text += f"\n{axis}: {', '.join(_short(v) for v in labels[:MAX_LIST_ITEMS])}"
            text += ", …" if len(labels) > MAX_LIST_ITEMS else ""
    return text


def _candlestick(value: JSON) -> str:
    points = [p for p in _list(_dict(value).get("points")) if isinstance(p, dict)]
    if not points:
        return "no points"
    highs, lows = _numbers(p.get("high") for p in points), _numbers(p.get("low") for p in points)
    first, last = points[0], points[-1]
    return (
        f"{len(points):,} points from {_short(first.get('t'))} to {_short(last.get('t'))}; "
        f"first open {_short(first.get('open'))}, last close {_short(last.get('close'))}, "
        f"highest {_plain(max(highs)) if highs else '-'}, lowest {_plain(min(lows)) if lows else '-'}"
    )


def _radar(value: JSON) -> str:
    chart = _dict(value)
    axes = [_short(a) for a in _list(chart.get("axes"))]
    series = [s for s in _list(chart.get("series")) if isinstance(s, dict)]
    lines = (
        f"{_short(s.get('name'))}: "
        + ", ".join(f"{a} {_short(v)}" for a, v in zip(axes, _list(s.get("values")), strict=False))
        for s in series
    )
    return _bullets(lines, len(series), "series") or "no series"


def _labels(nodes: list[JSON]) -> dict[str, str]:
    return {str(n.get("id")): _short(n.get("label") or n.get("id")) for n in nodes if isinstance(n, dict)}


def _graph(value: JSON, edges_key: str) -> str:
    graph = _dict(value)
    nodes = _list(graph.get("nodes"))
    names = _labels(nodes)
    edges = [e for e in _list(graph.get(edges_key)) if isinstance(e, dict)]
    if edges_key == "links":
        edges.sort(key=lambda e: -float(e["value"]) if _is_number(e.get("value")) else 0.0)
    head = f"{len(nodes):,} nodes, {len(edges):,} {edges_key}" + (", largest first:" if edges_key == "links" else ":")
    lines = (
        f"{names.get(str(e.get('source')), _short(e.get('source')))} → "
        f"{names.get(str(e.get('target')), _short(e.get('target')))}"
        + (f": {_short(e.get('value'))}" if e.get("value") is not None else "")
        for e in edges
    )
    return head + "\n" + (_bullets(lines, len(edges), edges_key) or "none")


def _treemap(value: JSON) -> str:
    nodes = [n for n in _list(_dict(value).get("nodes")) if isinstance(n, dict)]
    ranked = sorted(nodes, key=lambda n: -float(n["value"]) if _is_number(n.get("value")) else 0.0)
    lines = (f"{_short(n.get('label') or n.get('id'))}: {_short(n.get('value'))}" for n in ranked)
    return f"{len(nodes):,} nodes, largest first:\n" + (_bullets(lines, len(nodes), "nodes") or "none")


def _bounds(points: Iterable[tuple[float, float]]) -> str:
    pairs = list(points)
    if not pairs:
        return "no points"
    lats, lngs = [p[0] for p in pairs], [p[1] for p in pairs]
    return f"latitude {min(lats):g} to {max(lats):g}, longitude {min(lngs):g} to {max(lngs):g}"


def _map_points(value: JSON, output_type: str) -> str:
    points = [p for p in _list(_dict(value).get("points")) if isinstance(p, dict)]
    pairs = [
        (float(p["lat"]), float(p["lng"])) for p in points if _is_number(p.get("lat")) and _is_number(p.get("lng"))
    ]
    text = f"{len(points):,} points; {_bounds(pairs)}"
    if output_type == "map_route" and pairs:
        text += f"; from ({pairs[0][0]:g}, {pairs[0][1]:g}) to ({pairs[-1][0]:g}, {pairs[-1][1]:g})"
    labelled = [p for p in points if p.get("label") is not None]
    if labelled:
        lines = (f"{_short(p.get('label'))} ({_short(p.get('lat'))}, {_short(p.get('lng'))})" for p in labelled)
        text += "\n" + _bullets(lines, len(labelled), "labelled points")
    return text


def _polygons(value: JSON) -> str:
    polygons = [p for p in _list(_dict(value).get("polygons")) if isinstance(p, dict)]
    pairs = [
        (float(c[0]), float(c[1]))
        for p in polygons
        for c in _list(p.get("coords"))
        if isinstance(c, list | tuple) and len(c) == 2 and _is_number(c[0]) and _is_number(c[1])
    ]
    lines = (f"{_short(p.get('label') or 'area ' + str(n + 1))}: {len(_list(p.get('coords')))} points"
             for n, p in enumerate(polygons))  # fmt: skip
    return f"{len(polygons)} areas; {_bounds(pairs)}\n" + _bullets(lines, len(polygons), "areas")


def _choropleth(value: JSON) -> str:
    choropleth = _dict(value)
    features = _list(_dict(choropleth.get("geojson")).get("features"))
    values = _dict(choropleth.get("values"))
    numbers = _numbers(values.values())
    ranked = sorted(((k, float(v)) for k, v in values.items() if isinstance(v, int | float) and _is_number(v)),
                    key=lambda kv: -kv[1])  # fmt: skip
    text = f"{len(features):,} areas, {len(values):,} with values, {_span(numbers)}"
    return text + "\nHighest:\n" + _bullets((f"{k}: {_short(v)}" for k, v in ranked), len(ranked), "values")


def _scalar(output_type: str, value: JSON, shown: dict[str, JSON]) -> str:
    if output_type == "number":
        return format_number(value, shown.get("format"), shown.get("precision"), shown.get("unit"))
    if output_type == "boolean":
        if not isinstance(value, bool):
            return _short(value)
        label = shown.get("true_label") if value else shown.get("false_label")
        return str(label) if isinstance(label, str) and label else ("yes" if value else "no")
    if output_type == "progress":
        if not _is_number(value):
            return "in progress (no fraction known)"
        assert isinstance(value, int | float)
        percent = value * 100 if value <= 1 else value
        text = f"{percent:.0f}%"
        return f"{text}, {shown['label']}" if isinstance(shown.get("label"), str) else text
    return _short(value)


_BLOCKS: dict[str, Callable[[JSON, dict[str, JSON]], str]] = {
    "table": _table,
    "kv": lambda v, _s: _kv(v),
    "log": lambda v, _s: _log(v),
    "diff": lambda v, _s: _diff(v),
    "tree": lambda v, _s: _tree(v),
    "timeline": lambda v, _s: _timeline(v),
    "gantt": lambda v, _s: _gantt(v),
    "chart_line": _xy,
    "chart_area": _xy,
    "chart_bar": _xy,
    "chart_scatter": lambda v, _s: _scatter(v),
    "chart_pie": lambda v, _s: _pie(v),
    "chart_histogram": lambda v, _s: _histogram(v),
    "chart_boxplot": lambda v, _s: _boxplot(v),
    "chart_heatmap": lambda v, _s: _heatmap(v),
    "chart_candlestick": lambda v, _s: _candlestick(v),
    "chart_radar": lambda v, _s: _radar(v),
    "chart_sankey": lambda v, _s: _graph(v, "links"),
    "chart_treemap": lambda v, _s: _treemap(v),
    "chart_network": lambda v, _s: _graph(v, "edges"),
    "map_points": lambda v, _s: _map_points(v, "map_points"),
    "map_heatmap": lambda v, _s: _map_points(v, "map_heatmap"),
    "map_route": lambda v, _s: _map_points(v, "map_route"),
    "map_polygons": lambda v, _s: _polygons(v),
    "map_choropleth": lambda v, _s: _choropleth(v),
}

#: Text types shown as they are (cut at MAX_TEXT_CHARS), and how each is fenced.
_TEXTS: dict[str, Callable[[str, dict[str, JSON]], str]] = {
    "text": lambda t, _s: t,
    "markdown": lambda t, _s: t,
    "stream_text": lambda t, _s: t,
    "latex": lambda t, _s: f"$$\n{t}\n$$",
    "code": lambda t, s: f"```{s.get('language') or ''}\n{t}\n```",
}


def summarise(spec: OutputSpec, value: JSON) -> str:
    """The output as markdown for the context: ``**Label**: value`` for scalars, a heading and a block otherwise."""
    output_type = spec.type
    shown = presentation(spec, value)
    label = spec.label
    caption = f"\n{shown['caption']}" if isinstance(shown.get("caption"), str) else ""
    if output_type in _TEXTS:
        inner, _ = unwrap_scalar(value)
        text = inner if isinstance(inner, str) else _short(inner)
        if not text:
            return f"**{label}**: (empty)"
        body = _TEXTS[output_type](_cut(text), shown)
        if "\n" in body or len(body) > MAX_CELL_CHARS:
            return f"**{label}**:\n{body}{caption}"
        return f"**{label}**: {body}{caption}"
    if output_type in ("number", "boolean", "progress"):
        inner, _ = unwrap_scalar(value)
        return f"**{label}**: {_scalar(output_type, inner, shown)}{caption}"
    block = _BLOCKS.get(output_type)
    if block is not None:
        canonical = normalise_output(output_type, value)
        return f"{_heading(label, OUTPUT_NOUNS[output_type])}\n{block(canonical, shown)}{caption}"
    return f"{_heading(label, OUTPUT_NOUNS.get(output_type, output_type))}{caption}"


def describe_event(spec: OutputSpec | None, value: JSON) -> str:
    """One stream event in a line, for a progress message: the text that came, the new points, the progress."""
    if spec is None:
        return _short(value, MAX_EVENT_CHARS)
    label, output_type = spec.label, spec.type
    inner, _ = unwrap_scalar(value)
    if output_type in ("number", "boolean", "progress"):
        return f"{label}: {_scalar(output_type, inner, presentation(spec, value))}"
    if output_type in _TEXTS:
        return f"{label}: {_short(inner, MAX_EVENT_CHARS)}"
    if output_type == "log":
        lines = [line for line in _list(_dict(value).get("lines")) if isinstance(line, dict)]
        return f"{label}: {_short(lines[-1].get('message'), MAX_EVENT_CHARS)}" if lines else f"{label}: updated"
    if output_type in ("chart_line", "chart_area", "chart_bar"):
        chart = _dict(value)
        x = _list(chart.get("x"))
        ys = ", ".join(
            f"{_short(s.get('name'))} {' '.join(_short(v) for v in _list(s.get('y')))}"
            for s in _list(chart.get("series"))
            if isinstance(s, dict)
        )
        points = f"+{len(x)} point{'s' if len(x) != 1 else ''}"
        return _short(f"{label}: {points} (x {' '.join(_short(v) for v in x)}: {ys})", MAX_EVENT_CHARS)
    return f"{label}: updated"
