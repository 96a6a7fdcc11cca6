"""Sample input values: one valid value per input type, and one wrongly typed value.

Used by the validator's sample run (check 8) and error-envelope probe (check 13), the
conformance kit, fuzz seeds and the cookiecutter template. Unlike the public project's
generator (research notes §6.5, ⚠17), a sample here respects the input's own constraints
(bounds, step, options, ``max_length``, ``min_rows``, ``accept``, ``schema``), optional
inputs can be left out, and every value is checked against the same rule the SDK applies
at run time (``pixie_sdk.run_input.input_value_type``). Everything is deterministic: the
same spec always gives the same sample.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import io
import math
import mimetypes
import re
import struct
import urllib.parse
import wave
import zlib
from collections.abc import Callable, Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from functools import cache

from pixie_sdk.input_specs import (
    AudioInput,
    AutocompleteInput,
    CheckboxInput,
    CodeInput,
    ColourInput,
    DateInput,
    DateRangeInput,
    DatetimeInput,
    FileInput,
    HiddenInput,
    ImageInput,
    InputSpec,
    JsonInput,
    MapBboxInput,
    MapMultipointInput,
    MapPointInput,
    MapPolygonInput,
    MarkdownInput,
    MultiselectInput,
    NumberInput,
    RadioInput,
    SelectInput,
    SliderInput,
    TableInput,
    TagsInput,
    TextareaInput,
    TextInput,
    TimeInput,
    ToggleInput,
)
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.run_input import check_input_value, visible_inputs
from pixie_sdk.types import JSON, JSONObject

__all__ = ["invalid_value", "sample_inputs", "sample_value"]

_TEXT = "sample"
_DATE = dt.date(2026, 1, 1)
_TIME = "12:00"
_DATETIME = "2026-01-01T12:00:00"
_DATE_RANGE = ["2026-01-01", "2026-01-08"]
_COLOUR = "#3366cc"
_CENTRE = (51.5, -0.12)
#: Half the side of the box, triangle and point spread drawn around a map's centre, in degrees.
_SPREAD = 0.01
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Check = Callable[[JSON], bool]


def _checker(spec: InputSpec) -> Check:
    """A predicate "this value is valid for spec", by the run-time rule (``check_input_value``)."""

    def ok(value: JSON) -> bool:
        try:
            return check_input_value(spec, value) is None
        except Exception:  # a malformed schema or date bound raises instead of judging: nothing is valid then
            return False

    return ok


def _first_valid(candidates: Iterable[JSON], ok: Check) -> tuple[bool, JSON]:
    """The first candidate ``ok`` accepts, as ``(True, value)``; ``(False, first candidate)`` when none is."""
    first: JSON = None
    for n, value in enumerate(candidates):
        if n == 0:
            first = value
        if ok(value):
            return True, value
    return False, first


# ---------------------------------------------------------------------------------------------
# Numbers: exact decimal arithmetic, so snapping to a step never lands a hair outside a bound.
# ---------------------------------------------------------------------------------------------


def _dec(value: float | None) -> Decimal | None:
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return None
    # str() of a float is its shortest round-tripping spelling, so Decimal -> float gives it back exactly.
    return Decimal(str(value))


def _snap(target: Decimal, lo: Decimal | None, hi: Decimal | None, step: Decimal | None) -> Decimal:
    """``target`` moved down onto the grid ``lo + k*step`` (or ``k*step`` without ``lo``), kept inside the bounds."""
    if step is None or step <= 0:
        return target
    base = lo if lo is not None else Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 80
        k = ((target - base) / step).to_integral_value(rounding=ROUND_FLOOR)
        value = base + k * step
        if hi is not None and value > hi:
            value -= step
        if lo is not None and value < lo:
            value = lo
    return value


def _number(value: Decimal, *, integral: bool) -> int | float:
    """A JSON number: an int when the value is whole and ints make sense (no fractional step), else a float."""
    if integral and value == value.to_integral_value():
        return int(value)
    return float(value)


def _bounded_number(
    lo_f: float | None, hi_f: float | None, step_f: float | None, *, fraction: Decimal = Decimal("0.5")
) -> int | float:
    """The point ``fraction`` of the way from ``lo`` to ``hi`` (or ``lo``, or ``hi``, or 1), snapped to ``step``."""
    lo, hi, step = _dec(lo_f), _dec(hi_f), _dec(step_f)
    if lo is not None and hi is not None:
        target = lo + (hi - lo) * fraction if lo <= hi else lo
    else:
        target = lo if lo is not None else hi if hi is not None else Decimal(1)
    value = _snap(target, lo, hi, step)
    return _number(value, integral=step is None or step == step.to_integral_value())


# ---------------------------------------------------------------------------------------------
# Files: small, genuinely valid payloads for the formats a tool is likely to open.
# ---------------------------------------------------------------------------------------------


def _png() -> bytes:
    """A 1x1 transparent RGBA PNG."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x00" * 4)  # filter byte, then one RGBA pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _wav() -> bytes:
    """100 ms of 8 kHz, 16-bit mono silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    return buffer.getvalue()


def _mp3() -> bytes:
    """One silent MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz, mono): a header, then zeroed side info and data."""
    return b"\xff\xfb\x90\xc0" + bytes(417 - 4)


#: (MIME type, extension, payload) of each format with a real sample, in order of preference.
_FORMATS: tuple[tuple[str, str, Callable[[], bytes]], ...] = (
    ("text/plain", ".txt", lambda: b"sample\n"),
    ("text/csv", ".csv", lambda: b"name,value\nsample,1\n"),
    ("application/json", ".json", lambda: b'{"sample": true}\n'),
    ("image/png", ".png", _png),
    ("audio/wav", ".wav", _wav),
    ("audio/mpeg", ".mp3", _mp3),
)
#: Other spellings of a MIME type in ``_FORMATS``: the sample keeps the spelling ``accept`` asked for.
_MIME_ALIASES = {"audio/x-wav": "audio/wav", "audio/wave": "audio/wav", "audio/vnd.wave": "audio/wav",
                 "audio/mp3": "audio/mpeg", "text/x-csv": "text/csv", "application/csv": "text/csv"}  # fmt: skip
_FORMAT_BY_MIME = {f[0]: f for f in _FORMATS}
#: The sample file of each file type when ``accept`` does not ask for something else.
_OWN_FORMAT = {"file": "text/plain", "image": "image/png", "audio": "audio/wav"}
_PLACEHOLDER = b"sample\n"


@cache
def _payload(builder: Callable[[], bytes]) -> bytes:
    return builder()


def _by_mime(mime: str) -> tuple[str, str, Callable[[], bytes]] | None:
    return _FORMAT_BY_MIME.get(_MIME_ALIASES.get(mime, mime))


def _by_ext(ext: str) -> tuple[str, str, Callable[[], bytes]] | None:
    return next((f for f in _FORMATS if f[1] == ext), None)


def _data_url(data: bytes, mime: str, name: str | None = None) -> str:
    # `name=` is only added when needed: naive tools split the header on `;` and expect `<mime>;base64`.
    extra = f";name={urllib.parse.quote(name)}" if name else ""
    return f"data:{mime}{extra};base64,{base64.b64encode(data).decode('ascii')}"


def _file_for(pattern: str) -> tuple[bool, str] | None:
    """A data URL matching one ``accept`` pattern, and whether its payload is a real file of that format."""
    p = pattern.strip().lower()
    if not p:
        return None
    if p.startswith("."):
        known = _by_ext(p)
        if known is not None:
            return True, _data_url(_payload(known[2]), known[0], f"sample{p}")
        mime = mimetypes.guess_type(f"sample{p}")[0] or "application/octet-stream"
        return False, _data_url(_PLACEHOLDER, mime, f"sample{p}")
    if p in ("*", "*/*"):
        return None
    if p.endswith("/*"):
        major = p[:-2]
        known = next((f for f in _FORMATS if f[0].startswith(f"{major}/")), None)
        if known is not None:
            return True, _data_url(_payload(known[2]), known[0])
        return False, _data_url(_PLACEHOLDER, f"{major}/octet-stream")
    known = _by_mime(p)
    return known is not None, _data_url(_payload(known[2]) if known else _PLACEHOLDER, p)


def _file_samples(spec: FileInput | ImageInput | AudioInput) -> list[JSON]:
    accept = spec.accept
    patterns = (accept.split(",") if isinstance(accept, str) else accept) if accept else []
    made = [f for f in (_file_for(p) for p in patterns) if f is not None]
    urls = [url for real, url in made if real] + [url for real, url in made if not real]
    own, _, builder = _FORMAT_BY_MIME[_OWN_FORMAT[spec.type]]
    urls.append(_data_url(_payload(builder), own))
    urls.append(_data_url(b"", "text/plain"))  # for a `max_size_mb` of 0
    return [[url] for url in urls] if spec.multiple else list(urls)


# ---------------------------------------------------------------------------------------------
# JSON Schema: a small generator for the common keywords; jsonschema has the final word.
# ---------------------------------------------------------------------------------------------

_MAX_DEPTH = 12
#: Strings for the `format`s tools most often declare; jsonschema does not enforce formats by default.
_STRING_FORMATS = {
    "date": "2026-01-01", "date-time": "2026-01-01T12:00:00Z", "time": "12:00:00Z", "email": "sample@example.com",
    "uri": "https://example.com/", "url": "https://example.com/", "uri-reference": "https://example.com/",
    "hostname": "example.com", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1",
    "uuid": "00000000-0000-4000-8000-000000000000", "duration": "P1D",
}  # fmt: skip
_TYPE_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("object", ("properties", "required", "additionalProperties", "minProperties", "patternProperties")),
    ("array", ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")),
    ("string", ("minLength", "maxLength", "pattern", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)


class _SchemaSampler:
    """Builds one value for a schema; ``hints`` says whether its ``default``/``examples`` may be used."""

    def __init__(self, root: JSONObject, *, hints: bool) -> None:
        self.root = root
        self.hints = hints

    def value(self, schema: JSON, depth: int = 0, variant: int = 0) -> JSON:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return {}  # `true`, or too deep to bother: anything goes (and `false` allows nothing)
        schema = self._merged(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[variant % len(enum)]
        if self.hints:
            if "default" in schema:
                return schema["default"]
            examples = schema.get("examples")
            if isinstance(examples, list) and examples:
                return examples[0]
        match _schema_type(schema):
            case "object":
                return self._object(schema, depth)
            case "array":
                return self._array(schema, depth)
            case "string":
                return _schema_string(schema, variant)
            case "integer":
                return _schema_number(schema, variant, integer=True)
            case "number":
                return _schema_number(schema, variant, integer=False)
            case "boolean":
                return variant % 2 == 1
            case "null":
                return None
        return {}

    def _merged(self, schema: JSONObject) -> JSONObject:
        """``$ref``, ``allOf`` and the first branch of ``anyOf``/``oneOf`` folded into one flat schema."""
        out = dict(schema)
        for _ in range(_MAX_DEPTH):
            ref = out.pop("$ref", None)
            all_of = out.pop("allOf", None)
            branch = next((out.pop(k) for k in ("anyOf", "oneOf") if isinstance(out.get(k), list) and out[k]), None)
            parts: list[JSON] = []
            if isinstance(ref, str):
                parts.append(self._resolve(ref))
            if isinstance(all_of, list):
                parts.extend(all_of)
            if branch is not None:
                parts.append(branch[0])
            if not parts:
                break
            for part in parts:
                if isinstance(part, dict):
                    out = {**part, **out, **_merge_keywords(out, part)}
        return out

    def _resolve(self, ref: str) -> JSON:
        if not ref.startswith("#"):
            return {}  # remote refs are out of scope for a sample
        node: JSON = self.root
        for raw in ref[1:].split("/")[1:]:
            part = urllib.parse.unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return {}
        return node

    def _object(self, schema: JSONObject, depth: int) -> JSONObject:
        given = schema.get("properties")
        props: JSONObject = given if isinstance(given, dict) else {}
        extra = schema.get("additionalProperties", True)
        required = [r for r in schema.get("required", []) if isinstance(r, str)]
        want = schema.get("minProperties")
        want = want if isinstance(want, int) else 0
        names = list(dict.fromkeys(required))
        for name in props:
            if len(names) >= want:
                break
            if name not in names:
                names.append(name)
        fill = extra if isinstance(extra, dict) else {}
        out: JSONObject = {name: self.value(props.get(name, fill), depth + 1) for name in names}
        n = 0
        while len(out) < want and extra is not False and n < want:
            n += 1
            out.setdefault(f"{_TEXT}{n}", self.value(fill, depth + 1))
        return out

    def _array(self, schema: JSONObject, depth: int) -> list[JSON]:
        given = schema.get("prefixItems")
        prefix: list[JSON] = given if isinstance(given, list) else []
        items = schema.get("items", {})
        low = schema.get("minItems", 0)
        high = schema.get("maxItems")
        count = max(low if isinstance(low, int) else 0, 1)
        if items is False:
            count = min(count, len(prefix))
        if isinstance(high, int):
            count = min(count, high)
        unique = schema.get("uniqueItems") is True
        out: list[JSON] = []
        for n in range(count):
            sub = prefix[n] if n < len(prefix) else items
            out.append(self.value(sub, depth + 1, variant=n if unique else 0))
        return out


def _merge_keywords(a: JSONObject, b: JSONObject) -> JSONObject:
    """Keywords that must combine rather than override when two schemas are folded together."""
    out: JSONObject = {}
    if isinstance(a.get("required"), list) or isinstance(b.get("required"), list):
        out["required"] = list(dict.fromkeys([*b.get("required", []), *a.get("required", [])]))
    if isinstance(a.get("properties"), dict) and isinstance(b.get("properties"), dict):
        out["properties"] = {**b["properties"], **a["properties"]}
    return out


def _schema_type(schema: JSONObject) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        named = [k for k in kind if isinstance(k, str)]
        return next((k for k in named if k != "null"), "null" if named else None)
    if isinstance(kind, str):
        return kind
    return next((t for t, words in _TYPE_HINTS if any(w in schema for w in words)), None)


def _schema_string(schema: JSONObject, variant: int) -> str:
    fmt = schema.get("format")
    text = _STRING_FORMATS.get(fmt, _TEXT) if isinstance(fmt, str) else _TEXT
    if variant:
        text = f"{text}{variant}"
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(text) < low:
        text += "x" * (low - len(text))
    if isinstance(high, int) and high >= 0:
        text = text[:high]
    return text


def _schema_bound(schema: JSONObject, inclusive: str, exclusive: str) -> tuple[Decimal | None, bool]:
    """The tighter bound of a number schema on one side, as ``(value, is_exclusive)``.

    Draft-4 style boolean ``exclusiveMinimum``/``exclusiveMaximum`` are understood too.
    """
    inc, exc = _schema_decimal(schema.get(inclusive)), schema.get(exclusive)
    if exc is True:
        return inc, inc is not None
    exc_d = _schema_decimal(exc)
    if exc_d is None:
        return inc, False
    if inc is None:
        return exc_d, True
    tighter = exc_d >= inc if inclusive == "minimum" else exc_d <= inc
    return (exc_d, True) if tighter else (inc, False)


def _schema_decimal(value: JSON) -> Decimal | None:
    return _dec(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _schema_number(schema: JSONObject, variant: int, *, integer: bool) -> int | float:
    lo, lo_x = _schema_bound(schema, "minimum", "exclusiveMinimum")
    hi, hi_x = _schema_bound(schema, "maximum", "exclusiveMaximum")
    if integer:
        if lo is not None:
            lo, lo_x = (lo.to_integral_value(ROUND_FLOOR) + 1 if lo_x else lo.to_integral_value(ROUND_CEILING)), False
        if hi is not None:
            hi, hi_x = (hi.to_integral_value(ROUND_CEILING) - 1 if hi_x else hi.to_integral_value(ROUND_FLOOR)), False
    value = Decimal(1 + variant)
    if lo is not None and hi is not None and (lo_x or hi_x or not lo <= value <= hi):
        value = (lo + hi) / 2
        if integer:
            value = value.to_integral_value(ROUND_FLOOR)
    elif lo is not None and (value < lo or (lo_x and value <= lo)):
        value = lo + 1 if lo_x else lo
    elif hi is not None and (value > hi or (hi_x and value >= hi)):
        value = hi - 1 if hi_x else hi
    step = _schema_decimal(schema.get("multipleOf"))
    if step is not None and step > 0:
        with localcontext() as ctx:
            ctx.prec = 80
            up = (value / step).to_integral_value(ROUND_CEILING) * step
            fits = hi is None or up < hi or (up == hi and not hi_x)
            value = up if fits else (value / step).to_integral_value(ROUND_FLOOR) * step
    return _number(value, integral=True)


def _json_samples(spec: JsonInput) -> list[JSON]:
    schema = spec.json_schema
    if not schema:
        return [{}]
    return [_SchemaSampler(schema, hints=True).value(schema), _SchemaSampler(schema, hints=False).value(schema), {}]


# ---------------------------------------------------------------------------------------------
# The other types.
# ---------------------------------------------------------------------------------------------

#: What a table cell holds, by column display type; any other type is text.
_CELLS: dict[str | None, JSON] = {"number": 1, "currency": 1, "percent": 1, "boolean": True, "date": "2026-01-01"}


def _date_samples(spec: DateInput) -> list[JSON]:
    lo, hi = _parse_date(spec.min), _parse_date(spec.max)
    day = _DATE
    if lo is not None and day < lo:
        day = lo
    if hi is not None and day > hi:
        day = hi
    return [day.isoformat()]


def _parse_date(value: str | None) -> dt.date | None:
    if value is None or not _ISO_DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _table_samples(spec: TableInput) -> list[JSON]:
    rows = max(spec.min_rows or 0, 1)
    if spec.max_rows is not None:
        rows = min(rows, spec.max_rows)
    return [[{c.key: _CELLS.get(c.type, _TEXT) for c in spec.columns} for _ in range(rows)]]


def _centre(spec: MapPointInput | MapBboxInput | MapPolygonInput | MapMultipointInput) -> tuple[float, float]:
    given = spec.default_center
    if given is not None and -90 <= given[0] <= 90 and -180 <= given[1] <= 180:
        return float(given[0]), float(given[1])
    return _CENTRE


def _at(lat: float, lng: float, d_lat: float = 0.0, d_lng: float = 0.0) -> list[JSON]:
    """``[lat, lng]`` moved by the offsets, kept on the globe and free of float noise."""
    return [round(min(max(lat + d_lat, -90.0), 90.0), 6), round(min(max(lng + d_lng, -180.0), 180.0), 6)]


def _text(max_length: int | None) -> str:
    return _TEXT if max_length is None else _TEXT[:max_length]


def _candidates(spec: InputSpec) -> list[JSON]:
    """Generated values for a spec, best first (the spec's ``default`` is tried before these)."""
    d = _SPREAD
    match spec:
        case TextInput() | TextareaInput():
            return [_text(spec.max_length)]
        case CodeInput() | MarkdownInput() | AutocompleteInput():
            return [_TEXT]
        case NumberInput():
            return [_bounded_number(spec.min, spec.max, spec.step), *(b for b in (spec.min, spec.max) if b is not None)]
        case SliderInput():
            if spec.range:
                low = _bounded_number(spec.min, spec.max, spec.step, fraction=Decimal("0.25"))
                high = _bounded_number(spec.min, spec.max, spec.step, fraction=Decimal("0.75"))
                return [[low, high], [spec.min, spec.max]]
            return [_bounded_number(spec.min, spec.max, spec.step), spec.min]
        case SelectInput() | RadioInput():
            return [spec.options[0].value]
        case MultiselectInput():
            return [[spec.options[0].value]]
        case CheckboxInput() | ToggleInput():
            return [False]
        case DateInput():
            return _date_samples(spec)
        case TimeInput():
            return [_TIME]
        case DatetimeInput():
            return [_DATETIME]
        case DateRangeInput():
            return [list(_DATE_RANGE)]
        case FileInput() | ImageInput() | AudioInput():
            return _file_samples(spec)
        case ColourInput():
            return [_COLOUR]
        case JsonInput():
            return _json_samples(spec)
        case TagsInput():
            return [[_TEXT]]
        case TableInput():
            return _table_samples(spec)
        case MapPointInput():
            return [_at(*_centre(spec))]
        case MapBboxInput():
            lat, lng = _centre(spec)
            return [[_at(lat, lng, -d, -d), _at(lat, lng, d, d)]]
        case MapPolygonInput():
            lat, lng = _centre(spec)
            return [[_at(lat, lng, -d, -d), _at(lat, lng, -d, d), _at(lat, lng, d, 0.0)]]
        case MapMultipointInput():
            lat, lng = _centre(spec)
            return [[_at(lat, lng), _at(lat, lng, d, d)]]
        case HiddenInput():
            return [spec.default]
    return [None]


def sample_value(spec: InputSpec) -> JSON:
    """A value valid for the input's type and constraints: its ``default`` when that is valid, else a generated one.

    Returns ``None`` only for a hidden input without a default and a ``json`` input whose
    schema nothing satisfies. For an incoherent spec (``min`` above ``max``, say) nothing is
    valid, and the best-effort value returned will fail the input's check.
    """
    if isinstance(spec, HiddenInput):
        return copy.deepcopy(spec.default)
    ok = _checker(spec)
    if spec.default is not None and ok(spec.default):
        return copy.deepcopy(spec.default)
    found, value = _first_valid(_candidates(spec), ok)
    if not found and isinstance(spec, JsonInput):
        return None
    return copy.deepcopy(value)


def sample_inputs(manifest: ToolManifest, *, include_optional: bool = True) -> dict[str, JSON]:
    """A run's ``inputs``: a sample for every input that ``show_if`` leaves visible given the samples themselves.

    With ``include_optional=False``, inputs with ``required: false`` and no ``default`` are
    left out. Inputs with no sample (``None``) are left out too: the run body treats an
    absent input and ``null`` alike.
    """
    values: dict[str, JSON] = {}
    for spec in manifest.inputs:
        if not include_optional and not spec.required and spec.default is None:
            continue
        value = sample_value(spec)
        if value is not None:
            values[spec.key] = value
    # Dropping hidden inputs cannot change what else is visible: an input whose rule names a
    # hidden input is hidden itself, so one pass over the kept values is enough.
    visible = visible_inputs(manifest, values)
    return {key: value for key, value in values.items() if key in visible}


#: A value of the wrong JSON type per input type (a dict is no option value, number, string or list).
_WRONG: dict[str, JSON] = {
    "text": 12345, "textarea": 12345, "code": 12345, "markdown": 12345, "autocomplete": 12345,
    "number": {"not": "a number"}, "slider": {"not": "a number"},
    "select": {"not": "an option"}, "radio": {"not": "an option"}, "multiselect": "not-a-list",
    "checkbox": "not-a-bool", "toggle": "not-a-bool",
    "date": "not-a-date", "time": "not-a-time", "datetime": "not-a-datetime", "date_range": "not-a-date-range",
    # A bare string would be taken as the raw text of a file; a number is no file in any form.
    "file": 12345, "image": 12345, "audio": 12345,
    "colour": "not-a-colour", "tags": "not-a-list", "table": "not-a-table",
    "map_point": "not-a-point", "map_bbox": "not-a-box", "map_polygon": "not-a-polygon",
    "map_multipoint": "not-a-point-list",
}  # fmt: skip
#: Tried in turn for a ``json`` input with a schema: the first the schema rejects is the wrongly typed value.
_WRONG_JSON: tuple[JSON, ...] = (12345, "not-valid-json-for-this-schema", [], {}, True)


def invalid_value(spec: InputSpec) -> JSON | None:
    """A value of the wrong JSON type for the input (check 13 sends it and expects a 422).

    ``None`` for ``hidden`` and for ``json`` without a schema, which accept anything, and for
    a ``json`` schema that accepts every value tried.
    """
    if isinstance(spec, HiddenInput) or (isinstance(spec, JsonInput) and not spec.json_schema):
        return None
    ok = _checker(spec)
    tries = _WRONG_JSON if isinstance(spec, JsonInput) else (_WRONG[spec.type],)
    for value in tries:
        if not ok(value):
            return copy.deepcopy(value)
    return None
