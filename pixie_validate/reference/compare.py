"""One comparator per output type (all 39): what "this output matches the fixture" means.

Both sides are read through the SDK's canonical shapes first (``pixie_sdk.shapes.normalise_output``
and ``unwrap_scalar``), so a fixture may write a value in any form the contract accepts (kv without
``pairs``, ``{"value": ...}`` scalars, positional table rows...). Numbers compare with
``math.isclose`` semantics (NaN never equals anything); booleans strictly; a field the expected
value leaves out of an item (a point's ``colour``, a log line's ``t``) is not compared.

Every comparator returns a list of differences, each starting with a path inside the output, e.g.
``series["Balance"].y[3]: expected 1.0, got 1.1 (off by 0.1; rtol 1e-06, atol 1e-09)``. None of
them raises: whatever a tool sends, the answer is a difference string.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from pixie_sdk.files import decode_base64, parse_data_url
from pixie_sdk.output_specs import OUTPUT_TYPES
from pixie_sdk.shapes import ProblemList, is_artefact_ref, normalise_output, unwrap_scalar
from pixie_sdk.types import JSON, json_kind
from pixie_validate.reference.tolerance import Tolerance, default_tolerance

__all__ = [
    "COMPARATORS",
    "MAX_DEPTH",
    "MAX_DIFFERENCES",
    "Comparator",
    "Comparison",
    "MediaRoots",
    "comparator_label",
    "compare_output",
    "pillow_available",
]

#: Differences listed per output; the rest are counted in one "... and N more" line.
MAX_DIFFERENCES = 20
#: Deepest nesting compared; also what stops a cyclic value from recursing forever.
MAX_DEPTH = 100
#: Characters of a string shown around its first difference.
SNIPPET_CHARS = 40
#: Largest artefact file read for a comparison; a bigger one is reported, not loaded.
MAX_ARTEFACT_BYTES = 512 * 1024 * 1024

_MEDIA = frozenset({"image", "audio", "video"})
_IMAGE_WRAPPER_KEYS = ("value", "url", "data")
_LATEX_SPACES = re.compile(r"\\[,;:! ]")
_WHITESPACE = re.compile(r"\s+")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class MediaRoots:
    """Where artefact references are read from: the fixture's ``reference/`` folder and the run's artefacts."""

    expected: Path | None = None
    """Expected values' artefact paths are relative to this (the tool's ``reference/`` folder)."""
    actual: Path | None = None
    """The ``artefacts_dir`` the run was given."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """The result of comparing one output."""

    differences: list[str]
    comparator: str
    """How it was compared, for the report: ``number (rtol 1e-06, atol 1e-09)``."""
    skipped: bool = False
    """``compare: skip``: not compared, never a failure."""

    @property
    def ok(self) -> bool:
        return not self.differences


def _new_diffs() -> ProblemList:
    """A collector keeping the first ``MAX_DIFFERENCES`` differences and counting the rest."""
    return ProblemList(MAX_DIFFERENCES, separator=": ")


@dataclass(frozen=True, slots=True)
class _Ctx:
    tol: Tolerance
    media: MediaRoots
    out: ProblemList


# --- paths and rendering ---------------------------------------------------------------------------------------


def _key(path: str, key: object) -> str:
    name = key if isinstance(key, str) else str(key)
    if _IDENTIFIER.match(name):
        return f"{path}.{name}" if path else name
    return f"{path}[{json.dumps(name, ensure_ascii=False)}]"


def _idx(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _named(path: str, field_name: str, name: object) -> str:
    """``series["Balance"]``: an item found by its name rather than its position."""
    return f"{_key(path, field_name)}[{json.dumps(name, ensure_ascii=False, default=str)}]"


def _show(value: JSON, limit: int = 60) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        value = value[: limit + 1]
    elif isinstance(value, list | tuple) and len(value) > limit:
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


# --- leaves ----------------------------------------------------------------------------------------------------


def _is_number(value: JSON) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _close(expected: float, actual: float, tol: Tolerance) -> bool:
    """``math.isclose`` with the tolerance; NaN never equals anything (not even NaN)."""
    return math.isclose(expected, actual, rel_tol=tol.rtol, abs_tol=tol.atol)


def _number(expected: JSON, actual: JSON, path: str, ctx: _Ctx) -> None:
    if not _is_number(actual):
        ctx.out.add(path, f"expected the number {_show(expected)}, got {json_kind(actual)} {_show(actual)}")
        return
    try:
        equal = _close(float(expected), float(actual), ctx.tol)
    except OverflowError:
        equal = expected == actual
    if not equal:
        try:
            off = f"off by {abs(float(actual) - float(expected)):.6g}; "
        except (OverflowError, ValueError):
            off = ""
        ctx.out.add(path, f"expected {_show(expected)}, got {_show(actual)} ({off}{ctx.tol.numbers()})")


def _text_difference(expected: str, actual: str) -> str:
    if len(expected) <= SNIPPET_CHARS and len(actual) <= SNIPPET_CHARS and "\n" not in expected + actual:
        return f"expected {_show(expected)}, got {_show(actual)}"
    pairs = enumerate(zip(expected, actual, strict=False))
    at = next((i for i, (a, b) in pairs if a != b), min(len(expected), len(actual)))
    line = expected.count("\n", 0, at) + 1
    column = at - (expected.rfind("\n", 0, at) + 1) + 1
    start = max(0, at - SNIPPET_CHARS // 4)
    want, got = expected[start : start + SNIPPET_CHARS], actual[start : start + SNIPPET_CHARS]
    lead = "…" if start else ""
    sizes = f"; {len(expected)} vs {len(actual)} characters" if len(expected) != len(actual) else ""
    shown_want, shown_got = _show(lead + want, SNIPPET_CHARS + 8), _show(lead + got, SNIPPET_CHARS + 8)
    return f"differs at line {line}, column {column}: expected {shown_want}, got {shown_got}{sizes}"


def _string(expected: JSON, actual: JSON, path: str, ctx: _Ctx) -> None:
    if not isinstance(actual, str):
        ctx.out.add(path, f"expected the string {_show(expected)}, got {json_kind(actual)} {_show(actual)}")
    elif expected != actual:
        ctx.out.add(path, _text_difference(str(expected), actual))


def _value(expected: JSON, actual: JSON, path: str, ctx: _Ctx, depth: int = 0) -> None:
    """Any JSON value against another: numbers within tolerance, everything else equal, recursively."""
    if depth > MAX_DEPTH:
        ctx.out.add(path, f"is nested deeper than {MAX_DEPTH} levels; not compared further")
    elif _is_number(expected):
        _number(expected, actual, path, ctx)
    elif isinstance(expected, bool):
        if not isinstance(actual, bool) or actual is not expected:
            ctx.out.add(path, f"expected {_show(expected)}, got {json_kind(actual)} {_show(actual)}")
    elif isinstance(expected, str):
        _string(expected, actual, path, ctx)
    elif expected is None:
        if actual is not None:
            ctx.out.add(path, f"expected null, got {json_kind(actual)} {_show(actual)}")
    elif isinstance(expected, list | tuple):
        _list(expected, actual, path, ctx, depth)
    elif isinstance(expected, dict):
        if not isinstance(actual, dict):
            ctx.out.add(path, f"expected an object, got {json_kind(actual)} {_show(actual)}")
            return
        for key, want in expected.items():
            if key in actual:
                _value(want, actual[key], _key(path, key), ctx, depth + 1)
            else:
                ctx.out.add(_key(path, key), f"missing (expected {_show(want)})")
        for key in actual:
            if key not in expected:
                ctx.out.add(_key(path, key), f"not expected (got {_show(actual[key])})")
    elif expected != actual:
        ctx.out.add(path, f"expected {_show(expected)}, got {_show(actual)}")


def _list(expected: JSON, actual: JSON, path: str, ctx: _Ctx, depth: int = 0, noun: str = "item") -> None:
    """Two lists element by element (the common prefix when the lengths differ)."""
    if not isinstance(expected, list | tuple):
        ctx.out.add(path, f"the expected value must be a list, got {json_kind(expected)}")
        return
    if not isinstance(actual, list | tuple):
        ctx.out.add(path, f"expected a list of {_count(len(expected), noun)}, got {json_kind(actual)} {_show(actual)}")
        return
    if len(expected) != len(actual):
        ctx.out.add(path, f"expected {_count(len(expected), noun)}, got {len(actual)}")
    for i, (want, got) in enumerate(zip(expected, actual, strict=False)):
        _value(want, got, _idx(path, i), ctx, depth + 1)


def _subset(expected: JSON, actual: JSON, path: str, ctx: _Ctx, keys: Sequence[str] | None = None) -> None:
    """An item's fields that the expected value gives (or only ``keys`` of them); the actual's others are ignored."""
    if not isinstance(expected, dict):
        _value(expected, actual, path, ctx, 1)
        return
    if not isinstance(actual, dict):
        ctx.out.add(path, f"expected an object, got {json_kind(actual)} {_show(actual)}")
        return
    for key, want in expected.items():
        if keys is not None and key not in keys:
            continue
        if key in actual:
            _value(want, actual[key], _key(path, key), ctx, 1)
        else:
            ctx.out.add(_key(path, key), f"missing (expected {_show(want)})")


def _field(value: JSON, name: str) -> JSON:
    return value.get(name) if isinstance(value, dict) else None


def _object(expected: JSON, actual: JSON, ctx: _Ctx, what: str) -> bool:
    """Both sides are objects (after normalising); else one difference saying which is not."""
    if not isinstance(expected, dict):
        ctx.out.add("", f"the expected value is not {what}: {_show(expected)}")
        return False
    if not isinstance(actual, dict):
        ctx.out.add("", f"expected {what}, got {json_kind(actual)} {_show(actual)}")
        return False
    return True


def _items(
    expected: JSON, actual: JSON, path: str, ctx: _Ctx, compare: Callable[[JSON, JSON, str], None], noun: str
) -> None:
    """Two lists of items in order, each pair compared by ``compare``."""
    if not isinstance(expected, list | tuple):
        ctx.out.add(path, f"the expected value must be a list, got {json_kind(expected)}")
        return
    if not isinstance(actual, list | tuple):
        ctx.out.add(path, f"expected a list of {_count(len(expected), noun)}, got {json_kind(actual)}")
        return
    if len(expected) != len(actual):
        ctx.out.add(path, f"expected {_count(len(expected), noun)}, got {len(actual)}")
    for i, (want, got) in enumerate(zip(expected, actual, strict=False)):
        compare(want, got, _idx(path, i))


def _by_name(
    expected: JSON,
    actual: JSON,
    path: str,
    ctx: _Ctx,
    compare: Callable[[JSON, JSON, str], None],
    *,
    name: str = "name",
    noun: str = "series",
    by_index: bool = False,
) -> None:
    """Two lists of named items (series, slices), matched by name; by position when names repeat or are absent."""
    if not isinstance(expected, list | tuple) or not isinstance(actual, list | tuple):
        _items(expected, actual, path, ctx, compare, noun)
        return
    want_names = [_field(s, name) for s in expected]
    got_names = [_field(s, name) for s in actual]
    usable = all(isinstance(n, str | int) and not isinstance(n, bool) for n in want_names + got_names)
    if by_index or not usable or len(set(want_names)) != len(want_names) or len(set(got_names)) != len(got_names):
        _items(expected, actual, path, ctx, compare, noun)
        return
    got_by_name = dict(zip(got_names, actual, strict=True))
    field_name = path.rsplit(".", 1)[-1] if path else noun
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    for item_name, want in zip(want_names, expected, strict=True):
        where = _named(parent, field_name, item_name)
        if item_name in got_by_name:
            compare(want, got_by_name[item_name], where)
        else:
            ctx.out.add(where, "missing")
    for item_name in got_names:
        if item_name not in want_names:
            ctx.out.add(_named(parent, field_name, item_name), "not expected")


# --- scalars ---------------------------------------------------------------------------------------------------


def _normalise_text(text: str, latex: bool) -> str:
    if latex:
        text = _LATEX_SPACES.sub(" ", text)
    return _WHITESPACE.sub(" ", "\n".join(line.rstrip() for line in text.splitlines())).strip()


def _text_like(latex: bool) -> Callable[[JSON, JSON, _Ctx], None]:
    def compare(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
        want, got = unwrap_scalar(expected)[0], unwrap_scalar(actual)[0]
        if not isinstance(want, str):
            ctx.out.add("", f"the expected value is not a string: {_show(want)}")
            return
        if not isinstance(got, str):
            ctx.out.add("", f"expected a string, got {json_kind(got)} {_show(got)}")
            return
        mode = ctx.tol.compare
        if mode == "json":
            try:
                parsed_want, parsed_got = json.loads(want), json.loads(got)
            except ValueError as exc:
                ctx.out.add("", f"is not JSON on both sides ({exc}); compared as text")
                _string(want, got, "", ctx)
                return
            _value(parsed_want, parsed_got, "", ctx)
        elif mode == "whitespace":
            if _normalise_text(want, latex) != _normalise_text(got, latex):
                difference = _text_difference(_normalise_text(want, latex), _normalise_text(got, latex))
                ctx.out.add("", f"{difference} (whitespace normalised)")
        else:
            _string(want, got, "", ctx)

    return compare


def _compare_number(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    want, got = unwrap_scalar(expected)[0], unwrap_scalar(actual)[0]
    if not _is_number(want):
        ctx.out.add("", f"the expected value is not a number: {_show(want)}")
        return
    _number(want, got, "", ctx)


def _compare_boolean(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    want, got = unwrap_scalar(expected)[0], unwrap_scalar(actual)[0]
    if not isinstance(want, bool):
        ctx.out.add("", f"the expected value is not true or false: {_show(want)}")
    elif not isinstance(got, bool):
        ctx.out.add("", f"expected {_show(want)}, got {json_kind(got)} {_show(got)} (booleans compare strictly)")
    elif want is not got:
        ctx.out.add("", f"expected {_show(want)}, got {_show(got)}")


def _compare_progress(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    want, got = unwrap_scalar(expected)[0], unwrap_scalar(actual)[0]
    if want is None or got is None:
        if want is not got:
            ctx.out.add("", f"expected {_show(want)}, got {_show(got)} (null means indeterminate)")
        return
    _compare_number(want, got, ctx)


# --- media -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Blob:
    """A media value read as bytes, or as a URL/reference string when its bytes are out of reach."""

    data: bytes | None
    where: str | None
    """An http(s) URL or an unreadable artefact path: compared as a string."""
    mime: str | None
    label: str


def _read_artefact(ref: Mapping[str, JSON], root: Path | None) -> _Blob:
    path = str(ref.get("artefact"))
    mime = ref.get("mime_type") if isinstance(ref.get("mime_type"), str) else None
    if root is None:
        return _Blob(None, f"artefact:{path}", mime, f"the artefact `{path}`")
    try:
        base = root.resolve()
        target = (base / path).resolve()
        if not target.is_relative_to(base):
            return _Blob(None, f"artefact:{path}", mime, f"the artefact `{path}` (outside its folder)")
        size = target.stat().st_size
        if size > MAX_ARTEFACT_BYTES:
            return _Blob(None, f"artefact:{path}", mime, f"the artefact `{path}` ({size} bytes, too big to read)")
        return _Blob(target.read_bytes(), None, mime, f"the artefact `{path}`")
    except OSError as exc:
        return _Blob(None, f"artefact:{path}", mime, f"the artefact `{path}` (unreadable: {exc.strerror or exc})")


def _blob(value: JSON, root: Path | None, *, bare_base64: bool = False) -> _Blob | str:
    """The bytes (or URL) of a media value; a string saying what is wrong when it is none of the accepted forms."""
    value = unwrap_scalar(value)[0]
    if isinstance(value, dict):
        if "artefact" in value:
            if not is_artefact_ref(value):
                return f"a malformed artefact reference {_show(value)}"
            return _read_artefact(value, root)
        inner = next((value[k] for k in _IMAGE_WRAPPER_KEYS if k in value), None)
        if inner is None:
            return f"an object without `value`, `url`, `data` or `artefact`: {_show(value)}"
        return _blob(inner, root, bare_base64=bare_base64)
    if not isinstance(value, str):
        return f"{json_kind(value)} {_show(value)}"
    if value[:5].lower() == "data:":
        parsed = parse_data_url(value)
        if parsed is None:
            return f"a malformed data URL {_show(value)}"
        mime, data, _params = parsed
        return _Blob(data, None, mime, f"a data URL ({mime}, {len(data)} bytes)")
    if value[:8].lower().startswith(("http://", "https://")):
        return _Blob(None, value, None, f"the URL {_show(value)}")
    if bare_base64:
        raw = decode_base64(value)
        if raw is not None:
            return _Blob(raw, None, None, f"base64 ({len(raw)} bytes)")
    return f"the string {_show(value)} (not a data URL, an http(s) URL or an artefact reference)"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _bytes_difference(want: bytes, got: bytes) -> str:
    return (
        f"bytes differ: expected {len(want)} bytes (sha256 {_digest(want)}…), "
        f"got {len(got)} bytes (sha256 {_digest(got)}…)"
    )


@functools.cache
def _pillow() -> Any:
    """``PIL.Image`` when Pillow is installed, else None (it is optional)."""
    try:
        return importlib.import_module("PIL.Image")
    except ImportError:
        return None


def pillow_available() -> bool:
    """Images compare by decoded size and pixels (True) or by the SHA-256 of their bytes (False)."""
    return _pillow() is not None


def _pixels(want: bytes, got: bytes, path: str, ctx: _Ctx) -> None:
    image = _pillow()
    if image is None:
        ctx.out.add(path, _bytes_difference(want, got))
        return
    try:
        a, b = image.open(io.BytesIO(want)), image.open(io.BytesIO(got))
        a.load()
        b.load()
    except Exception:  # not an image Pillow can decode: the bytes are all there is to compare
        ctx.out.add(path, _bytes_difference(want, got))
        return
    if a.size != b.size:
        ctx.out.add(path, f"size: expected {a.size[0]}x{a.size[1]} pixels, got {b.size[0]}x{b.size[1]}")
        return
    a, b = a.convert("RGBA"), b.convert("RGBA")
    if a.tobytes() == b.tobytes():
        return
    chops = importlib.import_module("PIL.ImageChops")
    difference = chops.difference(a, b)
    worst = max(high for _low, high in difference.getextrema())
    if worst <= ctx.tol.pixel_atol:
        return
    box = difference.convert("RGB").getbbox()
    region = f" in the region {box}" if box else ""
    ctx.out.add(path, f"pixels differ by up to {worst} of 255{region} (pixel_atol {ctx.tol.pixel_atol})")


def _media(expected: JSON, actual: JSON, path: str, ctx: _Ctx, *, pixels: bool = False, file: bool = False) -> None:
    want = _blob(expected, ctx.media.expected, bare_base64=file)
    got = _blob(actual, ctx.media.actual, bare_base64=file)
    if isinstance(want, str):
        ctx.out.add(path, f"the expected value is {want}")
        return
    if isinstance(got, str):
        ctx.out.add(path, f"expected {want.label}, got {got}")
        return
    if want.data is not None and got.data is not None:
        if want.data == got.data:
            return
        if pixels and ctx.tol.compare == "pixels":
            _pixels(want.data, got.data, path, ctx)
        else:
            ctx.out.add(path, _bytes_difference(want.data, got.data))
    elif want.where != got.where or want.data is not None or got.data is not None:
        ctx.out.add(path, f"expected {want.label}, got {got.label}")


def _compare_image(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    _media(expected, actual, "", ctx, pixels=True)


def _compare_bytes(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    _media(expected, actual, "", ctx)


def _compare_image_grid(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "an image grid"):
        return
    _items(
        expected.get("images"),
        actual.get("images"),
        "images",
        ctx,
        lambda w, g, p: _media(w, g, p, ctx, pixels=True),
        "image",
    )


def _compare_image_compare(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "an image comparison"):
        return
    for side in ("before", "after"):
        if side not in actual:
            ctx.out.add(side, "missing")
        else:
            _media(expected.get(side), actual[side], side, ctx, pixels=True)


def _base_mime(mime: JSON) -> str:
    return str(mime).split(";", 1)[0].strip().lower() if isinstance(mime, str) else ""


def _csv_rows(data: bytes) -> list[list[JSON]]:
    rows: list[list[JSON]] = []
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
        cells: list[JSON] = []
        for cell in row:
            try:
                cells.append(float(cell) if cell.strip() else cell)
            except ValueError:
                cells.append(cell)
        rows.append(cells)
    return rows


def _compare_file(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a file `{filename, data, mime_type}`"):
        return
    want_mime, got_mime = _base_mime(expected.get("mime_type")), _base_mime(actual.get("mime_type"))
    if want_mime and want_mime != got_mime:
        ctx.out.add("mime_type", f"expected {_show(want_mime)}, got {_show(actual.get('mime_type'))}")
    want = _blob(expected.get("data"), ctx.media.expected, bare_base64=True)
    got = _blob(actual.get("data"), ctx.media.actual, bare_base64=True)
    if isinstance(want, str) or isinstance(got, str) or want.data is None or got.data is None:
        _media(expected.get("data"), actual.get("data"), "data", ctx, file=True)
        return
    if want.data == got.data:
        return
    mime = want_mime or _base_mime(want.mime)
    if ctx.tol.compare == "auto":
        try:
            if mime == "application/json" or mime.endswith("+json"):
                _value(json.loads(want.data), json.loads(got.data), "data", ctx)
                return
            if mime == "text/csv":
                _value(_csv_rows(want.data), _csv_rows(got.data), "data", ctx)
                return
            if mime.startswith("text/"):
                _string(want.data.decode("utf-8"), got.data.decode("utf-8"), "data", ctx)
                return
        except (ValueError, UnicodeDecodeError, csv.Error) as exc:
            ctx.out.add("data", f"could not be read as {mime} ({exc}); {_bytes_difference(want.data, got.data)}")
            return
    ctx.out.add("data", _bytes_difference(want.data, got.data))


# --- structured types ------------------------------------------------------------------------------------------


def _sort_key(value: JSON) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _compare_table(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a table `{columns?, rows}`"):
        return
    want_cols, got_cols = expected.get("columns"), actual.get("columns")
    if isinstance(want_cols, list) and isinstance(got_cols, list):
        want_keys = [_field(c, "key") if isinstance(c, dict) else c for c in want_cols]
        got_keys = [_field(c, "key") if isinstance(c, dict) else c for c in got_cols]
        if want_keys != got_keys:
            ctx.out.add("columns", f"expected the keys {_show(want_keys)}, got {_show(got_keys)}")
    rows_want, rows_got = expected.get("rows"), actual.get("rows")
    if ctx.tol.compare == "rows_unordered" and isinstance(rows_want, list) and isinstance(rows_got, list):
        rows_want, rows_got = sorted(rows_want, key=_sort_key), sorted(rows_got, key=_sort_key)
    _items(rows_want, rows_got, "rows", ctx, lambda w, g, p: _value(w, g, p, ctx, 1), "row")


def _compare_kv(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "key-value pairs"):
        return
    want, got = expected.get("pairs"), actual.get("pairs")
    if not isinstance(want, dict):
        ctx.out.add("pairs", f"the expected value is not an object of pairs: {_show(want)}")
        return
    if not isinstance(got, dict):
        ctx.out.add("pairs", f"expected an object of pairs, got {json_kind(got)} {_show(got)}")
        return
    for key, value in want.items():
        if key in got:
            _value(value, got[key], _key("pairs", key), ctx, 1)
        else:
            ctx.out.add(_key("pairs", key), f"missing (expected {_show(value)})")
    if not ctx.tol.allow_extra:
        for key in got:
            if key not in want:
                ctx.out.add(_key("pairs", key), f"not expected (got {_show(got[key])}; `allow_extra: true` allows it)")


def _compare_log(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a log `{lines}`"):
        return

    def line(want: JSON, got: JSON, path: str) -> None:
        if isinstance(want, str):
            want = {"message": want}
        if not isinstance(want, dict) or not isinstance(got, dict):
            _value(want, got, path, ctx, 1)
            return
        message = want.get("message")
        if isinstance(message, str) and message.startswith("re:") and ctx.tol.allow_regex:
            text = got.get("message")
            try:
                matched = isinstance(text, str) and re.fullmatch(message[3:], text) is not None
            except re.error as exc:
                ctx.out.add(_key(path, "message"), f"the expected pattern {_show(message)} is not a valid regex: {exc}")
            else:
                if not matched:
                    ctx.out.add(_key(path, "message"), f"{_show(text)} does not match the pattern {_show(message[3:])}")
            want = {k: v for k, v in want.items() if k != "message"}
        _subset(want, got, path, ctx)

    _items(expected.get("lines"), actual.get("lines"), "lines", ctx, line, "line")


def _compare_diff(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a diff `{before, after}`"):
        return
    for side in ("before", "after"):
        want, got = expected.get(side), actual.get(side)
        if ctx.tol.compare == "whitespace" and isinstance(want, str) and isinstance(got, str):
            want, got = _normalise_text(want, False), _normalise_text(got, False)
        _value(want, got, side, ctx, 1)
    for name in ("filename_before", "filename_after"):
        if expected.get(name) is not None:
            _value(expected[name], actual.get(name), name, ctx, 1)


def _tree_node(expected: JSON, actual: JSON, path: str, ctx: _Ctx, depth: int) -> None:
    if depth > MAX_DEPTH:
        ctx.out.add(path, f"is nested deeper than {MAX_DEPTH} levels; not compared further")
        return
    if not isinstance(expected, dict) or not isinstance(actual, dict):
        _value(expected, actual, path, ctx, depth)
        return
    if expected.get("name") != actual.get("name"):
        _value(expected.get("name"), actual.get("name"), _key(path, "name"), ctx, depth)
    if "meta" in expected or "meta" in actual:
        _value(expected.get("meta"), actual.get("meta"), _key(path, "meta"), ctx, depth + 1)
    want = expected.get("children") or []
    got = actual.get("children") or []
    where = _key(path, "children")
    if not isinstance(want, list) or not isinstance(got, list):
        _value(want, got, where, ctx, depth + 1)
        return
    if ctx.tol.children_order == "ordered":
        if len(want) != len(got):
            ctx.out.add(where, f"expected {_count(len(want), 'child')}, got {len(got)}".replace("childs", "children"))
        for i, (w, g) in enumerate(zip(want, got, strict=False)):
            _tree_node(w, g, _idx(where, i), ctx, depth + 1)
        return
    # Unordered: children matched by name (repeated names pair up in order).
    pool: dict[Any, list[JSON]] = {}
    for child in got:
        pool.setdefault(_sort_key(_field(child, "name")), []).append(child)
    for child in want:
        name = _field(child, "name")
        candidates = pool.get(_sort_key(name))
        if candidates:
            _tree_node(child, candidates.pop(0), _named(path, "children", name), ctx, depth + 1)
        else:
            ctx.out.add(_named(path, "children", name), "missing")
    for leftovers in pool.values():
        for child in leftovers:
            ctx.out.add(_named(path, "children", _field(child, "name")), "not expected")


def _compare_tree(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a tree `{root}`"):
        return
    _tree_node(expected.get("root"), actual.get("root"), "root", ctx, 0)


def _rows_of(list_key: str, noun: str) -> Callable[[JSON, JSON, _Ctx], None]:
    def compare(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
        if not _object(expected, actual, ctx, f"an object with `{list_key}`"):
            return
        _items(expected.get(list_key), actual.get(list_key), list_key, ctx, lambda w, g, p: _subset(w, g, p, ctx), noun)

    return compare


# --- charts ----------------------------------------------------------------------------------------------------


def _series(expected: JSON, actual: JSON, ctx: _Ctx, compare: Callable[[JSON, JSON, str], None]) -> None:
    _by_name(
        expected.get("series"),
        actual.get("series"),
        "series",
        ctx,
        compare,
        by_index=ctx.tol.series_match == "by_index",
    )


def _values(field_name: str, *, sort: bool = False) -> Callable[[_Ctx], Callable[[JSON, JSON, str], None]]:
    """Compare one list field of two series (sorted first when order carries no meaning)."""

    def make(ctx: _Ctx) -> Callable[[JSON, JSON, str], None]:
        def compare(want: JSON, got: JSON, path: str) -> None:
            if not isinstance(want, dict) or not isinstance(got, dict):
                _value(want, got, path, ctx, 1)
                return
            a, b = want.get(field_name), got.get(field_name)
            if sort and isinstance(a, list) and isinstance(b, list):
                a, b = _sorted_numbers(a), _sorted_numbers(b)
            _list(a, b, _key(path, field_name), ctx, 1, "value")

        return compare

    return make


def _sorted_numbers(values: list[JSON]) -> list[JSON]:
    if all(_is_number(v) for v in values):
        return sorted(values)
    return values


def _compare_xy(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a chart `{x, series}`"):
        return
    _list(expected.get("x"), actual.get("x"), "x", ctx, 1, "value")
    _series(expected, actual, ctx, _values("y")(ctx))


def _compare_scatter(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a scatter chart `{series}`"):
        return

    def series(want: JSON, got: JSON, path: str) -> None:
        _items(
            _field(want, "points"),
            _field(got, "points"),
            _key(path, "points"),
            ctx,
            lambda w, g, p: _subset(w, g, p, ctx),
            "point",
        )

    _series(expected, actual, ctx, series)


def _compare_pie(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a pie chart `{slices}`"):
        return
    _by_name(
        expected.get("slices"),
        actual.get("slices"),
        "slices",
        ctx,
        lambda w, g, p: _subset(w, g, p, ctx, ("value",)),
        name="label",
        noun="slice",
    )


def _compare_histogram(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a histogram `{values}`"):
        return
    want, got = expected.get("values"), actual.get("values")
    if isinstance(want, list) and isinstance(got, list):
        want, got = _sorted_numbers(want), _sorted_numbers(got)
    _list(want, got, "values", ctx, 1, "value")
    if expected.get("bins") is not None:
        _value(expected["bins"], actual.get("bins"), "bins", ctx, 1)


def _quantile(values: list[float], q: float) -> float:
    at = (len(values) - 1) * q
    low = math.floor(at)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (at - low)


def _summary(values: JSON) -> dict[str, float] | None:
    if not isinstance(values, list) or not values or not all(_is_number(v) for v in values):
        return None
    ordered = sorted(float(v) for v in values)
    return {
        "min": ordered[0],
        "q1": _quantile(ordered, 0.25),
        "median": _quantile(ordered, 0.5),
        "q3": _quantile(ordered, 0.75),
        "max": ordered[-1],
    }


def _compare_boxplot(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a box plot `{series}`"):
        return
    if ctx.tol.compare != "series_summary":
        _series(expected, actual, ctx, _values("values", sort=True)(ctx))
        return

    def summary(want: JSON, got: JSON, path: str) -> None:
        a, b = _summary(_field(want, "values")), _summary(_field(got, "values"))
        if a is None or b is None:
            _values("values", sort=True)(ctx)(want, got, path)
            return
        for stat, value in a.items():
            _number(value, b[stat], _key(path, stat), ctx)

    _series(expected, actual, ctx, summary)


def _compare_heatmap(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a heatmap `{z}`"):
        return
    want, got = expected.get("z"), actual.get("z")
    _items(want, got, "z", ctx, lambda w, g, p: _list(w, g, p, ctx, 1, "cell"), "row")
    for labels in ("x_labels", "y_labels"):
        if expected.get(labels) is not None:
            _value(expected[labels], actual.get(labels), labels, ctx, 1)


def _compare_radar(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a radar chart `{axes, series}`"):
        return
    _list(expected.get("axes"), actual.get("axes"), "axes", ctx, 1, "axis")
    _series(expected, actual, ctx, _values("values")(ctx))


def _ids(nodes: JSON) -> dict[str, JSON]:
    """Graph nodes by id (as a JSON string, so 1 and "1" stay apart)."""
    found: dict[str, JSON] = {}
    for node in nodes if isinstance(nodes, list) else ():
        if isinstance(node, dict) and "id" in node:
            found.setdefault(_sort_key(node["id"]), node)
    return found


def _nodes(expected: JSON, actual: JSON, ctx: _Ctx, fields: tuple[str, ...]) -> None:
    want, got = _ids(expected.get("nodes")), _ids(actual.get("nodes"))
    missing = [want[k].get("id") for k in want if k not in got]
    extra = [got[k].get("id") for k in got if k not in want]
    if missing:
        ctx.out.add("nodes", f"missing the ids {_show(missing)}")
    if extra:
        ctx.out.add("nodes", f"has ids not expected: {_show(extra)}")
    for k, node in want.items():
        if k in got:
            _subset(node, got[k], _named("", "nodes", node.get("id")), ctx, fields)


def _edge_name(edge: JSON) -> str:
    return f"{_show(_field(edge, 'source'))} → {_show(_field(edge, 'target'))}"


def _edges(expected: JSON, actual: JSON, list_key: str, ctx: _Ctx, fields: tuple[str, ...]) -> None:
    want, got = expected.get(list_key), actual.get(list_key)
    if not isinstance(want, list) or not isinstance(got, list):
        _value(want, got, list_key, ctx, 1)
        return
    pool: dict[str, list[JSON]] = {}
    for edge in got:
        pool.setdefault(_edge_name(edge), []).append(edge)
    for edge in want:
        name = _edge_name(edge)
        where = f"{list_key}[{name}]"
        if pool.get(name):
            _subset(edge, pool[name].pop(0), where, ctx, fields)
        else:
            ctx.out.add(where, "missing")
    for name, leftovers in pool.items():
        for _edge in leftovers:
            ctx.out.add(f"{list_key}[{name}]", "not expected")


def _compare_sankey(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a sankey chart `{nodes, links}`"):
        return
    _nodes(expected, actual, ctx, ("label",))
    _edges(expected, actual, "links", ctx, ("value",))


def _compare_network(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a network `{nodes, edges}`"):
        return
    _nodes(expected, actual, ctx, ("label",))
    _edges(expected, actual, "edges", ctx, ("label", "value", "weight"))


def _compare_treemap(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a treemap `{nodes}`"):
        return

    def rooted(value: dict[str, JSON]) -> dict[str, JSON]:
        nodes = value.get("nodes")
        if not isinstance(nodes, list):
            return value
        # A root's parent may be absent, null or "" (Plotly's convention): all mean the same.
        fixed = [{**n, "parent": n.get("parent") or None} if isinstance(n, dict) else n for n in nodes]
        return {**value, "nodes": fixed}

    _nodes(rooted(expected), rooted(actual), ctx, ("label", "parent", "value"))


def _compare_candlestick(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    _rows_of("points", "point")(expected, actual, ctx)


# --- maps ------------------------------------------------------------------------------------------------------


def _lat_lng(point: JSON) -> tuple[JSON, JSON] | None:
    """A point's (lat, lng): ``lat``/``latitude`` and ``lng``/``lon``/``longitude``, or a [lat, lng] pair.

    Presence is tested by key, never by truthiness: latitude 0 is a value.
    """
    if isinstance(point, list | tuple) and len(point) == 2:
        return point[0], point[1]
    if not isinstance(point, dict):
        return None
    lat = next((point[k] for k in ("lat", "latitude") if k in point), None)
    lng = next((point[k] for k in ("lng", "lon", "longitude") if k in point), None)
    if lat is None or lng is None:
        return None
    return lat, lng


def _rounded(value: JSON, digits: int | None) -> JSON:
    return round(value, digits) if digits is not None and _is_number(value) else value


def _point_sort_key(point: JSON, digits: int | None) -> tuple[int, float, float, str]:
    pair = _lat_lng(point)
    if pair is None or not all(_is_number(v) for v in pair):
        return (1, 0.0, 0.0, _sort_key(point))
    return (0, float(_rounded(pair[0], digits)), float(_rounded(pair[1], digits)), "")


def _point(want: JSON, got: JSON, path: str, ctx: _Ctx) -> None:
    a, b = _lat_lng(want), _lat_lng(got)
    if a is None:
        ctx.out.add(path, f"the expected value is not a point with lat and lng: {_show(want)}")
        return
    if b is None:
        ctx.out.add(path, f"expected a point with lat and lng, got {_show(got)}")
        return
    digits = ctx.tol.round_digits
    for name, x, y in (("lat", a[0], b[0]), ("lng", a[1], b[1])):
        where = _key(path, name) if isinstance(want, dict) else _idx(path, 0 if name == "lat" else 1)
        _value(_rounded(x, digits), _rounded(y, digits), where, ctx, 1)
    if isinstance(want, dict) and isinstance(got, dict):
        others = {k: v for k, v in want.items() if k not in ("lat", "latitude", "lng", "lon", "longitude")}
        _subset(others, got, path, ctx)


def _ordered_points(expected: JSON, actual: JSON, ctx: _Ctx) -> tuple[JSON, JSON]:
    if ctx.tol.compare == "unordered" and isinstance(expected, list) and isinstance(actual, list):
        digits = ctx.tol.round_digits
        return (
            sorted(expected, key=lambda p: _point_sort_key(p, digits)),
            sorted(actual, key=lambda p: _point_sort_key(p, digits)),
        )
    return expected, actual


def _compare_points(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a map `{points}`"):
        return
    want, got = _ordered_points(expected.get("points"), actual.get("points"), ctx)
    _items(want, got, "points", ctx, lambda w, g, p: _point(w, g, p, ctx), "point")


def _coords(polygon: JSON) -> JSON:
    if not isinstance(polygon, dict):
        return None
    return polygon.get("coords", polygon.get("vertices"))


def _compare_polygons(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a map `{polygons}`"):
        return
    want, got = expected.get("polygons"), actual.get("polygons")
    if ctx.tol.compare == "unordered" and isinstance(want, list) and isinstance(got, list):
        digits = ctx.tol.round_digits

        def key(polygon: JSON) -> str:
            coords = _coords(polygon)
            points = coords if isinstance(coords, list) else []
            return _sort_key([_point_sort_key(p, digits) for p in points])

        want, got = sorted(want, key=key), sorted(got, key=key)

    def polygon(w: JSON, g: JSON, path: str) -> None:
        if not isinstance(w, dict) or not isinstance(g, dict):
            _value(w, g, path, ctx, 1)
            return
        _items(_coords(w), _coords(g), _key(path, "coords"), ctx, lambda a, b, p: _point(a, b, p, ctx), "point")
        _subset({k: v for k, v in w.items() if k not in ("coords", "vertices")}, g, path, ctx)

    _items(want, got, "polygons", ctx, polygon, "polygon")


def _compare_choropleth(expected: JSON, actual: JSON, ctx: _Ctx) -> None:
    if not _object(expected, actual, ctx, "a choropleth `{geojson, values}`"):
        return
    _value(expected.get("values"), actual.get("values"), "values", ctx, 0)


# --- dispatch --------------------------------------------------------------------------------------------------

#: A comparator of normalised values; adds its differences to ``ctx.out``.
_Compare: TypeAlias = Callable[[JSON, JSON, _Ctx], None]

_COMPARE: dict[str, _Compare] = {
    "text": _text_like(latex=False),
    "code": _text_like(latex=False),
    "stream_text": _text_like(latex=False),
    "markdown": _text_like(latex=False),
    "latex": _text_like(latex=True),
    "number": _compare_number,
    "boolean": _compare_boolean,
    "progress": _compare_progress,
    "image": _compare_image,
    "audio": _compare_bytes,
    "video": _compare_bytes,
    "table": _compare_table,
    "kv": _compare_kv,
    "log": _compare_log,
    "diff": _compare_diff,
    "tree": _compare_tree,
    "timeline": _rows_of("events", "event"),
    "gantt": _rows_of("tasks", "task"),
    "chart_line": _compare_xy,
    "chart_area": _compare_xy,
    "chart_bar": _compare_xy,
    "chart_scatter": _compare_scatter,
    "chart_pie": _compare_pie,
    "chart_histogram": _compare_histogram,
    "chart_boxplot": _compare_boxplot,
    "chart_heatmap": _compare_heatmap,
    "chart_candlestick": _compare_candlestick,
    "chart_radar": _compare_radar,
    "chart_sankey": _compare_sankey,
    "chart_treemap": _compare_treemap,
    "chart_network": _compare_network,
    "map_points": _compare_points,
    "map_heatmap": _compare_points,
    "map_route": _compare_points,
    "map_polygons": _compare_polygons,
    "map_choropleth": _compare_choropleth,
    "image_grid": _compare_image_grid,
    "image_compare": _compare_image_compare,
    "file": _compare_file,
}

_BINARY = frozenset({"image", "audio", "video", "image_grid", "image_compare"})
_STRINGS = frozenset({"text", "code", "stream_text", "markdown", "latex", "diff"})
#: Words for the modes that are not a type's only way of comparing.
_MODE_WORDS: dict[str, str] = {
    "exact": "exact",
    "whitespace": "whitespace-normalised",
    "json": "as JSON",
    "rows_ordered": "rows in order",
    "rows_unordered": "rows in any order",
    "ordered": "in order",
    "unordered": "in any order",
    "series_summary": "min, quartiles and max",
    "auto": "by content type",
    "sha256": "SHA-256 of the bytes",
}


def comparator_label(output_type: str, tolerance: Tolerance) -> str:
    """How an output is compared, for the report: ``number (rtol 1e-06, atol 1e-09)``, ``image (SHA-256 ...)``."""
    mode = tolerance.compare
    if mode == "skip":
        return f"{output_type} (skipped)"
    parts: list[str] = []
    if mode == "pixels":
        parts.append("size and pixels" if pillow_available() else "SHA-256 of the bytes; Pillow is not installed")
    elif mode in _MODE_WORDS:
        parts.append(_MODE_WORDS[mode])
    textual = output_type in _STRINGS and mode != "json"
    numeric = output_type not in _BINARY and output_type != "boolean" and not textual
    if numeric and not (output_type in ("number", "progress") and mode == "exact"):
        parts.append(tolerance.numbers())
    if output_type == "kv" and tolerance.allow_extra:
        parts.append("extra pairs allowed")
    if output_type == "tree":
        parts.append(f"children {'in order' if tolerance.children_order == 'ordered' else 'matched by name'}")
    if output_type.startswith("chart_") and tolerance.series_match == "by_index":
        parts.append("series by position")
    if output_type.startswith("map_") and tolerance.round_digits is not None:
        parts.append(f"coordinates rounded to {tolerance.round_digits} places")
    return f"{output_type} ({', '.join(parts)})" if parts else output_type


def compare_output(
    output_type: str,
    expected: JSON,
    actual: JSON,
    tolerance: Tolerance | None = None,
    *,
    media: MediaRoots | None = None,
) -> Comparison:
    """Compare one output's actual value with the expected one, both read through the canonical shapes.

    Never raises: an unknown type, a malformed value or a bug in a rule becomes a difference.
    """
    tol = tolerance or default_tolerance(output_type)
    try:
        label = comparator_label(output_type, tol)
    except Exception:  # a label is decoration; it must not stop a comparison
        label = str(output_type)
    compare = _COMPARE.get(output_type) if isinstance(output_type, str) else None
    if compare is None:
        return Comparison([f"unknown output type `{output_type}`"], label)
    if tol.skip:
        return Comparison([], label, skipped=True)
    out = _new_diffs()
    try:
        if tol.compare == "exact" and output_type in ("number", "progress"):
            tol = Tolerance(compare="exact", rtol=0.0, atol=0.0)
        want, got = normalise_output(output_type, expected), normalise_output(output_type, actual)
        compare(want, got, _Ctx(tol, media or MediaRoots(), out))
    except RecursionError:
        out.add("", f"is nested too deeply to compare (over {MAX_DEPTH} levels)")
    except Exception as exc:  # a comparator meeting something it was not written for reports it; it never crashes
        out.add("", f"could not be compared ({type(exc).__name__}: {exc})")
    return Comparison(out.report(), label)


#: ``(expected, actual, tolerance, media) -> differences``: one per output type.
Comparator: TypeAlias = Callable[[JSON, JSON, "Tolerance | None", "MediaRoots | None"], list[str]]


def _comparator(output_type: str) -> Comparator:
    def run(
        expected: JSON, actual: JSON, tolerance: Tolerance | None = None, media: MediaRoots | None = None
    ) -> list[str]:
        return compare_output(output_type, expected, actual, tolerance, media=media).differences

    run.__name__ = f"compare_{output_type}"
    run.__doc__ = f"The differences between two `{output_type}` values (never raises)."
    return run


#: The comparator of each of the 39 output types.
COMPARATORS: dict[str, Comparator] = {t: _comparator(t) for t in OUTPUT_TYPES}


# Every output type has exactly one comparator: a type added without one fails at import.
if set(_COMPARE) != set(OUTPUT_TYPES):
    raise RuntimeError("pixie_validate.reference.compare is out of step with OUTPUT_TYPES")
