"""The output-shape rules of contract §3: the one implementation every package imports.

What a *value* of each of the 39 output types looks like lives here (the *spec* of an output
lives in ``pixie_sdk.output_specs``):

- ``normalise_output`` turns the tolerated variants of §9 (kv without ``pairs``, ``mime`` for
  ``mime_type``, heatmap ``x``/``y``, positional table rows, ...) into the canonical form our SDK emits;
- ``shape_problems`` deep-checks one value against the canonical shape of its type, in plain words;
- ``check_outputs`` checks a whole ``/run`` reply against a manifest (validator check 9);
- ``placeholder`` gives a valid, empty value per type (what a streaming tool's ``/run`` replies);
- ``presentation`` merges spec-level and value-level presentation fields (the value wins);
- ``unwrap_scalar``, ``is_artefact_ref`` and ``iter_artefact_refs`` deal with the ``{"value": ...}``
  wrapper and with artefact references.

The SDK, validator check 9, the fixture comparators, the host and the UI's server side all read
values through these functions, so a shape means the same thing everywhere. None of them raises
on odd input: a value of the wrong JSON type at any depth is a problem string, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

from pydantic import BaseModel

from pixie_sdk.output_specs import OUTPUT_TYPES, SCALAR_OUTPUT_TYPES
from pixie_sdk.types import JSON, json_kind

if TYPE_CHECKING:
    # Annotations only: importing the manifest at run time would tie this module into the
    # manifest's own import chain, and the manifest may one day want these rules.
    from pixie_sdk.manifest import ToolManifest
    from pixie_sdk.output_specs import OutputSpec

__all__ = [
    "MAX_PROBLEMS",
    "MAX_TREE_DEPTH",
    "OutputsReport",
    "ProblemList",
    "check_outputs",
    "is_artefact_ref",
    "iter_artefact_refs",
    "normalise_output",
    "placeholder",
    "presentation",
    "shape_problems",
    "unwrap_scalar",
]

#: Problems reported per value; the rest are counted in one "... and N more" line.
MAX_PROBLEMS = 20
#: Deepest tree accepted; also what stops a cyclic Python value from recursing forever.
MAX_TREE_DEPTH = 100

#: Reply keys that are neither declared outputs nor worth a warning (contract §3).
_ECHOED_KEYS = frozenset({"run_id"})
_MEDIA_TYPES = frozenset({"image", "audio", "video"})
_NUMBER_FORMATS = ("currency", "percent", "scientific", "decimal")
_SEQUENCE = (list, tuple)  # tuples are JSON lists once serialised; SDK callers check values before that


# --- problem collection ----------------------------------------------------------------------------------------


class ProblemList:
    """Collects ``<path> <message>`` strings, keeping the first ``limit`` and counting the rest."""

    __slots__ = ("dropped", "found", "limit", "separator")

    def __init__(self, limit: int = MAX_PROBLEMS, separator: str = " ") -> None:
        self.found: list[str] = []
        self.dropped = 0
        self.limit = limit
        self.separator = separator

    @property
    def total(self) -> int:
        return len(self.found) + self.dropped

    def add(self, path: str, message: str) -> None:
        if len(self.found) < self.limit:
            self.found.append(f"{path}{self.separator}{message}" if path else message)
        else:
            self.dropped += 1

    def report(self) -> list[str]:
        return [*self.found, f"... and {self.dropped} more"] if self.dropped else list(self.found)


#: Checks one value found at ``path``; True when it added no problem.
FieldCheck: TypeAlias = Callable[[JSON, str, ProblemList], bool]
#: Checks a whole (normalised) value of one output type.
TypeCheck: TypeAlias = Callable[[JSON, ProblemList], None]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _key(path: str, key: object) -> str:
    name = key if isinstance(key, str) else str(key)
    if _IDENTIFIER.match(name):
        return f"{path}.{name}" if path else name
    return f"{path}[{json.dumps(name, ensure_ascii=False)}]"


def _idx(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _show(value: JSON, limit: int = 40) -> str:
    """A short JSON rendering of a value for a message."""
    # Trim before rendering: a message about one bad cell must not serialise a megabyte around it.
    if isinstance(value, str):
        value = value[:limit]
    elif isinstance(value, _SEQUENCE) and len(value) > limit:
        value = [*value[:limit], "…"]
    elif isinstance(value, dict) and len(value) > limit:
        value = dict(list(value.items())[:limit])
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _object_with(keys: Mapping[str, object]) -> str:
    names = [f"`{k}`" for k in keys]
    if not names:
        return "an object"
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"an object with {listed}"


# --- field checks (small, composable, table-driven) ------------------------------------------------------------


def _is_number(value: JSON) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _any(value: JSON, path: str, out: ProblemList) -> bool:
    return True


def _string(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, str):
        return True
    out.add(path, f"must be a string, got {json_kind(value)}")
    return False


def _boolean(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, bool):
        return True
    out.add(path, f"must be true or false, got {json_kind(value)}")
    return False


def _number(value: JSON, path: str, out: ProblemList) -> bool:
    if not _is_number(value):
        out.add(path, f"must be a number, got {json_kind(value)}")
        return False
    if isinstance(value, float) and not math.isfinite(value):
        # Python's json accepts NaN and Infinity, but they are not JSON and the browser's parser rejects them.
        out.add(path, f"must be a finite number, got {value!r} (NaN and Infinity are not JSON)")
        return False
    return True


def _number_or_null(value: JSON, path: str, out: ProblemList) -> bool:
    return value is None or _number(value, path, out)


def _non_negative(value: JSON, path: str, out: ProblemList) -> bool:
    if not _number(value, path, out):
        return False
    if value < 0:
        out.add(path, f"must not be negative, got {value}")
        return False
    return True


def _non_negative_int(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return True
    out.add(path, f"must be a whole number of at least 0, got {_show(value)}")
    return False


def _number_or_string(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, str):
        return True
    if _is_number(value):
        return _number(value, path, out)
    out.add(path, f"must be a number or a string, got {json_kind(value)}")
    return False


#: Labels are shown as text; a number (a year, a category code) is as good as a string.
_label = _number_or_string


def _is_id(value: JSON) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _node_id(value: JSON, path: str, out: ProblemList) -> bool:
    if _is_id(value):
        return True
    out.add(path, f"must be a string or an integer id, got {json_kind(value)}")
    return False


def _is_list(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, _SEQUENCE):
        return True
    out.add(path, f"must be a list, got {json_kind(value)}")
    return False


def _is_object(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, dict):
        return True
    out.add(path, f"must be an object, got {json_kind(value)}")
    return False


def _in_range(low: float, high: float, what: str) -> FieldCheck:
    def check(value: JSON, path: str, out: ProblemList) -> bool:
        if not _number(value, path, out):
            return False
        if not low <= value <= high:
            out.add(path, f"must be between {low:g} and {high:g} ({what}), got {value}")
            return False
        return True

    return check


_latitude = _in_range(-90, 90, "a latitude")
_longitude = _in_range(-180, 180, "a longitude")


def _lat_lng(value: JSON, path: str, out: ProblemList) -> bool:
    if not isinstance(value, _SEQUENCE) or len(value) != 2:
        out.add(path, f"must be a [lat, lng] pair, got {_show(value)}")
        return False
    lat_ok = _latitude(value[0], _idx(path, 0), out)
    return _longitude(value[1], _idx(path, 1), out) and lat_ok


def _one_of(*choices: str) -> FieldCheck:
    def check(value: JSON, path: str, out: ProblemList) -> bool:
        if value in choices and isinstance(value, str):
            return True
        out.add(path, f"must be one of {', '.join(choices)}, got {_show(value)}")
        return False

    return check


def _plain_number(value: JSON) -> bool:
    kind = type(value)
    return kind is int or (kind is float and math.isfinite(value))


#: Quick yes/no tests for the leaf checks that fill long lists (chart data, table cells): all values
#: passing the quick test means no problem, which spares a call per item on the common, valid path.
_QUICK_ITEM_TESTS: dict[FieldCheck, Callable[[JSON], bool]] = {
    _number: _plain_number,
    _number_or_null: lambda v: v is None or _plain_number(v),
    _number_or_string: lambda v: type(v) is str or _plain_number(v),
}


def _list_of(item: FieldCheck) -> FieldCheck:
    quick = _QUICK_ITEM_TESTS.get(item)

    def check(value: JSON, path: str, out: ProblemList) -> bool:
        if not _is_list(value, path, out):
            return False
        if quick is not None and all(map(quick, value)):
            return True
        before = out.total
        for i, element in enumerate(value):
            item(element, _idx(path, i), out)
        return out.total == before

    return check


def _fields(
    value: JSON,
    path: str,
    out: ProblemList,
    required: Mapping[str, FieldCheck],
    optional: Mapping[str, FieldCheck] | None = None,
    what: str | None = None,
) -> dict[str, JSON] | None:
    """Check an object's required and optional keys; returns the object (even with field problems) or None."""
    if not isinstance(value, dict):
        out.add(path, f"must be {what or _object_with(required)}, got {json_kind(value)}")
        return None
    for key, check in required.items():
        if key in value:
            check(value[key], _key(path, key), out)
        else:
            out.add(_key(path, key), "is required")
    for key, check in (optional or {}).items():
        # Python tools often dump optional fields as null; that means "not given", not a wrong type.
        if value.get(key) is not None:
            check(value[key], _key(path, key), out)
    return value


def _record(
    required: Mapping[str, FieldCheck], optional: Mapping[str, FieldCheck] | None = None, what: str | None = None
) -> FieldCheck:
    def check(value: JSON, path: str, out: ProblemList) -> bool:
        before = out.total
        _fields(value, path, out, required, optional, what)
        return out.total == before

    return check


# --- media, data URLs and artefact references ------------------------------------------------------------------

_MIME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9!#$&^_.+*-]+(\s*;.*)?$", re.DOTALL)
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_MEDIA_WHAT = "a data URL, an http(s) URL or an artefact reference"
_MEDIA_EXPECTED = f"must be {_MEDIA_WHAT}"
_IMAGE_WRAPPER_KEYS = ("value", "url", "data")


def _base64_ok(payload: str) -> bool:
    compact = "".join(payload.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _data_url_problem(text: str) -> str | None:
    comma = text.find(",")
    if comma < 0:
        return "is a data URL without the `,` before its data (`data:<mime>;base64,<data>`)"
    mime, _, params = text[5:comma].partition(";")
    if not _MIME.match(mime):
        return "is a data URL without a MIME type (`data:<mime>;base64,<data>`)"
    if "base64" in (p.strip().lower() for p in params.split(";")) and not _base64_ok(text[comma + 1 :]):
        return "is a data URL whose base64 data is not valid base64"
    return None


def _is_data_url(text: str) -> bool:
    return text[:5].lower() == "data:"


def _is_http_url(text: str) -> bool:
    if not text[:8].lower().startswith(("http://", "https://")):
        return False
    try:
        return bool(urllib.parse.urlsplit(text).netloc)
    except ValueError:
        return False


def _artefact_path_problem(path: JSON) -> str | None:
    if not isinstance(path, str) or not path:
        return f"must be a non-empty relative path inside artefacts_dir, got {_show(path)}"
    if "\x00" in path:
        return "must not contain a NUL character"
    if path.startswith(("/", "\\", "~")) or _WINDOWS_DRIVE.match(path):
        return f"must be relative to artefacts_dir, not an absolute path: {_show(path)}"
    if ".." in re.split(r"[\\/]", path):
        return f"must stay inside artefacts_dir (no `..`): {_show(path)}"
    return None


def is_artefact_ref(value: JSON) -> bool:
    """True for a well-formed artefact reference ``{"artefact": "<relative path>", "mime_type"?, "url"?}``.

    A reference whose path is absolute or climbs out with ``..`` is *not* one: the host must never
    serve it, so it never gets a ``url`` (see ``iter_artefact_refs``) and check 9 reports it.
    """
    return (
        isinstance(value, dict)
        and _artefact_path_problem(value.get("artefact")) is None
        and all(value.get(k) is None or isinstance(value[k], str) for k in ("mime_type", "url"))
    )


def _artefact(value: JSON, path: str, out: ProblemList) -> bool:
    before = out.total
    problem = _artefact_path_problem(value.get("artefact"))
    if problem is not None:
        out.add(_key(path, "artefact"), problem)
    for key in ("mime_type", "url"):
        if value.get(key) is not None:
            _string(value[key], _key(path, key), out)
    return out.total == before


def _media(value: JSON, path: str, out: ProblemList) -> bool:
    """An image, audio or video value: a data URL, an http(s) URL or an artefact reference."""
    if isinstance(value, dict) and "artefact" in value:
        return _artefact(value, path, out)
    if isinstance(value, str):
        if _is_data_url(value):
            problem = _data_url_problem(value)
            if problem is not None:
                out.add(path, problem)
            return problem is None
        if _is_http_url(value):
            return True
        hint = "" if "://" in value else f'; for a file in artefacts_dir send {{"artefact": {_show(value)}}}'
        out.add(path, f"{_MEDIA_EXPECTED}, got the string {_show(value)}{hint}")
        return False
    out.add(path, f"{_MEDIA_EXPECTED}, got {json_kind(value)}")
    return False


def _image_item(value: JSON, path: str, out: ProblemList) -> bool:
    """One image of a grid or a compare: an image value, or an object carrying it in ``value``/``url``/``data``."""
    if isinstance(value, dict) and "artefact" not in value:
        for key in _IMAGE_WRAPPER_KEYS:
            if key in value:
                return _media(value[key], _key(path, key), out)
        out.add(path, f"{_MEDIA_EXPECTED} (or an object with `value`, `url` or `data`), got an object")
        return False
    return _media(value, path, out)


def _file_data(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, dict) and "artefact" in value:
        return _artefact(value, path, out)
    if isinstance(value, str):
        if _is_data_url(value):
            problem = _data_url_problem(value)
        elif _base64_ok(value):
            problem = None
        else:
            problem = "must be a data URL, base64 or an artefact reference; this string is not valid base64"
        if problem is not None:
            out.add(path, problem)
        return problem is None
    out.add(path, f"must be a data URL, base64 or an artefact reference, got {json_kind(value)}")
    return False


def _mime_type(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, str) and _MIME.match(value):
        return True
    out.add(path, f"must be a MIME type like `text/csv`, got {_show(value)}")
    return False


def _non_empty_string(value: JSON, path: str, out: ProblemList) -> bool:
    if not _string(value, path, out):
        return False
    if not value:
        out.add(path, "must not be empty")
        return False
    return True


# --- scalars ---------------------------------------------------------------------------------------------------


def unwrap_scalar(value: JSON) -> tuple[JSON, dict[str, JSON]]:
    """Split a scalar output value into (the scalar, its presentation keys).

    ``{"value": v, **presentation}`` gives ``(v, presentation)``; anything else (a raw scalar, an
    artefact reference, garbage) gives ``(value, {})``.
    """
    if isinstance(value, dict) and "value" in value:
        return value["value"], {k: v for k, v in value.items() if k != "value"}
    return value, {}


def _progress(value: JSON, path: str, out: ProblemList) -> bool:
    if value is None:
        return True
    if not _number(value, path, out):
        return False
    if value < 0:
        out.add(path, f"must not be negative, got {value}")
        return False
    if value > 100:
        out.add(path, f"is {value}; a value over 1 is read as a percent, and a percent cannot exceed 100")
        return False
    return True


#: The check of the bare scalar, and how to name it in a message.
_SCALARS: dict[str, tuple[FieldCheck, str]] = {
    "text": (_string, "a string"),
    "markdown": (_string, "a string"),
    "latex": (_string, "a string of TeX"),
    "code": (_string, "a string"),
    "stream_text": (_string, "a string"),
    "number": (_number, "a number"),
    "boolean": (_boolean, "true or false"),
    "progress": (_progress, "a number from 0 to 1 (over 1: a percent) or null"),
    "image": (_media, _MEDIA_WHAT),
    "audio": (_media, _MEDIA_WHAT),
    "video": (_media, _MEDIA_WHAT),
}


def _scalar_check(output_type: str) -> TypeCheck:
    check, what = _SCALARS[output_type]

    def run(value: JSON, out: ProblemList) -> None:
        if isinstance(value, dict) and "value" in value:
            check(value["value"], "value", out)
        elif isinstance(value, dict) and not (output_type in _MEDIA_TYPES and "artefact" in value):
            # The commonest mistake here is a wrapper under another name (`text`, `url`); say what to use.
            keys = ", ".join(f"`{k}`" for k in itertools.islice(value, 5))
            got = f"an object with keys {keys}" if keys else "an empty object"
            out.add("", f'must be {what}, or {{"value": <that>}}; got {got}')
        else:
            check(value, "", out)

    return run


# --- object types ----------------------------------------------------------------------------------------------


def _column(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, str):
        return True
    before = out.total
    _fields(value, path, out, {"key": _string}, {"label": _label, "type": _string}, "a column `{key, label?, type?}`")
    return out.total == before


def _check_table(value: JSON, out: ProblemList) -> None:
    obj = _fields(value, "", out, {"rows": _is_list}, {"columns": _list_of(_column)})
    if obj is None:
        return
    columns = obj.get("columns")
    width: int | None = None
    if isinstance(columns, _SEQUENCE):
        width = len(columns)
        _unique([(i, c.get("key") if isinstance(c, dict) else c) for i, c in enumerate(columns)], "columns", "key", out)
    rows = obj.get("rows")
    for i, row in enumerate(rows if isinstance(rows, _SEQUENCE) else ()):
        _table_row(row, _idx("rows", i), width, out)


def _table_row(row: JSON, path: str, width: int | None, out: ProblemList) -> None:
    if isinstance(row, dict):
        return
    if not isinstance(row, _SEQUENCE):
        out.add(path, f"must be an object keyed by column, got {json_kind(row)}")
    elif width is None:
        out.add(path, "is a positional list but the table has no `columns`; give columns or key the row by column")
    elif len(row) != width:
        out.add(path, f"has {_count(len(row), 'cell')} but there are {_count(width, 'column')}")


def _unique(items: list[tuple[int, JSON]], path: str, field: str, out: ProblemList) -> set[JSON]:
    """The set of valid ids among ``items``; reports repeats."""
    seen: dict[JSON, int] = {}
    for i, item_id in items:
        if not _is_id(item_id):
            continue
        if item_id in seen:
            out.add(_key(_idx(path, i), field), f"{_show(item_id)} repeats {path}[{seen[item_id]}]")
        else:
            seen[item_id] = i
    return set(seen)


def _kv_item(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, dict) and "key" in value and "value" in value:
        return _node_id(value["key"], _key(path, "key"), out)
    if isinstance(value, _SEQUENCE) and len(value) == 2:
        return _node_id(value[0], _idx(path, 0), out)
    out.add(path, f"must be a {{key, value}} object or a [key, value] pair, got {_show(value)}")
    return False


_kv_items = _list_of(_kv_item)


def _check_kv(value: JSON, out: ProblemList) -> None:
    wrapped = isinstance(value, dict) and "pairs" in value
    pairs, path = (value["pairs"], "pairs") if wrapped else (value, "")
    if isinstance(pairs, dict):
        return  # values may be any JSON
    if isinstance(pairs, _SEQUENCE):
        _kv_items(pairs, path, out)
        return
    out.add(
        path, f'must be {{"pairs": {{key: value}}}} (or a plain object, or a list of pairs), got {json_kind(pairs)}'
    )


_log_line = _record({"message": _string}, {"level": _string, "t": _number_or_string})


def _check_log(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"lines": _list_of(_log_line)})


def _check_diff(value: JSON, out: ProblemList) -> None:
    _fields(
        value, "", out, {"before": _string, "after": _string}, {"filename_before": _string, "filename_after": _string}
    )


def _tree_node(node: JSON, path: str, depth: int, out: ProblemList) -> None:
    if depth > MAX_TREE_DEPTH:
        out.add(path, f"is nested deeper than {MAX_TREE_DEPTH} levels")
        return
    obj = _fields(node, path, out, {"name": _string}, what="a node `{name, meta?, children?}`")
    children = obj.get("children") if obj is not None else None
    if children is None or not _is_list(children, _key(path, "children"), out):
        return
    for i, child in enumerate(children):
        _tree_node(child, _idx(_key(path, "children"), i), depth + 1, out)


def _check_tree(value: JSON, out: ProblemList) -> None:
    obj = _fields(value, "", out, {"root": _any})
    if obj is not None and "root" in obj:
        _tree_node(obj["root"], "root", 0, out)


_event = _record({"t": _number_or_string, "title": _label}, {"description": _string})


def _check_timeline(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"events": _list_of(_event)})


_task = _record(
    {"name": _string, "start": _number_or_string, "end": _number_or_string}, {"label": _label, "colour": _string}
)


def _check_gantt(value: JSON, out: ProblemList) -> None:
    obj = _fields(value, "", out, {"tasks": _list_of(_task)})
    tasks = obj.get("tasks") if obj is not None else None
    for i, task in enumerate(tasks if isinstance(tasks, _SEQUENCE) else ()):
        start: JSON = task.get("start") if isinstance(task, dict) else None
        end: JSON = task.get("end") if isinstance(task, dict) else None
        if _is_number(start) and _is_number(end) and end < start:
            out.add(_key(_idx("tasks", i), "end"), f"({end}) is before start ({start})")


def _series_of(values_key: str, item: FieldCheck) -> FieldCheck:
    return _list_of(_record({"name": _string, values_key: _list_of(item)}))


def _lengths_match(series: JSON, values_key: str, expected: int, against: str, out: ProblemList) -> None:
    for i, one in enumerate(series if isinstance(series, _SEQUENCE) else ()):
        values = one.get(values_key) if isinstance(one, dict) else None
        if isinstance(values, _SEQUENCE) and len(values) != expected:
            out.add(
                _key(_idx("series", i), values_key), f"has {_count(len(values), 'value')} but {against} has {expected}"
            )


def _check_xy_chart(value: JSON, out: ProblemList) -> None:
    # y may hold nulls: a gap in a line is common and every chart library draws it.
    obj = _fields(value, "", out, {"x": _list_of(_number_or_string), "series": _series_of("y", _number_or_null)})
    if obj is not None and isinstance(obj.get("x"), _SEQUENCE):
        _lengths_match(obj.get("series"), "y", len(obj["x"]), "x", out)


_scatter_point = _record({"x": _number_or_string, "y": _number}, {"label": _label, "size": _number, "colour": _string})


def _check_scatter(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"series": _series_of("points", _scatter_point)})


_slice = _record({"label": _label, "value": _non_negative})


def _check_pie(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"slices": _list_of(_slice)}, {"donut": _boolean})


_numbers = _list_of(_number)
_heatmap_row = _list_of(_number_or_null)


def _bins(value: JSON, path: str, out: ProblemList) -> bool:
    if isinstance(value, _SEQUENCE):
        if not _numbers(value, path, out):
            return False
        if any(b <= a for a, b in zip(value, value[1:], strict=False)):
            out.add(path, "must be bin edges in increasing order")
            return False
        return True
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return True
    out.add(path, f"must be a positive whole number of bins or a list of bin edges, got {_show(value)}")
    return False


def _check_histogram(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"values": _numbers}, {"bins": _bins})


def _check_boxplot(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"series": _series_of("values", _number)})


def _check_heatmap(value: JSON, out: ProblemList) -> None:
    obj = _fields(value, "", out, {"z": _is_list}, {"x_labels": _list_of(_label), "y_labels": _list_of(_label)})
    z = obj.get("z") if obj is not None else None
    if obj is None or not isinstance(z, _SEQUENCE):
        return
    width: int | None = None
    for i, row in enumerate(z):
        _heatmap_row(row, _idx("z", i), out)
        if not isinstance(row, _SEQUENCE):
            continue
        if width is None:
            width = len(row)
        elif len(row) != width:
            out.add(_idx("z", i), f"has {_count(len(row), 'cell')} but z[0] has {width}")
    x_labels, y_labels = obj.get("x_labels"), obj.get("y_labels")
    if isinstance(x_labels, _SEQUENCE) and width is not None and len(x_labels) != width:
        out.add("x_labels", f"has {_count(len(x_labels), 'label')} but the rows of z have {_count(width, 'cell')}")
    if isinstance(y_labels, _SEQUENCE) and len(y_labels) != len(z):
        out.add("y_labels", f"has {_count(len(y_labels), 'label')} but z has {_count(len(z), 'row')}")


_candle = _record({"t": _number_or_string, "open": _number, "high": _number, "low": _number, "close": _number})


def _check_candlestick(value: JSON, out: ProblemList) -> None:
    obj = _fields(value, "", out, {"points": _list_of(_candle)})
    points = obj.get("points") if obj is not None else None
    for i, point in enumerate(points if isinstance(points, _SEQUENCE) else ()):
        high: JSON = point.get("high") if isinstance(point, dict) else None
        low: JSON = point.get("low") if isinstance(point, dict) else None
        if _is_number(high) and _is_number(low) and high < low:
            out.add(_key(_idx("points", i), "high"), f"({high}) is below low ({low})")


def _check_radar(value: JSON, out: ProblemList) -> None:
    obj = _fields(value, "", out, {"axes": _list_of(_label), "series": _series_of("values", _number)})
    if obj is not None and isinstance(obj.get("axes"), _SEQUENCE):
        _lengths_match(obj.get("series"), "values", len(obj["axes"]), "axes", out)


_graph_node = _record({"id": _node_id}, {"label": _label})


def _node_ids(nodes: JSON, out: ProblemList) -> set[JSON] | None:
    """The node ids of a graph's ``nodes`` (None when ``nodes`` is not a list); reports repeated ids."""
    if not isinstance(nodes, _SEQUENCE):
        return None
    return _unique([(i, n.get("id") if isinstance(n, dict) else None) for i, n in enumerate(nodes)], "nodes", "id", out)


def _references(items: JSON, path: str, fields: tuple[str, ...], ids: set[JSON] | None, out: ProblemList) -> None:
    if ids is None:
        return
    for i, item in enumerate(items if isinstance(items, _SEQUENCE) else ()):
        for field in fields:
            ref = item.get(field) if isinstance(item, dict) else None
            if _is_id(ref) and ref not in ids:
                out.add(_key(_idx(path, i), field), f"{_show(ref)} is not the id of any node")


def _check_graph(edges_key: str, edge: FieldCheck) -> TypeCheck:
    def run(value: JSON, out: ProblemList) -> None:
        obj = _fields(value, "", out, {"nodes": _list_of(_graph_node), edges_key: _list_of(edge)})
        if obj is not None:
            _references(obj.get(edges_key), edges_key, ("source", "target"), _node_ids(obj.get("nodes"), out), out)

    return run


_check_sankey = _check_graph("links", _record({"source": _node_id, "target": _node_id, "value": _non_negative}))
_check_network = _check_graph("edges", _record({"source": _node_id, "target": _node_id}))

_treemap_node = _record({"id": _node_id, "value": _non_negative}, {"label": _label, "parent": _node_id})


def _treemap_parent(node: JSON) -> JSON:
    parent = node.get("parent") if isinstance(node, dict) else None
    # Plotly and friends mark a root with an empty parent.
    return None if parent == "" else parent


def _check_treemap(value: JSON, out: ProblemList) -> None:
    obj = _fields(value, "", out, {"nodes": _list_of(_treemap_node)})
    nodes = obj.get("nodes") if obj is not None else None
    ids = _node_ids(nodes, out)
    if ids is None or not isinstance(nodes, _SEQUENCE):
        return
    with_parent = [n if _treemap_parent(n) is not None else {} for n in nodes]  # {} keeps the indexes
    _references(with_parent, "nodes", ("parent",), ids, out)
    parent_of: dict[JSON, JSON] = {}
    for node in nodes:
        node_id, parent = (node.get("id"), _treemap_parent(node)) if isinstance(node, dict) else (None, None)
        if _is_id(node_id) and _is_id(parent) and node_id in ids and parent in ids:
            parent_of[node_id] = parent
    for looped in _loops(parent_of):
        out.add("nodes", f"have parents that form a loop through {_show(looped)}")


def _loops(parent_of: dict[JSON, JSON]) -> list[JSON]:
    """One member of each parent loop (a node that is its own ancestor); linear in the number of nodes."""
    done: set[JSON] = set()
    found: list[JSON] = []
    for start in parent_of:
        walk: list[JSON] = []
        on_walk: set[JSON] = set()
        node = start
        while node in parent_of and node not in done and node not in on_walk:
            walk.append(node)
            on_walk.add(node)
            node = parent_of[node]
        if node in on_walk:
            found.append(node)
        done.update(walk)
    return found


_map_point = _record({"lat": _latitude, "lng": _longitude}, {"label": _label, "weight": _number})


def _check_points(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"points": _list_of(_map_point)})


def _coords(value: JSON, path: str, out: ProblemList) -> bool:
    if not _list_of(_lat_lng)(value, path, out):
        return False
    if len(value) < 3:
        out.add(path, f"must have at least 3 points, got {len(value)}")
        return False
    return True


_polygon = _record({"coords": _coords}, {"label": _label, "colour": _string})


def _check_polygons(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"polygons": _list_of(_polygon)})


def _number_map(value: JSON, path: str, out: ProblemList) -> bool:
    if not isinstance(value, dict):
        out.add(path, f"must be an object of feature id → number, got {json_kind(value)}")
        return False
    before = out.total
    for key, number in value.items():
        _number(number, _key(path, key), out)
    return out.total == before


def _check_choropleth(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"geojson": _is_object, "values": _number_map})


def _check_image_grid(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"images": _list_of(_image_item)})


def _check_image_compare(value: JSON, out: ProblemList) -> None:
    _fields(
        value, "", out, {"before": _image_item, "after": _image_item}, {"before_label": _label, "after_label": _label}
    )


def _check_file(value: JSON, out: ProblemList) -> None:
    _fields(value, "", out, {"filename": _non_empty_string, "data": _file_data, "mime_type": _mime_type})


_TYPE_CHECKS: dict[str, TypeCheck] = {
    **{t: _scalar_check(t) for t in _SCALARS},
    "table": _check_table,
    "kv": _check_kv,
    "log": _check_log,
    "diff": _check_diff,
    "tree": _check_tree,
    "timeline": _check_timeline,
    "gantt": _check_gantt,
    "chart_line": _check_xy_chart,
    "chart_area": _check_xy_chart,
    "chart_bar": _check_xy_chart,
    "chart_scatter": _check_scatter,
    "chart_pie": _check_pie,
    "chart_histogram": _check_histogram,
    "chart_boxplot": _check_boxplot,
    "chart_heatmap": _check_heatmap,
    "chart_candlestick": _check_candlestick,
    "chart_radar": _check_radar,
    "chart_sankey": _check_sankey,
    "chart_treemap": _check_treemap,
    "chart_network": _check_network,
    "map_points": _check_points,
    "map_heatmap": _check_points,
    "map_route": _check_points,
    "map_polygons": _check_polygons,
    "map_choropleth": _check_choropleth,
    "image_grid": _check_image_grid,
    "image_compare": _check_image_compare,
    "file": _check_file,
}

# --- presentation ----------------------------------------------------------------------------------------------

_COMMON_PRESENTATION = ("unit", "caption")
_AXIS_LABELS = ("x_label", "y_label")
_AXES = (*_AXIS_LABELS, "log_x", "log_y")
_MAP_VIEW = ("default_center", "default_zoom")

#: Presentation fields that the output *spec* of a type has (contract §3), besides unit and caption.
_SPEC_PRESENTATION: dict[str, tuple[str, ...]] = {
    "number": ("format", "precision"),
    "boolean": ("true_label", "false_label"),
    "table": ("columns", "downloadable"),
    "chart_line": _AXES,
    "chart_area": _AXES,
    "map_points": _MAP_VIEW,
    "code": ("language",),
}
#: Presentation fields real tools put in the *value* of types whose spec lacks them (§3: "real tools add x_label").
_VALUE_ONLY_PRESENTATION: dict[str, tuple[str, ...]] = {
    "chart_bar": _AXIS_LABELS,
    "chart_scatter": _AXES,
    "chart_histogram": _AXIS_LABELS,
    "chart_boxplot": _AXIS_LABELS,
    "chart_candlestick": _AXIS_LABELS,
    "map_heatmap": _MAP_VIEW,
    "map_route": _MAP_VIEW,
    "map_polygons": _MAP_VIEW,
    "map_choropleth": _MAP_VIEW,
}
#: How a presentation field found in a value is checked (``columns`` is checked with the table itself).
_PRESENTATION_CHECKS: dict[str, FieldCheck] = {
    "format": _one_of(*_NUMBER_FORMATS),
    "precision": _non_negative_int,
    "true_label": _string,
    "false_label": _string,
    "downloadable": _boolean,
    "x_label": _string,
    "y_label": _string,
    "log_x": _boolean,
    "log_y": _boolean,
    "default_center": _lat_lng,
    "default_zoom": _number,
    "language": _string,
    "unit": _string,
    "caption": _string,
}


def _value_presentation_keys(output_type: str) -> tuple[str, ...]:
    return (
        *_SPEC_PRESENTATION.get(output_type, ()),
        *_VALUE_ONLY_PRESENTATION.get(output_type, ()),
        *_COMMON_PRESENTATION,
    )


def _presentation_holder(output_type: str, value: JSON) -> dict[str, JSON]:
    """Where a value keeps its presentation fields: the scalar wrapper, or the object itself."""
    if output_type in SCALAR_OUTPUT_TYPES:
        return unwrap_scalar(value)[1]
    return value if isinstance(value, dict) else {}


def _check_presentation(output_type: str, value: JSON, out: ProblemList) -> None:
    holder = _presentation_holder(output_type, value)
    for key in _value_presentation_keys(output_type):
        check = _PRESENTATION_CHECKS.get(key)
        if check is not None and holder.get(key) is not None:
            check(holder[key], key, out)


def _as_json(value: object) -> JSON:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    return value


def presentation(spec: OutputSpec, value: JSON) -> dict[str, JSON]:
    """The presentation fields of one output: the spec's, overlaid by the value's (the value wins).

    Spec-level fields (number ``format``/``precision``, boolean labels, table ``columns``/``downloadable``,
    chart_line/chart_area axes, map_points view, code ``language``, plus ``unit`` and ``caption``) come
    first, dropping None. Then the value's own: for scalars every key of the ``{"value": ...}`` wrapper
    (``alt``, ``poster``, ``label``...); for object types the same field names at the top of the value
    (after ``normalise_output``, so a table's string columns come back as objects). None never overrides.
    """
    output_type = str(getattr(spec, "type", ""))
    merged: dict[str, JSON] = {}
    for key in (*_SPEC_PRESENTATION.get(output_type, ()), *_COMMON_PRESENTATION):
        given = getattr(spec, key, None)
        if given is not None:
            merged[key] = _as_json(given)
    if output_type in SCALAR_OUTPUT_TYPES:
        overlay = unwrap_scalar(value)[1]
    else:
        holder = _presentation_holder(output_type, normalise_output(output_type, value))
        overlay = {k: holder[k] for k in _value_presentation_keys(output_type) if k in holder}
    merged.update({k: v for k, v in overlay.items() if v is not None})
    return merged


# --- normalisation ---------------------------------------------------------------------------------------------


def _pairs_object(items: JSON) -> dict[str, JSON] | None:
    """A list of ``{key, value}`` objects or ``[key, value]`` pairs as one object; None if it is not one."""
    if not isinstance(items, _SEQUENCE):
        return None
    pairs: dict[str, JSON] = {}
    for item in items:
        if isinstance(item, dict) and "value" in item and _is_id(item.get("key")):
            pairs[str(item["key"])] = item["value"]
        elif isinstance(item, _SEQUENCE) and len(item) == 2 and _is_id(item[0]):
            pairs[str(item[0])] = item[1]
        else:
            return None
    return pairs


def _normalise_kv(value: JSON) -> JSON:
    if isinstance(value, dict):
        if "pairs" not in value:
            return {"pairs": value}
        pairs = _pairs_object(value["pairs"])
        return value if pairs is None else {**value, "pairs": pairs}
    pairs = _pairs_object(value)
    return value if pairs is None else {"pairs": pairs}


def _normalise_file(value: JSON) -> JSON:
    if not isinstance(value, dict) or "mime_type" in value:
        return value
    for alias in ("mime", "content_type"):
        if isinstance(value.get(alias), str):
            rest = {k: v for k, v in value.items() if k not in ("mime", "content_type")}
            return {**rest, "mime_type": value[alias]}
    return value


def _normalise_table(value: JSON) -> JSON:
    if isinstance(value, _SEQUENCE):
        value = {"rows": list(value)}
    if not isinstance(value, dict) or not isinstance(value.get("columns"), _SEQUENCE):
        return value
    columns = [{"key": c, "label": c} if isinstance(c, str) else c for c in value["columns"]]
    keys = [c.get("key") if isinstance(c, dict) else None for c in columns]
    result = {**value, "columns": columns}
    rows = value.get("rows")
    if isinstance(rows, _SEQUENCE) and all(isinstance(k, str) for k in keys):
        # Rows of the wrong length stay lists, so the shape check can say which ones they are.
        result["rows"] = [
            dict(zip(keys, row, strict=True)) if isinstance(row, _SEQUENCE) and len(row) == len(keys) else row
            for row in rows
        ]
    return result


def _normalise_heatmap(value: JSON) -> JSON:
    if not isinstance(value, dict):
        return value
    result = dict(value)
    for short, canonical in (("x", "x_labels"), ("y", "y_labels")):
        if canonical not in result and isinstance(result.get(short), _SEQUENCE):
            result[canonical] = result.pop(short)
    return result


def _normalise_tree(value: JSON) -> JSON:
    if isinstance(value, dict) and "root" not in value and "name" in value:
        return {"root": value}
    return value


_NORMALISERS: dict[str, Callable[[JSON], JSON]] = {
    "kv": _normalise_kv,
    "file": _normalise_file,
    "table": _normalise_table,
    "chart_heatmap": _normalise_heatmap,
    "tree": _normalise_tree,
}


def normalise_output(output_type: str, value: JSON) -> JSON:
    """The canonical form (what our SDK emits) of a value given in any tolerated variant of contract §9.

    kv: a plain object, a list of ``{key, value}`` or of ``[key, value]`` pairs become ``{"pairs": {...}}``;
    file: ``mime``/``content_type`` become ``mime_type``; table: a bare list of rows becomes ``{"rows": [...]}``,
    string columns become ``{key, label}`` and positional rows become objects keyed by column;
    chart_heatmap: ``x``/``y`` become ``x_labels``/``y_labels``; tree: a bare node becomes ``{"root": node}``.
    Scalars keep their raw or ``{"value": ...}`` form, and progress over 1 stays (it is a percent).

    Never raises and never mutates ``value``; returns it unchanged when it cannot make sense of it.
    """
    normalise = _NORMALISERS.get(output_type) if isinstance(output_type, str) else None
    if normalise is None:
        return value
    try:
        return normalise(value)
    except Exception:
        # A normaliser meeting something it was not written for must not take a run down with it;
        # the shape check describes the value as given.
        return value


# --- public checks ---------------------------------------------------------------------------------------------


def shape_problems(output_type: str, value: JSON, *, canonical: bool = False) -> list[str]:
    """Every way ``value`` departs from the canonical shape of ``output_type`` (contract §3); [] if none.

    The tolerated variants of §9 are accepted (the value is read through ``normalise_output`` first),
    extra keys inside a value are ignored, and null is allowed only for progress. Each problem is a
    short sentence starting with a JSON-path-like location, e.g. ``series[1].y has 3 values but x has 4``;
    at most ``MAX_PROBLEMS`` are listed, then ``... and N more``. Never raises. ``canonical=True`` says the
    caller already passed the value through ``normalise_output`` (the SDK's hot path does).
    """
    check = _TYPE_CHECKS.get(output_type) if isinstance(output_type, str) else None
    if check is None:
        return [f"unknown output type `{output_type}`"]
    out = ProblemList()
    try:
        normal = value if canonical else normalise_output(output_type, value)
        check(normal, out)
        _check_presentation(output_type, normal, out)
    except Exception as exc:
        # Check 9 must report, not crash, whatever a foreign tool sends; a rule that trips is reported too.
        out.add("", f"could not be checked ({type(exc).__name__}: {exc})")
    return out.report()


#: A 1x1 transparent PNG.
_EMPTY_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR42mNgAAIAAAUAAen63NgAAAAASUVORK5CYII="
)
#: Two silent samples of 8-bit mono 8 kHz WAV.
_SILENT_WAV = "data:audio/wav;base64,UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQIAAACAgA=="
#: No video container is small enough to embed, so the smallest valid value is an empty one.
_EMPTY_VIDEO = "data:video/mp4;base64,"

_PLACEHOLDERS: dict[str, JSON] = {
    "text": "",
    "markdown": "",
    "latex": "",
    "code": "",
    "stream_text": "",
    "number": 0,
    "boolean": False,
    "progress": None,
    "image": _EMPTY_PNG,
    "audio": _SILENT_WAV,
    "video": _EMPTY_VIDEO,
    # No `columns`: a placeholder's presentation must not override the spec's columns (the value wins).
    "table": {"rows": []},
    "kv": {"pairs": {}},
    "log": {"lines": []},
    "diff": {"before": "", "after": ""},
    "tree": {"root": {"name": "", "children": []}},
    "timeline": {"events": []},
    "gantt": {"tasks": []},
    "chart_line": {"x": [], "series": []},
    "chart_area": {"x": [], "series": []},
    "chart_bar": {"x": [], "series": []},
    "chart_scatter": {"series": []},
    "chart_pie": {"slices": []},
    "chart_histogram": {"values": []},
    "chart_boxplot": {"series": []},
    "chart_heatmap": {"z": []},
    "chart_candlestick": {"points": []},
    "chart_radar": {"axes": [], "series": []},
    "chart_sankey": {"nodes": [], "links": []},
    "chart_treemap": {"nodes": []},
    "chart_network": {"nodes": [], "edges": []},
    "map_points": {"points": []},
    "map_heatmap": {"points": []},
    "map_route": {"points": []},
    "map_polygons": {"polygons": []},
    "map_choropleth": {"geojson": {"type": "FeatureCollection", "features": []}, "values": {}},
    "image_grid": {"images": []},
    "image_compare": {"before": _EMPTY_PNG, "after": _EMPTY_PNG},
    "file": {"filename": "empty.txt", "data": "data:text/plain;base64,", "mime_type": "text/plain"},
}


def placeholder(output_type: str) -> JSON:
    """A valid, empty canonical value of ``output_type`` (a fresh copy each call).

    What a streaming tool's ``/run`` replies before ``/stream`` fills the outputs in.

    Raises:
        KeyError: ``output_type`` is not one of the 39 output types.
    """
    if output_type not in _PLACEHOLDERS:
        raise KeyError(f"unknown output type `{output_type}`")
    return copy.deepcopy(_PLACEHOLDERS[output_type])


class OutputsReport(NamedTuple):
    """What ``check_outputs`` found in a ``/run`` reply."""

    missing: list[str]
    """Declared output keys absent from the reply (check 9 fails)."""
    undeclared: list[str]
    """Reply keys no output declares, ``run_id`` aside (a warning only)."""
    problems: dict[str, list[str]]
    """Shape problems per output key, only for keys that have some; ``""`` for the reply as a whole."""

    @property
    def ok(self) -> bool:
        """No declared output missing and no shape problem; undeclared keys are only a warning."""
        return not self.missing and not self.problems


def check_outputs(manifest: ToolManifest, outputs: JSON) -> OutputsReport:
    """Check a whole ``/run`` reply against the outputs a manifest declares (validator check 9)."""
    if not isinstance(outputs, dict):
        message = f"the reply must be a JSON object keyed by output key, got {json_kind(outputs)}"
        return OutputsReport(missing=[], undeclared=[], problems={"": [message]})
    declared = {spec.key: spec.type for spec in manifest.outputs}
    problems: dict[str, list[str]] = {}
    for key, output_type in declared.items():
        if key in outputs:
            found = shape_problems(output_type, outputs[key])
            if found:
                problems[key] = found
    return OutputsReport(
        missing=[key for key in declared if key not in outputs],
        undeclared=[str(key) for key in outputs if key not in declared and key not in _ECHOED_KEYS],
        problems=problems,
    )


def _refs_in_image(item: JSON) -> Iterator[dict[str, JSON]]:
    if is_artefact_ref(item):
        yield item
    elif isinstance(item, dict) and "artefact" not in item:
        inner: JSON = next((item[k] for k in _IMAGE_WRAPPER_KEYS if k in item), None)
        if is_artefact_ref(inner):
            yield inner


def iter_artefact_refs(output_type: str, value: JSON) -> Iterator[dict[str, JSON]]:
    """Every well-formed artefact reference inside a value, as the very dicts of ``value``.

    Covers scalar media (and a video's ``poster``), ``file.data``, ``image_grid`` images and
    ``image_compare`` before/after, so the host can add ``"url"`` to each in place. Malformed
    references (absolute paths, ``..``) are skipped: they must never be given a URL.
    """
    if output_type in _MEDIA_TYPES:
        inner, wrapper = unwrap_scalar(value)
        candidates: list[JSON] = [inner, wrapper.get("poster")]
        for candidate in candidates:
            if is_artefact_ref(candidate):
                yield candidate
    elif not isinstance(value, dict):
        return
    elif output_type == "file":
        if is_artefact_ref(value.get("data")):
            yield value["data"]
    elif output_type == "image_grid":
        images = value.get("images")
        for item in images if isinstance(images, _SEQUENCE) else ():
            yield from _refs_in_image(item)
    elif output_type == "image_compare":
        for side in ("before", "after"):
            yield from _refs_in_image(value.get(side))


# Every output type has exactly one check and one placeholder: a type added to output_specs without
# them fails at import (even under `python -O`), not in a user's run.
if not set(_TYPE_CHECKS) == set(OUTPUT_TYPES) == set(_PLACEHOLDERS):
    raise RuntimeError("pixie_sdk.shapes is out of step with OUTPUT_TYPES")
