"""Helpers that build canonical output values for the common types.

Each returns plain JSON data in the shape of contract §3, so a handler can write
``return {"table": outputs.table(rows), "chart": outputs.chart_line(x, {"Balance": ys})}``.
Media helpers return a data URL, or an artefact reference when the file is large and a
``RunContext`` is given.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from pixie_sdk.context import RunContext
from pixie_sdk.files import encode_data_url, guess_mime, parse_data_url
from pixie_sdk.types import JSON, JSONObject

__all__ = [
    "INLINE_MEDIA_MAX_BYTES",
    "audio",
    "chart_bar",
    "chart_line",
    "chart_pie",
    "chart_scatter",
    "file",
    "image",
    "kv",
    "log",
    "markdown",
    "number",
    "table",
]

#: Media over this size go to the artefacts folder (the contract: "anything over ~1 MB").
INLINE_MEDIA_MAX_BYTES = 1_000_000


class _DataFrameLike(Protocol):
    @property
    def columns(self) -> Any: ...

    def to_dict(self, orient: str) -> Any: ...


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize() or key


def _column_type(values: Iterable[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {bool}:
        return "boolean"
    if kinds and all(issubclass(k, int | float) and k is not bool for k in kinds):
        return "number"
    return "text"


def table(
    rows: Sequence[Mapping[str, Any]] | _DataFrameLike,
    columns: Sequence[str | Mapping[str, str]] | None = None,
    *,
    downloadable: bool | None = None,
    infer_columns: bool = False,
) -> JSONObject:
    """A ``table`` value from row dicts or a DataFrame-like object (anything with ``columns`` and ``to_dict``).

    Columns go into the value only when given (or ``infer_columns``): columns in the value win
    over the ones declared in tool.json, so guessing them would hide the declared labels and types.
    """
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        records = list(rows.to_dict("records"))
        keys = [str(c) for c in rows.columns]
    else:
        records = [dict(r) for r in rows]
        keys = list(dict.fromkeys(k for r in records for k in r))
    value: JSONObject = {"rows": records}
    if columns is None and not infer_columns:
        if downloadable is not None:
            value["downloadable"] = downloadable
        return value
    cols: list[JSONObject] = []
    for c in columns if columns is not None else keys:
        if isinstance(c, Mapping):
            cols.append(
                {
                    "key": c["key"],
                    "label": c.get("label", _label(c["key"])),
                    **({"type": c["type"]} if "type" in c else {}),
                }
            )
        else:
            cols.append({"key": c, "label": _label(c), "type": _column_type(r.get(c) for r in records)})
    value = {"columns": cols, "rows": records}
    if downloadable is not None:
        value["downloadable"] = downloadable
    return value


def _series(series: Mapping[str, Sequence[Any]] | Sequence[tuple[str, Sequence[Any]]], field: str) -> list[JSONObject]:
    items = series.items() if isinstance(series, Mapping) else series
    return [{"name": name, field: list(values)} for name, values in items]


def chart_line(
    x: Sequence[Any], series: Mapping[str, Sequence[Any]] | Sequence[tuple[str, Sequence[Any]]]
) -> JSONObject:
    """A ``chart_line`` (or ``chart_area``) value: shared ``x`` and named ``y`` series of the same length."""
    return {"x": list(x), "series": _series(series, "y")}


def chart_bar(categories: Sequence[Any], series: Mapping[str, Sequence[Any]]) -> JSONObject:
    """A ``chart_bar`` value: categories on x, one bar per series."""
    return {"x": list(categories), "series": _series(series, "y")}


def chart_scatter(series: Mapping[str, Sequence[tuple[Any, Any]]]) -> JSONObject:
    """A ``chart_scatter`` value from ``{name: [(x, y), ...]}``."""
    return {"series": [{"name": n, "points": [{"x": x, "y": y} for x, y in pts]} for n, pts in series.items()]}


def chart_pie(slices: Mapping[str, float], *, donut: bool = False) -> JSONObject:
    """A ``chart_pie`` value from ``{label: value}``."""
    value: JSONObject = {"slices": [{"label": k, "value": v} for k, v in slices.items()]}
    if donut:
        value["donut"] = True
    return value


def kv(pairs: Mapping[str, Any]) -> JSONObject:
    """A ``kv`` value."""
    return {"pairs": dict(pairs)}


def markdown(text: str) -> str:
    """A ``markdown`` value (a plain string; the UI renders and sanitises it)."""
    return text


def number(value: float, *, format: str | None = None, precision: int | None = None) -> JSON:
    """A ``number`` value, wrapped when it carries presentation (which wins over the spec's)."""
    if format is None and precision is None:
        return value
    wrapped: JSONObject = {"value": value}
    if format is not None:
        wrapped["format"] = format
    if precision is not None:
        wrapped["precision"] = precision
    return wrapped


def log(lines: Iterable[str | tuple[str, str] | Mapping[str, Any]]) -> JSONObject:
    """A ``log`` value from messages, ``(level, message)`` pairs or line dicts."""
    out: list[JSONObject] = []
    for line in lines:
        if isinstance(line, str):
            out.append({"message": line})
        elif isinstance(line, tuple):
            out.append({"level": line[0], "message": line[1]})
        else:
            out.append(dict(line))
    return {"lines": out}


def _media(
    data: bytes | Path | str, mime_type: str | None, ctx: RunContext | None, name: str | None
) -> tuple[JSON, str]:
    if isinstance(data, str) and data.startswith(("data:", "http://", "https://")):
        parsed = parse_data_url(data) if data.startswith("data:") else None
        return data, mime_type or (parsed[0] if parsed else "")
    path = Path(data) if isinstance(data, str | Path) else None
    raw = path.read_bytes() if path is not None else data
    assert isinstance(raw, bytes)
    filename = name or (path.name if path is not None else None)
    mime = mime_type or (mimetypes.guess_type(filename)[0] if filename else None) or guess_mime(raw)
    if ctx is not None and len(raw) > INLINE_MEDIA_MAX_BYTES:
        ext = mimetypes.guess_extension(mime) or ".bin"
        return ctx.artefact(filename or f"output{ext}", raw, mime), mime
    return encode_data_url(raw, mime), mime


def image(
    data: bytes | Path | str, *, mime_type: str | None = None, ctx: RunContext | None = None, alt: str | None = None
) -> JSON:
    """An ``image`` value from bytes or a path: a data URL, or an artefact reference when large and ``ctx`` is given."""
    value, _ = _media(data, mime_type, ctx, None)
    return {"value": value, "alt": alt} if alt else value


def audio(data: bytes | Path | str, *, mime_type: str | None = None, ctx: RunContext | None = None) -> JSON:
    """An ``audio`` value (see ``image``)."""
    return _media(data, mime_type, ctx, None)[0]


def file(
    data: bytes | str | Path, filename: str, *, mime_type: str | None = None, ctx: RunContext | None = None
) -> JSONObject:
    """A ``file`` download: ``{filename, data, mime_type}``; text is encoded as UTF-8."""
    raw = data.encode("utf-8") if isinstance(data, str) and not data.startswith("data:") else data
    value, mime = _media(raw, mime_type, ctx, filename)
    return {"filename": filename, "data": value, "mime_type": mime or "application/octet-stream"}
