"""The 39 comparators of check 12 (pixie_validate.reference.compare): equal passes, a difference within tolerance
passes, one outside fails with a clear path, and odd values never raise."""

from __future__ import annotations

import base64
import copy
import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pixie_sdk.output_specs import OUTPUT_TYPES
from pixie_validate.reference import compare as compare_module
from pixie_validate.reference.compare import COMPARATORS, MediaRoots, comparator_label, compare_output
from pixie_validate.reference.tolerance import MODES, Tolerance, default_tolerance

PNG_A = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR42mNgAAIAAAUAAen63NgAAAAASUVORK5CYII=")
PNG_B = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


IMAGE_A, IMAGE_B = data_url(PNG_A, "image/png"), data_url(PNG_B, "image/png")
#: How two different images are reported: by pixels with Pillow, else by the bytes' hashes.
IMAGES_DIFFER = "pixels differ" if compare_module.pillow_available() else "bytes differ"
CSV = b"item,price\nBread,1.5\nJam,3.25\n"

#: One canonical value of every output type.
SAMPLES: dict[str, Any] = {
    "text": "Hello, Pixie!",
    "markdown": "A **bold** claim.\n\n- one\n- two",
    "latex": r"E = m c^2",
    "code": "def f():\n    return 1\n",
    "stream_text": "Once upon a time",
    "number": 36.75,
    "boolean": True,
    "progress": 0.5,
    "image": IMAGE_A,
    "audio": data_url(b"RIFF....WAVEfmt ", "audio/wav"),
    "video": "https://example.org/clip.mp4",
    "table": {
        "columns": [{"key": "item", "label": "Item"}, {"key": "price", "label": "Price"}],
        "rows": [{"item": "Bread", "price": 1.5}, {"item": "Jam", "price": 3.25}],
    },
    "kv": {"pairs": {"name": "Pixie", "weight": 70.5, "ok": True}},
    "log": {"lines": [{"t": 1.5, "level": "info", "message": "started"}, {"level": "warn", "message": "slow"}]},
    "diff": {"before": "a\nb\n", "after": "a\nc\n", "filename_before": "x.txt", "filename_after": "x.txt"},
    "tree": {
        "root": {
            "name": "root",
            "meta": {"count": 3.5},
            "children": [{"name": "a"}, {"name": "b", "children": [{"name": "c", "meta": {"size": 2.5}}]}],
        }
    },
    "timeline": {"events": [{"t": 1.5, "title": "Start"}, {"t": "2024-03-01", "title": "End", "description": "done"}]},
    "gantt": {"tasks": [{"name": "Build", "start": 1.5, "end": 4.5}, {"name": "Ship", "start": 4.5, "end": 6.5}]},
    "chart_line": {
        "x": [1, 2, 3],
        "series": [{"name": "A", "y": [1.5, 2.5, 3.5]}, {"name": "B", "y": [4.5, 5.5, 6.5]}],
    },
    "chart_area": {"x": [1, 2], "series": [{"name": "A", "y": [1.5, 2.5]}]},
    "chart_bar": {"x": ["p", "q"], "series": [{"name": "A", "y": [1.5, 2.5]}]},
    "chart_scatter": {"series": [{"name": "S", "points": [{"x": 1.5, "y": 2.5, "label": "p"}, {"x": 3.5, "y": 4.5}]}]},
    "chart_pie": {"slices": [{"label": "a", "value": 1.5}, {"label": "b", "value": 2.5}], "donut": True},
    "chart_histogram": {"values": [1.5, 2.5, 9.5], "bins": 3},
    "chart_boxplot": {"series": [{"name": "B", "values": [1.5, 2.5, 3.5, 4.5]}]},
    "chart_heatmap": {"z": [[1.5, 2.5], [3.5, 4.5]], "x_labels": ["a", "b"], "y_labels": ["c", "d"]},
    "chart_candlestick": {"points": [{"t": "2024-01-01", "open": 100.5, "high": 105.5, "low": 98.5, "close": 103.5}]},
    "chart_radar": {"axes": ["x", "y", "z"], "series": [{"name": "R", "values": [1.5, 2.5, 3.5]}]},
    "chart_sankey": {
        "nodes": [{"id": "a", "label": "A"}, {"id": "b"}, {"id": "c"}],
        "links": [{"source": "a", "target": "b", "value": 1.5}, {"source": "a", "target": "c", "value": 2.5}],
    },
    "chart_treemap": {"nodes": [{"id": "root", "value": 4.5}, {"id": "leaf", "parent": "root", "value": 4.5}]},
    "chart_network": {"nodes": [{"id": 1}, {"id": 2}, {"id": 3}], "edges": [{"source": 1, "target": 2}]},
    "map_points": {"points": [{"lat": 51.5074, "lng": -0.1278, "label": "London"}, {"lat": 48.8566, "lng": 2.3522}]},
    "map_heatmap": {"points": [{"lat": 51.5, "lng": -0.12, "weight": 2.5}]},
    "map_route": {"points": [{"lat": 51.5, "lng": -0.12}, {"lat": 51.6, "lng": -0.13}]},
    "map_polygons": {"polygons": [{"coords": [[51.5, -0.14], [51.52, -0.12], [51.5, -0.1]], "label": "Zone"}]},
    "map_choropleth": {"geojson": {"type": "FeatureCollection", "features": []}, "values": {"zone": 4.5, "area": 1.5}},
    "image_grid": {"images": [IMAGE_A, {"value": IMAGE_B}]},
    "image_compare": {"before": IMAGE_A, "after": IMAGE_B, "before_label": "old"},
    "file": {"filename": "order.csv", "data": data_url(CSV, "text/csv"), "mime_type": "text/csv"},
}

#: Where a number sits in each sample, and the path a difference there must name.
NUMBERS: dict[str, tuple[tuple[Any, ...], str]] = {
    "number": ((), ""),
    "table": (("rows", 1, "price"), "rows[1].price"),
    "kv": (("pairs", "weight"), "pairs.weight"),
    "log": (("lines", 0, "t"), "lines[0].t"),
    "tree": (("root", "children", 1, "children", 0, "meta", "size"), 'root.children["b"].children["c"].meta.size'),
    "timeline": (("events", 0, "t"), "events[0].t"),
    "gantt": (("tasks", 1, "end"), "tasks[1].end"),
    "chart_line": (("series", 1, "y", 2), 'series["B"].y[2]'),
    "chart_area": (("series", 0, "y", 0), 'series["A"].y[0]'),
    "chart_bar": (("series", 0, "y", 1), 'series["A"].y[1]'),
    "chart_scatter": (("series", 0, "points", 1, "y"), 'series["S"].points[1].y'),
    "chart_pie": (("slices", 1, "value"), 'slices["b"].value'),
    "chart_histogram": (("values", 2), "values[2]"),
    "chart_boxplot": (("series", 0, "values", 3), 'series["B"].values[3]'),
    "chart_heatmap": (("z", 1, 0), "z[1][0]"),
    "chart_candlestick": (("points", 0, "close"), "points[0].close"),
    "chart_radar": (("series", 0, "values", 1), 'series["R"].values[1]'),
    "chart_sankey": (("links", 1, "value"), 'links["a" → "c"].value'),
    "chart_treemap": (("nodes", 1, "value"), 'nodes["leaf"].value'),
    "map_points": (("points", 1, "lat"), "points[1].lat"),
    "map_heatmap": (("points", 0, "weight"), "points[0].weight"),
    "map_route": (("points", 1, "lng"), "points[1].lng"),
    "map_polygons": (("polygons", 0, "coords", 2, 1), "polygons[0].coords[2][1]"),
    "map_choropleth": (("values", "zone"), "values.zone"),
}

#: For types without a number to nudge: another value that must differ, and what the difference must say.
DIFFERENT: dict[str, tuple[Any, str]] = {
    "text": ("Hello, Pixie?", 'expected "Hello, Pixie!", got "Hello, Pixie?"'),
    "markdown": ("A **bold** claim.\n\n- one\n- three", "whitespace normalised"),
    "latex": (r"E = m c^3", "expected"),
    "code": ("def f():\n    return 2\n", "line 2, column 12"),
    "stream_text": ("Once upon a tide", 'expected "Once upon a time"'),
    "boolean": (False, "expected true, got false"),
    "progress": (0.75, "expected 0.5, got 0.75"),
    "image": (IMAGE_B, IMAGES_DIFFER),
    "audio": (data_url(b"RIFF....WAVEfmt!", "audio/wav"), "bytes differ: expected 16 bytes"),
    "video": ("https://example.org/other.mp4", "the URL"),
    "diff": ({"before": "a\nb\n", "after": "a\nd\n"}, "after: expected"),
    "chart_network": (
        {"nodes": [{"id": 1}, {"id": 2}, {"id": 3}], "edges": [{"source": 2, "target": 3}]},
        "edges[1 → 2]: missing",
    ),
    "image_grid": ({"images": [IMAGE_A, IMAGE_A]}, f"images[1]: {IMAGES_DIFFER}"),
    "image_compare": ({"before": IMAGE_A, "after": IMAGE_A}, f"after: {IMAGES_DIFFER}"),
    "file": (
        {
            "filename": "order.csv",
            "data": data_url(b"item,price\nBread,1.5\nJam,3.5\n", "text/csv"),
            "mime_type": "text/csv",
        },
        "data[2][1]: expected 3.25, got 3.5",
    ),
}

#: Modes that make a type compare what it skips by default.
COMPARE_MODE = {"progress": "numeric", "video": "sha256"}

GARBAGE: list[Any] = [
    None, 0, -1.5, math.nan, math.inf, 10**400, True, "", "x", "re:(", "data:", "data:image/png;base64,@@@",
    "https://x", [], [None], [1, [2, [3]]], {}, {"value": None}, {"value": {"value": 1}}, {"a": 1},
    {"rows": "x"}, {"rows": [[1], None, {"a": []}]}, {"columns": [None, {"key": []}, "a"], "rows": [[1, 2]]},
    {"pairs": [[1, 2], [3]]}, {"pairs": 5}, {"x": "x", "series": [1, None, {"name": [], "y": {}}]},
    {"series": [{"name": "a"}, {"name": "a"}]}, {"points": [None, {"lat": 0}, [0, "x"], {"lat": "n", "lng": {}}]},
    {"nodes": [{"id": []}, {"id": 1, "parent": {}}, None], "links": [{}, None], "edges": 3},
    {"root": {"children": "x"}}, {"root": {"name": 1, "children": [None, {"name": {}}, {"name": {}}]}},
    {"artefact": "../x"}, {"artefact": "/etc/passwd"}, {"artefact": "x.png"}, {"lines": [3, None, {"message": "re:("}]},
    {"slices": [{"label": []}, 1]}, {"images": [{}, 1, {"artefact": 2}]}, {"before": 1}, {"data": 5, "mime_type": 3},
    {"data": "bm90IGpzb24=", "mime_type": "application/json"}, {"data": "////", "mime_type": "text/csv"},
    {"z": [[1], "x", None, [[]]]}, {"values": {"a": "b", "c": None}}, {"polygons": [{"coords": 3}, None, {}]},
    {"events": {}}, {"tasks": [[]]}, {"axes": None, "series": None}, {"geojson": 1, "values": []},
    object(), (1, 2), {1: 2}, float("-nan"),
]  # fmt: skip


def set_at(value: Any, path: tuple[Any, ...], change: Callable[[Any], Any]) -> Any:
    """A copy of ``value`` with the item at ``path`` replaced by ``change(item)``."""
    if not path:
        return change(value)
    copied = copy.deepcopy(value)
    holder = copied
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = change(holder[path[-1]])
    return copied


def tol_for(output_type: str) -> Tolerance:
    return Tolerance(compare=COMPARE_MODE.get(output_type, default_tolerance(output_type).compare))


def test_every_output_type_has_a_sample_and_a_case() -> None:
    assert set(SAMPLES) == set(OUTPUT_TYPES) == set(COMPARATORS)
    assert set(NUMBERS) | set(DIFFERENT) == set(OUTPUT_TYPES)


@pytest.mark.parametrize("output_type", OUTPUT_TYPES)
def test_equal_values_match(output_type: str) -> None:
    value = SAMPLES[output_type]
    result = compare_output(output_type, value, copy.deepcopy(value), tol_for(output_type))
    assert result.differences == []
    assert not result.skipped


@pytest.mark.parametrize("output_type", sorted(NUMBERS))
def test_a_number_within_tolerance_matches(output_type: str) -> None:
    path, _ = NUMBERS[output_type]
    value = SAMPLES[output_type]
    nudged = set_at(value, path, lambda n: n * (1 + 1e-8))
    assert COMPARATORS[output_type](value, nudged, None, None) == []


@pytest.mark.parametrize("output_type", sorted(NUMBERS))
def test_a_number_outside_tolerance_fails_naming_its_path(output_type: str) -> None:
    path, where = NUMBERS[output_type]
    value = SAMPLES[output_type]
    moved = set_at(value, path, lambda n: n + 0.5)
    differences = COMPARATORS[output_type](value, moved, None, None)
    assert len(differences) == 1, differences
    assert differences[0].startswith(f"{where}: expected " if where else "expected "), differences
    assert "(off by 0.5; rtol 1e-06, atol 1e-09)" in differences[0]


@pytest.mark.parametrize("output_type", sorted(DIFFERENT))
def test_a_different_value_fails_with_a_clear_message(output_type: str) -> None:
    other, says = DIFFERENT[output_type]
    differences = COMPARATORS[output_type](SAMPLES[output_type], other, tol_for(output_type), None)
    assert differences, output_type
    assert any(says in d for d in differences), differences


@pytest.mark.parametrize("output_type", OUTPUT_TYPES)
def test_garbage_never_raises(output_type: str) -> None:
    sample = SAMPLES[output_type]
    values = [*GARBAGE, sample]
    for mode in MODES[output_type]:
        tolerance = Tolerance(compare=mode)
        for expected, actual in itertools.product(values, repeat=2):
            differences = compare_output(output_type, expected, actual, tolerance).differences
            assert all(isinstance(d, str) for d in differences)
            # Every odd value is met by a rule, not by the safety net.
            assert not any("could not be compared" in d for d in differences), (expected, actual, differences)


def test_a_comparator_bug_becomes_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(expected: Any, actual: Any, ctx: Any) -> None:
        raise KeyError("boom")

    monkeypatch.setitem(compare_module._COMPARE, "number", broken)
    result = compare_output("number", 1, 1)
    assert result.differences == ["could not be compared (KeyError: 'boom')"]


def test_differences_are_capped() -> None:
    expected = {"x": list(range(50)), "series": [{"name": "A", "y": [1.0] * 50}]}
    actual = {"x": list(range(50)), "series": [{"name": "A", "y": [2.0] * 50}]}
    differences = COMPARATORS["chart_line"](expected, actual, None, None)
    assert len(differences) == compare_module.MAX_DIFFERENCES + 1
    assert differences[-1] == "... and 30 more"


def test_unknown_type_is_a_difference() -> None:
    assert compare_output("hologram", 1, 1).differences == ["unknown output type `hologram`"]


# --- numbers and scalars ---------------------------------------------------------------------------------------


def test_nan_never_equals_anything() -> None:
    assert compare_output("number", math.nan, math.nan).differences
    assert compare_output("number", 1.0, math.nan).differences
    assert compare_output("number", math.inf, math.inf).differences == []


def test_number_tolerances_follow_isclose() -> None:
    loose = Tolerance(compare="numeric", rtol=0.0, atol=0.01)
    assert compare_output("number", 1.0, 1.009, loose).differences == []
    assert compare_output("number", 1.0, 1.02, loose).differences
    assert compare_output("number", 0.0, 1e-10).differences == []  # the default atol 1e-9
    exact = Tolerance(compare="exact")
    assert compare_output("number", 1.0, 1.0 + 1e-12, exact).differences
    assert "exact" in compare_output("number", 1.0, 2.0, exact).comparator


def test_numbers_unwrap_value_and_reject_booleans() -> None:
    assert compare_output("number", {"value": 2.5, "format": "currency"}, 2.5).differences == []
    assert compare_output("number", 1, True).differences == ["expected the number 1, got a boolean true"]
    assert compare_output("number", "1", 1).differences == ['the expected value is not a number: "1"']


def test_booleans_compare_strictly() -> None:
    assert compare_output("boolean", True, {"value": True}).differences == []
    assert compare_output("boolean", True, 1).differences == [
        "expected true, got a number 1 (booleans compare strictly)"
    ]


def test_text_is_exact_and_markdown_latex_ignore_whitespace() -> None:
    assert compare_output("text", "a  b", "a b").differences
    assert compare_output("markdown", "a  b\n\n", " a b").differences == []
    assert compare_output("latex", r"a\,b", "a b").differences == []
    assert compare_output("code", {"value": "x = 1", "language": "python"}, "x = 1").differences == []
    exact = Tolerance(compare="exact")
    assert compare_output("markdown", "a  b", "a b", exact).differences


def test_text_as_json_compares_numbers_with_tolerance() -> None:
    as_json = Tolerance(compare="json", atol=0.01)
    assert compare_output("text", '{"a": 1.0, "b": [1]}', '{"b": [1], "a": 1.005}', as_json).differences == []
    assert compare_output("text", '{"a": 1}', '{"a": 2}', as_json).differences[0].startswith("a: expected 1, got 2")


def test_long_text_names_the_first_difference() -> None:
    expected = "line one\nline two is long enough to need a snippet of itself\n"
    actual = expected.replace("snippet", "snip")
    [difference] = compare_output("text", expected, actual).differences
    assert difference.startswith("differs at line 2, column 39:")
    assert "61 vs 58 characters" in difference


def test_progress_and_video_are_skipped_by_default() -> None:
    for output_type in ("progress", "video"):
        result = compare_output(output_type, SAMPLES[output_type], "garbage")
        assert result.skipped and result.differences == [] and result.comparator == f"{output_type} (skipped)"
    numeric = Tolerance(compare="numeric")
    assert compare_output("progress", None, None, numeric).differences == []
    assert compare_output("progress", None, 0.5, numeric).differences


def test_compare_skip_is_never_a_failure() -> None:
    skip = Tolerance(compare="skip")
    for output_type in OUTPUT_TYPES:
        assert compare_output(output_type, SAMPLES[output_type], None, skip).skipped


# --- structured types ------------------------------------------------------------------------------------------


def test_kv_with_or_without_pairs_and_allow_extra() -> None:
    canonical = {"pairs": {"a": 1.0, "b": "x"}}
    assert compare_output("kv", {"a": 1, "b": "x"}, canonical).differences == []
    assert compare_output("kv", [{"key": "a", "value": 1}, ["b", "x"]], canonical).differences == []
    extra = {"pairs": {"a": 1.0, "b": "x", "c": 3}}
    assert compare_output("kv", {"a": 1, "b": "x"}, extra).differences == [
        "pairs.c: not expected (got 3; `allow_extra: true` allows it)"
    ]
    allow = Tolerance(compare="pairs", allow_extra=True)
    assert compare_output("kv", {"a": 1, "b": "x"}, extra, allow).differences == []
    assert compare_output("kv", {"a": 1, "z": 2}, canonical, allow).differences == ["pairs.z: missing (expected 2)"]


def test_table_positional_rows_columns_and_order() -> None:
    columns = [{"key": "item"}, {"key": "price"}]
    positional = {"columns": ["item", "price"], "rows": [["Bread", 1.5], ["Jam", 3.25]]}
    assert compare_output("table", positional, SAMPLES["table"]).differences == []
    renamed = {"columns": [{"key": "item"}, {"key": "cost"}], "rows": SAMPLES["table"]["rows"]}
    assert compare_output("table", SAMPLES["table"], renamed).differences == [
        'columns: expected the keys ["item", "price"], got ["item", "cost"]'
    ]
    swapped = {"columns": columns, "rows": list(reversed(SAMPLES["table"]["rows"]))}
    assert compare_output("table", SAMPLES["table"], swapped).differences
    unordered = Tolerance(compare="rows_unordered")
    assert compare_output("table", SAMPLES["table"], swapped, unordered).differences == []
    shorter = {"columns": columns, "rows": SAMPLES["table"]["rows"][:1]}
    assert compare_output("table", SAMPLES["table"], shorter).differences == ["rows: expected 2 rows, got 1"]
    assert compare_output("table", [{"a": 1}], {"rows": [{"a": 1, "b": 2}]}).differences == [
        "rows[0].b: not expected (got 2)"
    ]


def test_tree_children_match_by_name_in_any_order() -> None:
    expected = {"root": {"name": "r", "children": [{"name": "a"}, {"name": "b", "meta": {"n": 1}}]}}
    reordered = {"root": {"name": "r", "children": [{"name": "b", "meta": {"n": 1}}, {"name": "a"}]}}
    assert compare_output("tree", expected, reordered).differences == []
    assert compare_output("tree", expected["root"], reordered).differences == []  # a bare node is a tree too
    ordered = Tolerance(compare="structural", children_order="ordered")
    assert compare_output("tree", expected, reordered, ordered).differences
    renamed = {"root": {"name": "r", "children": [{"name": "a"}, {"name": "c"}]}}
    assert compare_output("tree", expected, renamed).differences == [
        'root.children["b"]: missing',
        'root.children["c"]: not expected',
    ]


def test_log_lines_in_order_with_regex_messages() -> None:
    expected = {"lines": [{"level": "info", "message": r"re:took \d+ ms"}, "done"]}
    actual = {"lines": [{"t": 9, "level": "info", "message": "took 12 ms"}, {"message": "done"}]}
    assert compare_output("log", expected, actual).differences == []
    late = {"lines": [{"level": "info", "message": "took long"}, {"message": "done"}]}
    assert compare_output("log", expected, late).differences == [
        r'lines[0].message: "took long" does not match the pattern "took \\d+ ms"'
    ]
    literal = Tolerance(compare="rows_ordered", allow_regex=False)
    assert compare_output("log", expected, actual, literal).differences
    bad = {"lines": [{"message": "re:("}]}
    assert "is not a valid regex" in compare_output("log", bad, {"lines": [{"message": "x"}]}).differences[0]


def test_series_match_by_name_then_by_index() -> None:
    expected = SAMPLES["chart_line"]
    swapped = {"x": [1, 2, 3], "series": list(reversed(expected["series"]))}
    assert compare_output("chart_line", expected, swapped).differences == []
    by_index = Tolerance(compare="data", series_match="by_index")
    assert compare_output("chart_line", expected, swapped, by_index).differences
    renamed = {"x": [1, 2, 3], "series": [expected["series"][0], {"name": "C", "y": [4.5, 5.5, 6.5]}]}
    assert compare_output("chart_line", expected, renamed).differences == [
        'series["B"]: missing',
        'series["C"]: not expected',
    ]
    assert compare_output("chart_line", expected, {**expected, "x": [1, 2]}).differences == [
        "x: expected 3 values, got 2"
    ]


def test_chart_presentation_keys_are_not_compared() -> None:
    expected = SAMPLES["chart_scatter"]
    dressed = copy.deepcopy(expected)
    dressed["x_label"] = "speed"
    dressed["series"][0]["points"][0]["colour"] = "#ff0000"
    assert compare_output("chart_scatter", expected, dressed).differences == []


def test_pie_slices_by_label_and_histogram_values_in_any_order() -> None:
    pie = SAMPLES["chart_pie"]
    assert compare_output("chart_pie", pie, {"slices": list(reversed(pie["slices"]))}).differences == []
    assert compare_output("chart_histogram", {"values": [3, 1, 2]}, {"values": [1, 2, 3]}).differences == []


def test_boxplot_summary_mode() -> None:
    summary = Tolerance(compare="series_summary")
    expected = {"series": [{"name": "B", "values": [1, 2, 3, 4, 5]}]}
    same_stats = {"series": [{"name": "B", "values": [5, 4, 3, 2, 1]}]}
    assert compare_output("chart_boxplot", expected, same_stats, summary).differences == []
    moved = {"series": [{"name": "B", "values": [1, 2, 3, 4, 6]}]}
    assert compare_output("chart_boxplot", expected, moved, summary).differences[0].startswith('series["B"].max:')


def test_heatmap_shape_and_label_aliases() -> None:
    expected = SAMPLES["chart_heatmap"]
    with_xy = {"z": expected["z"], "x": ["a", "b"], "y": ["c", "d"]}
    assert compare_output("chart_heatmap", expected, with_xy).differences == []
    assert compare_output(
        "chart_heatmap", expected, {"z": [[1.5, 2.5]], "x_labels": ["a", "b"], "y_labels": ["c", "d"]}
    ).differences == ["z: expected 2 rows, got 1"]


def test_graph_node_sets_and_links() -> None:
    expected = SAMPLES["chart_sankey"]
    missing = {"nodes": expected["nodes"][:2], "links": expected["links"][:1]}
    assert compare_output("chart_sankey", expected, missing).differences == [
        'nodes: missing the ids ["c"]',
        'links["a" → "c"]: missing',
    ]
    reordered = {"nodes": list(reversed(expected["nodes"])), "links": list(reversed(expected["links"]))}
    assert compare_output("chart_sankey", expected, reordered).differences == []
    treemap = {"nodes": [{"id": "root", "parent": "", "value": 4.5}, {"id": "leaf", "parent": "root", "value": 4.5}]}
    assert compare_output("chart_treemap", SAMPLES["chart_treemap"], treemap).differences == []


def test_latitude_zero_is_a_value() -> None:
    equator = {"points": [{"lat": 0, "lng": 0}]}
    assert compare_output("map_points", equator, {"points": [{"lat": 0.0, "lng": 0.0}]}).differences == []
    assert compare_output("map_points", equator, {"points": [{"lat": 0.5, "lng": 0}]}).differences == [
        "points[0].lat: expected 0, got 0.5 (off by 0.5; rtol 1e-06, atol 1e-09)"
    ]
    assert compare_output("map_points", equator, {"points": [{"lng": 0}]}).differences == [
        'points[0]: expected a point with lat and lng, got {"lng": 0}'
    ]
    other_names = {"points": [{"latitude": 0, "longitude": 0}]}
    assert compare_output("map_points", equator, other_names).differences == []


def test_map_points_in_any_order_and_rounded() -> None:
    expected = SAMPLES["map_points"]
    reversed_points = {"points": list(reversed(expected["points"]))}
    assert compare_output("map_points", expected, reversed_points).differences
    unordered = Tolerance(compare="unordered")
    assert compare_output("map_points", expected, reversed_points, unordered).differences == []
    rounded = Tolerance(compare="ordered", round_digits=2, rtol=0, atol=0)
    nearby = {"points": [{"lat": 51.5071, "lng": -0.1279, "label": "London"}, {"lat": 48.8571, "lng": 2.3519}]}
    assert compare_output("map_points", expected, nearby, rounded).differences == []


def test_choropleth_compares_values_only() -> None:
    expected = SAMPLES["map_choropleth"]
    other_shapes = {
        "geojson": {"type": "FeatureCollection", "features": [{"id": "zone"}]},
        "values": expected["values"],
    }
    assert compare_output("map_choropleth", expected, other_shapes).differences == []
    assert compare_output("map_choropleth", expected, {"geojson": {}, "values": {"zone": 4.5}}).differences == [
        "values.area: missing (expected 1.5)"
    ]


# --- media and files -------------------------------------------------------------------------------------------


def test_images_compare_decoded_bytes_not_their_spelling() -> None:
    wrapped = {"value": IMAGE_A, "alt": "a dot"}
    assert compare_output("image", IMAGE_A, wrapped).differences == []
    assert compare_output("image", IMAGE_A, "not an image").differences == [
        'expected a data URL (image/png, 68 bytes), got the string "not an image" '
        "(not a data URL, an http(s) URL or an artefact reference)"
    ]


def test_artefact_references_are_read_from_their_folders(tmp_path: Path) -> None:
    reference, run = tmp_path / "reference", tmp_path / "run"
    (reference / "artefacts").mkdir(parents=True)
    (run / "charts").mkdir(parents=True)
    (reference / "artefacts" / "a.png").write_bytes(PNG_A)
    (run / "charts" / "a.png").write_bytes(PNG_A)
    media = MediaRoots(expected=reference, actual=run)
    expected = {"artefact": "artefacts/a.png", "mime_type": "image/png"}
    actual = {"artefact": "charts/a.png", "mime_type": "image/png"}
    assert compare_output("image", expected, actual, media=media).differences == []
    assert compare_output("image", IMAGE_A, actual, media=media).differences == []
    (run / "charts" / "a.png").write_bytes(PNG_B)
    assert compare_output("image", expected, actual, media=media).differences[0].startswith(IMAGES_DIFFER)
    missing = compare_output("image", expected, {"artefact": "nope.png"}, media=media).differences
    assert missing and "the artefact `nope.png` (unreadable" in missing[0]
    escape = compare_output("image", expected, {"artefact": "../reference/artefacts/a.png"}, media=media)
    assert escape.differences and "malformed artefact reference" in escape.differences[0]


def test_file_mime_type_and_content() -> None:
    expected = SAMPLES["file"]
    as_mime = {"filename": "other-name.csv", "data": base64.b64encode(CSV).decode(), "mime": "text/csv"}
    assert compare_output("file", expected, as_mime).differences == []
    assert compare_output("file", expected, {**expected, "mime_type": "text/plain"}).differences == [
        'mime_type: expected "text/csv", got "text/plain"'
    ]
    close = {**expected, "data": data_url(b"item,price\nBread,1.5000000001\nJam,3.25\n", "text/csv")}
    assert compare_output("file", expected, close).differences == []
    as_bytes = Tolerance(compare="sha256")
    assert compare_output("file", expected, close, as_bytes).differences[0].startswith("data: bytes differ")
    json_file = {
        "filename": "a.json",
        "data": data_url(b'{"a": 1.0}', "application/json"),
        "mime_type": "application/json",
    }
    near = {**json_file, "data": data_url(b'{"a": 1.0000000001}', "application/json")}
    assert compare_output("file", json_file, near).differences == []


def test_audio_compares_by_hash() -> None:
    assert compare_output("audio", SAMPLES["audio"], {"value": SAMPLES["audio"]}).differences == []


def test_labels_say_how_images_were_compared() -> None:
    label = comparator_label("image", default_tolerance("image"))
    if compare_module.pillow_available():
        assert label == "image (size and pixels)"
    else:
        assert label == "image (SHA-256 of the bytes; Pillow is not installed)"
    assert comparator_label("number", default_tolerance("number")) == "number (rtol 1e-06, atol 1e-09)"
    assert comparator_label("text", default_tolerance("text")) == "text (exact)"


def test_pixels_with_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    image = pytest.importorskip("PIL.Image")
    import io

    def png(colour: tuple[int, int, int], size: tuple[int, int] = (4, 4)) -> str:
        buffer = io.BytesIO()
        image.new("RGB", size, colour).save(buffer, format="PNG")
        return data_url(buffer.getvalue(), "image/png")

    def jpeg_like(colour: tuple[int, int, int]) -> str:  # same pixels, different bytes
        buffer = io.BytesIO()
        image.new("RGB", (4, 4), colour).save(buffer, format="PNG", compress_level=0)
        return data_url(buffer.getvalue(), "image/png")

    assert compare_output("image", png((10, 20, 30)), jpeg_like((10, 20, 30))).differences == []
    assert compare_output("image", png((10, 20, 30)), png((10, 20, 30), (5, 4))).differences == [
        "size: expected 4x4 pixels, got 5x4"
    ]
    [difference] = compare_output("image", png((10, 20, 30)), png((12, 20, 30))).differences
    assert difference.startswith("pixels differ by up to 2 of 255")
    loose = Tolerance(compare="pixels", pixel_atol=2)
    assert compare_output("image", png((10, 20, 30)), png((12, 20, 30)), loose).differences == []
