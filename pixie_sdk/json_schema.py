"""A tool.json as JSON Schema: the one module that turns a manifest into schemas for other systems.

- ``input_schema`` — the ``inputs`` object of a run, one property per input. The ``standard``
  dialect is plain JSON Schema 2020-12 (MCP ``inputSchema``, OpenAPI 3.1, the conformance kit);
  the ``strict`` dialect follows OpenAI's strict function-calling subset (every property
  required, optional ones nullable, no ``default``, only the keywords in ``OPENAI_STRICT``);
- ``output_schema`` — the ``/run`` reply, one property per output, in the canonical shapes of
  contract §3 (``tolerant=True`` also takes the variants ``pixie_sdk.shapes`` normalises);
- ``request_body_schema`` — the canonical ``/run`` body of ``pixie_sdk.runbody``;
- ``error_schema`` — the error envelope of ``pixie_sdk.envelope``;
- ``run_openapi`` — an OpenAPI 3.1 document of ``POST /run`` built from the three above.

Validator checks 16 (fuzz) and 20 (portability), the host's MCP bridge and the services'
OpenAPI all read schemas from here, so a type means the same thing to every consumer. A value
that the SDK accepts at run time may be looser than its schema (the SDK is tolerant of §9
variants); every value the SDK itself produces — ``pixie_sdk.samples``, ``pixie_sdk.shapes``
placeholders, SDK tool replies — validates against its schema.
"""

from __future__ import annotations

import copy
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from pixie_sdk.envelope import ErrorEnvelope
from pixie_sdk.input_specs import (
    AudioInput,
    AutocompleteInput,
    CheckboxInput,
    CodeInput,
    ColourInput,
    Column,
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
    Option,
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
from pixie_sdk.output_specs import OUTPUT_TYPES, SCALAR_OUTPUT_TYPES
from pixie_sdk.types import JSON, JSONObject

__all__ = [
    "COLOUR_PATTERN",
    "DATETIME_PATTERN",
    "DATE_PATTERN",
    "OPENAI_STRICT",
    "TIME_PATTERN",
    "Dialect",
    "StrictRules",
    "data_url_pattern",
    "error_schema",
    "input_schema",
    "input_value_schema",
    "output_schema",
    "output_value_schema",
    "request_body_schema",
    "run_openapi",
]

Dialect: TypeAlias = Literal["standard", "strict"]

#: ``YYYY-MM-DD`` with a real month and day number (the SDK then checks the calendar).
DATE_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
#: ``HH:MM`` or ``HH:MM:SS``, 24-hour. Not ``format: time``: RFC 3339 times need seconds and an offset.
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"
#: ``YYYY-MM-DDTHH:MM[:SS[.f]]`` with an optional offset. Not ``format: date-time``: the contract's
#: canonical value is a local time without seconds, which RFC 3339 does not allow.
DATETIME_PATTERN = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
#: ``#rrggbb``.
COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"

#: A MIME type as the data-URL pattern spells one (RFC 6838 restricted names).
_MIME_RE = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
#: Data-URL parameters other than ``base64`` (``;name=sample.csv``).
_PARAMS_RE = r"(;[^;,]*)*"
#: Standard base64 with correct padding (``data:`` payloads are never wrapped).
_BASE64_RE = r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
#: Characters that mean something in a regular expression (ECMA 262 and Python agree on these).
_REGEX_SPECIAL = frozenset(r"\^$.|?*+()[]{}")
_LATITUDE: JSONObject = {"type": "number", "minimum": -90, "maximum": 90}
_LONGITUDE: JSONObject = {"type": "number", "minimum": -180, "maximum": 180}
_DEGREES = "Latitude from -90 to 90, longitude from -180 to 180, in degrees."


# ---------------------------------------------------------------------------------------------
# OpenAI strict mode, as data.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StrictRules:
    """The JSON Schema subset a strict function-calling vendor accepts, written down as data.

    The ``strict`` dialect is built to stay inside it; validator check 20 judges schemas against it.
    """

    vendor: str
    source: str
    """Where the rules are written down."""
    types: frozenset[str]
    """Values ``type`` may take."""
    common_keywords: frozenset[str]
    """Keywords allowed on any schema."""
    type_keywords: Mapping[str, frozenset[str]]
    """Further keywords allowed per ``type``."""
    rejected_keywords: Mapping[str, str]
    """Keywords the vendor names as unsupported, with why we avoid them."""
    string_formats: frozenset[str]
    """Values ``format`` may take."""
    function_name: str
    """The pattern a function (tool) name must match."""
    max_properties: int
    """Object properties in the whole schema."""
    max_depth: int
    """Levels of object nesting."""
    max_enum_values: int
    """Enum values across the whole schema."""
    max_total_string: int
    """Characters of all property names, definition names, enum and const values together."""
    large_enum: int
    """An enum with more string values than this ..."""
    large_enum_string: int
    """... may have at most this many characters in all."""


#: OpenAI's Structured Outputs / strict function calling (``strict: true``), "Supported schemas".
OPENAI_STRICT = StrictRules(
    vendor="OpenAI strict",
    source="https://platform.openai.com/docs/guides/structured-outputs#supported-schemas",
    types=frozenset({"string", "number", "boolean", "integer", "object", "array", "null"}),
    common_keywords=frozenset(
        {"type", "description", "title", "enum", "const", "anyOf", "$ref", "$defs", "definitions"}
    ),
    type_keywords={
        "string": frozenset({"pattern", "format"}),
        "number": frozenset({"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"}),
        "integer": frozenset({"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"}),
        "array": frozenset({"items", "minItems", "maxItems"}),
        "object": frozenset({"properties", "required", "additionalProperties"}),
    },
    rejected_keywords={
        "allOf": "composition is not supported",
        "not": "composition is not supported",
        "oneOf": "only anyOf is supported",
        "if": "conditionals are not supported",
        "then": "conditionals are not supported",
        "else": "conditionals are not supported",
        "dependentRequired": "not supported",
        "dependentSchemas": "not supported",
        "patternProperties": "not supported",
        "prefixItems": "tuples are not supported",
        # Accepted by api.openai.com today but rejected by Azure OpenAI (openai/openai-agents-python#4390).
        "default": "not part of the strict subset; Azure OpenAI rejects it",
        "minLength": "string length limits are not in the strict subset",
        "maxLength": "string length limits are not in the strict subset",
    },
    string_formats=frozenset({"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}),
    function_name=r"^[a-zA-Z0-9_-]{1,64}$",
    max_properties=5000,
    max_depth=10,
    max_enum_values=1000,
    max_total_string=120_000,
    large_enum=250,
    large_enum_string=15_000,
)

#: Annotations dropped from a json input's own schema in the strict dialect (they carry no constraint).
_STRICT_DROPPED_ANNOTATIONS = frozenset({"default", "examples", "$schema", "$comment", "deprecated", "readOnly"})


# ---------------------------------------------------------------------------------------------
# Inputs.
# ---------------------------------------------------------------------------------------------


def input_schema(manifest: ToolManifest, *, dialect: Dialect = "standard") -> JSONObject:
    """The JSON Schema of a run's ``inputs`` object.

    ``standard``: one property per input with its constraints and ``default``; ``required`` lists
    the required inputs that have no default and no ``show_if``; ``additionalProperties: false``.
    ``strict``: every property is listed in ``required``, the ones ``standard`` leaves optional
    accept ``null`` (which the SDK reads as "not given"), and no keyword outside ``OPENAI_STRICT``
    is used, except inside a ``json`` input's own schema, which is kept as its author wrote it
    (check 20 reports what in it breaks the strict rules). Hidden inputs are left out of the
    strict dialect: there is nothing for a model to choose, the SDK uses the default.
    """
    properties: JSONObject = {}
    required: list[str] = []
    for spec in manifest.inputs:
        if dialect == "strict" and isinstance(spec, HiddenInput):
            continue
        optional = _is_optional(spec)
        schema = input_value_schema(spec, dialect=dialect, manifest=manifest)
        if dialect == "strict":
            if optional:
                schema = _nullable(schema)
            required.append(spec.key)
        elif not optional:
            required.append(spec.key)
        properties[spec.key] = schema
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _is_optional(spec: InputSpec) -> bool:
    """A run may leave the input out: it is not required, has a default, or may be hidden by ``show_if``."""
    return not spec.required or spec.default is not None or spec.show_if is not None


def input_value_schema(
    spec: InputSpec, *, dialect: Dialect = "standard", manifest: ToolManifest | None = None
) -> JSONObject:
    """The schema of one input's value (never nullable; ``input_schema`` adds that for strict optional inputs).

    ``manifest`` lets the description name the input a ``show_if`` rule depends on by its label.
    """
    strict = dialect == "strict"
    notes: list[str] = []
    schema = _value_schema(spec, strict, notes)
    schema["description"] = _describe(spec, notes, strict, manifest, schema.get("description"))
    if not strict and spec.default is not None:
        schema["default"] = copy.deepcopy(spec.default)
    return schema


def _value_schema(spec: InputSpec, strict: bool, notes: list[str]) -> JSONObject:
    """The type and constraints of a value; ``notes`` collects what the description should say."""
    match spec:
        case TextInput() | TextareaInput():
            schema: JSONObject = {"type": "string"}
            if spec.max_length is not None:
                notes.append(f"At most {spec.max_length} characters.")
                if not strict:
                    schema["maxLength"] = spec.max_length
            return schema
        case CodeInput():
            if spec.language:
                notes.append(f"Source code in {spec.language}.")
            return {"type": "string"}
        case MarkdownInput():
            notes.append("Markdown text.")
            return {"type": "string"}
        case AutocompleteInput():
            notes.append(f"One of the suggestions the tool serves at /autocomplete/{spec.endpoint}?q=<text>.")
            return {"type": "string"}
        case NumberInput():
            notes.extend(_number_notes(spec.min, spec.max, spec.step, spec.unit))
            return _number(spec.min, spec.max)
        case SliderInput():
            notes.extend(_number_notes(spec.min, spec.max, spec.step, None))
            one = _number(spec.min, spec.max)
            if spec.range:
                notes.append("A [low, high] pair with low <= high.")
                return {"type": "array", "items": one, "minItems": 2, "maxItems": 2}
            return one
        case SelectInput() | RadioInput():
            return _choice(spec.options)
        case MultiselectInput():
            return {"type": "array", "items": _choice(spec.options)}
        case CheckboxInput() | ToggleInput():
            return {"type": "boolean"}
        case DateInput():
            notes.append(_date_notes(spec.min, spec.max))
            return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
        case TimeInput():
            notes.append("A time of day, HH:MM (24-hour).")
            return {"type": "string", "pattern": TIME_PATTERN}
        case DatetimeInput():
            notes.append("A local date and time, YYYY-MM-DDTHH:MM (seconds optional).")
            return {"type": "string", "pattern": DATETIME_PATTERN}
        case DateRangeInput():
            notes.append("Two dates, [start, end], YYYY-MM-DD, start not after end.")
            day: JSONObject = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
            return {"type": "array", "items": day, "minItems": 2, "maxItems": 2}
        case FileInput() | ImageInput() | AudioInput():
            notes.append(_file_notes(spec))
            one = {"type": "string", "pattern": data_url_pattern(spec.accept)}
            return {"type": "array", "items": one} if spec.multiple else one
        case ColourInput():
            notes.append("A colour, #rrggbb.")
            return {"type": "string", "pattern": COLOUR_PATTERN}
        case JsonInput():
            if not spec.json_schema:
                notes.append("Any JSON value.")
                return {}
            return _embed_schema(spec.json_schema, spec.key, strict)
        case TagsInput():
            if spec.suggestions:
                notes.append("Suggested: " + ", ".join(spec.suggestions[:20]) + ".")
            return {"type": "array", "items": {"type": "string"}}
        case TableInput():
            return _table(spec, strict, notes)
        case MapPointInput():
            notes.append(f"A point, [latitude, longitude]. {_DEGREES}")
            return _lat_lng()
        case MapBboxInput():
            notes.append(f"A box, [[south, west], [north, east]]. {_DEGREES}")
            return {"type": "array", "items": _lat_lng(), "minItems": 2, "maxItems": 2}
        case MapPolygonInput():
            notes.append(f"A polygon of three or more [latitude, longitude] points. {_DEGREES}")
            return {"type": "array", "items": _lat_lng(), "minItems": 3}
        case MapMultipointInput():
            notes.append(f"A list of [latitude, longitude] points. {_DEGREES}")
            return {"type": "array", "items": _lat_lng()}
        case HiddenInput():
            return {"const": copy.deepcopy(spec.default)}
    return {}


def _number(lo: float | None, hi: float | None) -> JSONObject:
    schema: JSONObject = {"type": "number"}
    if lo is not None:
        schema["minimum"] = lo
    if hi is not None:
        schema["maximum"] = hi
    return schema


def _number_notes(lo: float | None, hi: float | None, step: float | None, unit: str | None) -> list[str]:
    notes = [f"In {unit}."] if unit else []
    if lo is not None and hi is not None:
        notes.append(f"From {lo:g} to {hi:g}.")
    elif lo is not None:
        notes.append(f"At least {lo:g}.")
    elif hi is not None:
        notes.append(f"At most {hi:g}.")
    if step is not None:
        notes.append(f"In steps of {step:g}.")
    return notes


def _date_notes(lo: str | None, hi: str | None) -> str:
    if lo and hi:
        return f"A date, YYYY-MM-DD, from {lo} to {hi}."
    if lo:
        return f"A date, YYYY-MM-DD, on or after {lo}."
    if hi:
        return f"A date, YYYY-MM-DD, on or before {hi}."
    return "A date, YYYY-MM-DD."


def _json_type(value: JSON) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _choice(options: list[Option]) -> JSONObject:
    """``enum`` of the option values, keeping their JSON types (``1`` and ``True`` stay apart)."""
    values: list[JSON] = []
    seen: set[tuple[str, str]] = set()
    for option in options:
        mark = (_json_type(option.value), json.dumps(option.value))
        if mark not in seen:
            seen.add(mark)
            values.append(option.value)
    kinds = {_json_type(v) for v in values}
    if {"integer", "number"} <= kinds:
        kinds.discard("integer")  # every integer is a number
    kind: JSON = next(iter(kinds)) if len(kinds) == 1 else sorted(kinds)
    labels = "; ".join(f"{json.dumps(o.value)} = {o.label}" for o in options[:50])
    return {"type": kind, "enum": values, "description": f"Options: {labels}."}


def _regex_escape(text: str) -> str:
    """Escape for both ECMA 262 (JSON Schema) and Python: only the characters that mean something in either."""
    return "".join(f"\\{c}" if c in _REGEX_SPECIAL else c for c in text)


def data_url_pattern(accept: str | list[str] | None) -> str:
    """A pattern for a base64 data URL whose MIME type (or ``;name=`` extension) ``accept`` allows.

    MIME types and ``type/*`` narrow the type; ``.ext`` asks for a ``;name=`` parameter ending
    so (what ``pixie_sdk.files.matches_accept`` reads); no ``accept``, ``*`` or ``*/*`` allow any.
    """
    patterns = [a.strip().lower() for a in (accept.split(",") if isinstance(accept, str) else accept or [])]
    patterns = [p for p in patterns if p]
    alternatives: list[str] = []
    for p in patterns:
        if p in ("*", "*/*"):
            alternatives = []
            break
        if p.startswith("."):
            alternatives.append(f"{_MIME_RE}{_PARAMS_RE};name=[^;,]*{_regex_escape(p)}")
        elif p.endswith("/*"):
            alternatives.append(f"{_regex_escape(p[:-1])}[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
        else:
            alternatives.append(_regex_escape(p))
    mime = f"({'|'.join(dict.fromkeys(alternatives))})" if alternatives else _MIME_RE
    return f"^data:{mime}{_PARAMS_RE};base64,{_BASE64_RE}$"


def _file_notes(spec: FileInput | ImageInput | AudioInput) -> str:
    what = {"file": "a file", "image": "an image", "audio": "an audio file"}[spec.type]
    text = f"{what[0].upper()}{what[1:]} as a data URL, data:<mime>;base64,<data>"
    accept = spec.accept
    if accept:
        text += f"; accepted: {accept if isinstance(accept, str) else ', '.join(accept)}"
    if spec.max_size_mb is not None:
        text += f"; at most {spec.max_size_mb:g} MiB"
    text += "."
    return f"A list of files, each {text[0].lower()}{text[1:]}" if spec.multiple else text


#: The JSON value of a table cell, by column display type (anything else is text).
_CELL_TYPES: dict[str | None, JSONObject] = {
    "number": {"type": "number"},
    "currency": {"type": "number"},
    "percent": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date", "pattern": DATE_PATTERN},
}


def _cell(column: Column, strict: bool) -> JSONObject:
    cell = copy.deepcopy(_CELL_TYPES.get(column.type, {"type": "string"}))
    cell["description"] = column.label
    # Strict rows list every column; null is an empty cell.
    return _nullable(cell) if strict else cell


def _table(spec: TableInput, strict: bool, notes: list[str]) -> JSONObject:
    row: JSONObject = {
        "type": "object",
        "properties": {c.key: _cell(c, strict) for c in spec.columns},
        "additionalProperties": False,
    }
    if strict:
        row["required"] = [c.key for c in spec.columns]
    schema: JSONObject = {"type": "array", "items": row}
    if spec.min_rows is not None:
        schema["minItems"] = spec.min_rows
    if spec.max_rows is not None:
        schema["maxItems"] = spec.max_rows
    notes.append("Rows of a table, each an object keyed by column: " + ", ".join(c.key for c in spec.columns) + ".")
    return schema


def _lat_lng() -> JSONObject:
    """``[lat, lng]``: two numbers, each within the longitude range; the description says which is which.

    Not ``prefixItems``: the strict subset and Gemini have no tuples, and schemathesis mis-reads them
    in response schemas; the SDK (and ``pixie_sdk.shapes``) still check latitude against +-90.
    """
    return {"type": "array", "items": _LONGITUDE, "minItems": 2, "maxItems": 2}


def _describe(spec: InputSpec, notes: list[str], strict: bool, manifest: ToolManifest | None, own: JSON = None) -> str:
    """What a model (or a person reading an API doc) needs: label, description, unit, range, rules."""
    parts = [spec.label.rstrip(".") + "."]
    if spec.description:
        parts.append(spec.description.rstrip(".") + ".")
    parts.extend(n for n in notes if n)
    if isinstance(own, str) and own:
        parts.append(own)
    if spec.show_if is not None:
        other = manifest.input(spec.show_if.key) if manifest is not None else None
        name = f"`{spec.show_if.key}`" + (f" ({other.label})" if other is not None else "")
        parts.append(f"Used only when {name} is {json.dumps(spec.show_if.equals)}.")
    if strict and _is_optional(spec):
        if spec.default is not None:
            parts.append(f"Send null for the default, {_short_json(spec.default)}.")
        else:
            parts.append("Send null to leave it out.")
    return " ".join(parts)


def _short_json(value: JSON, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _nullable(schema: JSONObject) -> JSONObject:
    """The same schema, also accepting ``null``: a type union where there is a type, else ``anyOf``."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str) and "const" not in out:
        out["type"] = [kind, "null"] if kind != "null" else "null"
    elif isinstance(kind, list) and "const" not in out:
        out["type"] = kind if "null" in kind else [*kind, "null"]
    else:
        description = out.pop("description", None)
        wrapped: JSONObject = {"anyOf": [out, {"type": "null"}]}
        if description is not None:
            wrapped["description"] = description
        return wrapped
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


# --- a json input's own schema ---------------------------------------------------------------

#: Keywords whose values are data, not schemas: never looked into for ``$ref``.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples", "example"})
#: Keywords that only annotate: a ``$ref`` with only these beside it can be replaced by its target.
_ANNOTATIONS = frozenset({"description", "title", "$comment", "default", "examples", "deprecated", "readOnly"})


def _embed_schema(schema: JSONObject, key: str, strict: bool) -> JSONObject:
    """A json input's own schema, made safe to place anywhere inside another document.

    Local ``$ref``s (``#/$defs/x``) would resolve against the *embedding* document's root once the
    schema sits at ``properties.<key>``. When every one is non-recursive they are inlined (which
    also suits vendors that reject ``$ref``); otherwise the schema is kept as written and gets an
    ``$id`` of its own, so its refs resolve inside it (JSON Schema 2020-12 embedded resources).
    """
    root = copy.deepcopy(schema)
    root.pop("$schema", None)  # the SDK validates every json input as 2020-12, so that is what it means
    inlined = _inline_refs(root)
    if inlined is None:
        root.setdefault("$id", f"urn:pixie:input:{urllib.parse.quote(key, safe='')}")
        embedded = root
    else:
        embedded = inlined
    if strict:
        stripped = _strip_annotations(embedded)
        return stripped if isinstance(stripped, dict) else {}
    return embedded


def _inline_refs(root: JSONObject) -> JSONObject | None:
    """``root`` with every local ``$ref`` replaced by its target; None when one is recursive or unresolvable."""

    class _Unresolved(Exception):
        pass

    def resolve(ref: str) -> JSON:
        node: JSON = root
        for raw in ref[1:].split("/")[1:] if ref != "#" else []:
            part = urllib.parse.unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise _Unresolved(ref)
        return node

    def walk(node: JSON, stack: tuple[str, ...], top: bool = False) -> JSON:
        if isinstance(node, list):
            return [walk(item, stack) for item in node]
        if not isinstance(node, dict):
            return node
        skipped = {"$ref", "$defs", "definitions"} if top else {"$ref"}
        rest = {k: (v if k in _DATA_KEYWORDS else walk(v, stack)) for k, v in node.items() if k not in skipped}
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return rest
        if not ref.startswith("#") or ref in stack:
            raise _Unresolved(ref)
        target = walk(resolve(ref), (*stack, ref), top=ref == "#")
        if set(rest) <= _ANNOTATIONS and isinstance(target, dict):
            return {**target, **rest}
        return {"allOf": [target, rest]} if rest else target

    try:
        out = walk(root, (), top=True)
    except _Unresolved:
        return None
    return out if isinstance(out, dict) else None


def _strip_annotations(node: JSON) -> JSON:
    if isinstance(node, list):
        return [_strip_annotations(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        k: (v if k in _DATA_KEYWORDS else _strip_annotations(v))
        for k, v in node.items()
        if k not in _STRICT_DROPPED_ANNOTATIONS
    }


# ---------------------------------------------------------------------------------------------
# Outputs.
# ---------------------------------------------------------------------------------------------

_STRING: JSONObject = {"type": "string"}
_NUMBER: JSONObject = {"type": "number"}
_BOOLEAN: JSONObject = {"type": "boolean"}
_LABEL: JSONObject = {"type": ["string", "number"]}
_ID: JSONObject = {"type": ["string", "integer"]}
_NUMBER_OR_STRING: JSONObject = {"type": ["number", "string"]}
_NON_NEGATIVE: JSONObject = {"type": "number", "minimum": 0}
#: A relative path inside artefacts_dir: not absolute, no drive letter, no ``..`` segment.
_ARTEFACT_PATH = r"^(?![/\\~])(?![A-Za-z]:)(?!(.*[/\\])?\.\.([/\\]|$)).+$"
_ARTEFACT: JSONObject = {
    "type": "object",
    "properties": {
        "artefact": {"type": "string", "pattern": _ARTEFACT_PATH},
        "mime_type": {"type": ["string", "null"]},
        "url": {"type": ["string", "null"]},
    },
    "required": ["artefact"],
}
_MEDIA: JSONObject = {
    "anyOf": [
        {"type": "string", "pattern": r"^data:[^,]*,"},
        {"type": "string", "pattern": r"^https?://[^/?#\s]+"},
        _ARTEFACT,
    ]
}
#: Levels of a ``tree`` output spelled out in JSON Schema; deeper nodes are only required to be objects
#: (``pixie_sdk.shapes`` checks every level, and a recursive ``$ref`` would not survive embedding).
_TREE_LEVELS = 4


def _array(items: JSON) -> JSONObject:
    return {"type": "array", "items": items}


def _record(required: Mapping[str, JSON], optional: Mapping[str, JSON] | None = None) -> JSONObject:
    """An object with these keys; optional ones may be null (tools dump unset fields as null), extras allowed."""
    properties: JSONObject = dict(required)
    for key, schema in (optional or {}).items():
        properties[key] = {"anyOf": [schema, {"type": "null"}]}
    return {"type": "object", "properties": properties, "required": list(required)}


def _tree_node(levels: int) -> JSONObject:
    if levels <= 0:
        return {"type": "object"}
    return _record({"name": _STRING}, {"meta": {}, "children": _array(_tree_node(levels - 1))})


def _image_item() -> JSONObject:
    wrapper = {"type": "object", "anyOf": [{"required": [k]} for k in ("value", "url", "data")]}
    return {"anyOf": [_MEDIA, wrapper]}


def _series(values_key: str, item: JSON) -> JSONObject:
    return _array(_record({"name": _STRING, values_key: _array(item)}))


def _xy_chart() -> JSONObject:
    return _record({"x": _array(_NUMBER_OR_STRING), "series": _series("y", {"type": ["number", "null"]})})


def _points() -> JSONObject:
    point = _record({"lat": _LATITUDE, "lng": _LONGITUDE}, {"label": _LABEL, "weight": _NUMBER})
    return _record({"points": _array(point)})


def _graph(edges_key: str, edge: JSONObject) -> JSONObject:
    return _record({"nodes": _array(_record({"id": _ID}, {"label": _LABEL})), edges_key: _array(edge)})


_MIME_TYPE: JSONObject = {"type": "string", "pattern": f"^{_MIME_RE}"}
#: A data URL, bare base64 or an artefact reference (``pixie_sdk.shapes`` checks the base64 itself).
_FILE_DATA: JSONObject = {"anyOf": [{"type": "string"}, _ARTEFACT]}

#: The canonical shape of every non-scalar output type (contract §3).
_OBJECT_SHAPES: dict[str, JSONObject] = {
    "table": _record(
        {"rows": _array({"type": ["object", "array"]})},
        {
            "columns": _array({"anyOf": [_STRING, _record({"key": _STRING}, {"label": _LABEL, "type": _STRING})]}),
            "downloadable": _BOOLEAN,
        },
    ),
    "kv": _record({"pairs": {"type": "object"}}),
    "log": _record({"lines": _array(_record({"message": _STRING}, {"level": _STRING, "t": _NUMBER_OR_STRING}))}),
    "diff": _record({"before": _STRING, "after": _STRING}, {"filename_before": _STRING, "filename_after": _STRING}),
    "tree": _record({"root": _tree_node(_TREE_LEVELS)}),
    "timeline": _record(
        {"events": _array(_record({"t": _NUMBER_OR_STRING, "title": _LABEL}, {"description": _STRING}))}
    ),
    "gantt": _record(
        {
            "tasks": _array(
                _record(
                    {"name": _STRING, "start": _NUMBER_OR_STRING, "end": _NUMBER_OR_STRING},
                    {"label": _LABEL, "colour": _STRING},
                )
            )
        }
    ),
    "chart_line": _xy_chart(),
    "chart_area": _xy_chart(),
    "chart_bar": _xy_chart(),
    "chart_scatter": _record(
        {
            "series": _series(
                "points",
                _record({"x": _NUMBER_OR_STRING, "y": _NUMBER}, {"label": _LABEL, "size": _NUMBER, "colour": _STRING}),
            )
        }
    ),
    "chart_pie": _record({"slices": _array(_record({"label": _LABEL, "value": _NON_NEGATIVE}))}, {"donut": _BOOLEAN}),
    "chart_histogram": _record(
        {"values": _array(_NUMBER)}, {"bins": {"anyOf": [{"type": "integer", "minimum": 1}, _array(_NUMBER)]}}
    ),
    "chart_boxplot": _record({"series": _series("values", _NUMBER)}),
    "chart_heatmap": _record(
        {"z": _array(_array({"type": ["number", "null"]}))},
        {"x_labels": _array(_LABEL), "y_labels": _array(_LABEL), "x": _array(_LABEL), "y": _array(_LABEL)},
    ),
    "chart_candlestick": _record(
        {
            "points": _array(
                _record({"t": _NUMBER_OR_STRING, "open": _NUMBER, "high": _NUMBER, "low": _NUMBER, "close": _NUMBER})
            )
        }
    ),
    "chart_radar": _record({"axes": _array(_LABEL), "series": _series("values", _NUMBER)}),
    "chart_sankey": _graph("links", _record({"source": _ID, "target": _ID, "value": _NON_NEGATIVE})),
    "chart_treemap": _record(
        {"nodes": _array(_record({"id": _ID, "value": _NON_NEGATIVE}, {"label": _LABEL, "parent": _ID}))}
    ),
    "chart_network": _graph("edges", _record({"source": _ID, "target": _ID})),
    "map_points": _points(),
    "map_heatmap": _points(),
    "map_route": _points(),
    "map_polygons": _record(
        {
            "polygons": _array(
                _record(
                    {"coords": {"type": "array", "items": _lat_lng(), "minItems": 3}},
                    {"label": _LABEL, "colour": _STRING},
                )
            )
        }
    ),
    "map_choropleth": _record(
        {"geojson": {"type": "object"}, "values": {"type": "object", "additionalProperties": _NUMBER}}
    ),
    "image_grid": _record({"images": _array(_image_item())}),
    "image_compare": _record(
        {"before": _image_item(), "after": _image_item()}, {"before_label": _LABEL, "after_label": _LABEL}
    ),
    "file": _record({"filename": {"type": "string", "minLength": 1}, "data": _FILE_DATA, "mime_type": _MIME_TYPE}),
}

#: The bare value of each scalar output type.
_SCALAR_SHAPES: dict[str, JSONObject] = {
    "text": _STRING,
    "markdown": _STRING,
    "latex": _STRING,
    "code": _STRING,
    "stream_text": _STRING,
    "number": _NUMBER,
    "boolean": _BOOLEAN,
    # Over 1 is a percent (so at most 100); null means indeterminate.
    "progress": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
    "image": _MEDIA,
    "audio": _MEDIA,
    "video": _MEDIA,
}


def _tolerated(output_type: str, canonical: JSONObject) -> JSONObject:
    """The canonical shape, or one of the variants ``pixie_sdk.shapes.normalise_output`` turns into it (§9)."""
    key_value = {"anyOf": [_record({"key": _ID, "value": {}}), {"type": "array", "minItems": 2, "maxItems": 2}]}
    match output_type:
        case "kv":
            return {"anyOf": [canonical, {"type": "object"}, _array(key_value)]}
        case "table":
            return {"anyOf": [canonical, _array({"type": ["object", "array"]})]}
        case "file":
            alias = {k: v for k, v in canonical["properties"].items() if k != "mime_type"}
            variants = [
                {"type": "object", "properties": {**alias, name: _MIME_TYPE}, "required": ["filename", "data", name]}
                for name in ("mime", "content_type")
            ]
            return {"anyOf": [canonical, *variants]}
        case "tree":
            return {"anyOf": [canonical, _tree_node(_TREE_LEVELS)]}
    return canonical


def output_value_schema(output_type: str, *, tolerant: bool = False) -> JSONObject:
    """The schema of one output value of ``output_type``; scalars also as ``{"value": <scalar>, ...}``.

    Raises:
        KeyError: ``output_type`` is not one of the 39 output types.
    """
    if output_type in SCALAR_OUTPUT_TYPES:
        raw = _SCALAR_SHAPES[output_type]
        wrapper = {"type": "object", "properties": {"value": raw}, "required": ["value"]}
        return copy.deepcopy({"anyOf": [raw, wrapper]})
    if output_type not in _OBJECT_SHAPES:
        raise KeyError(f"unknown output type `{output_type}`")
    canonical = copy.deepcopy(_OBJECT_SHAPES[output_type])
    return _tolerated(output_type, canonical) if tolerant else canonical


def output_schema(manifest: ToolManifest, *, tolerant: bool = False) -> JSONObject:
    """The JSON Schema of a ``/run`` reply: one property per output (all required), other keys allowed.

    ``tolerant=True`` also accepts the §9 variants foreign tools send (kv without ``pairs``, a bare
    list of table rows, ``mime`` for ``mime_type``, a bare tree node), as validator check 9 does.
    """
    properties: JSONObject = {}
    for spec in manifest.outputs:
        schema = output_value_schema(spec.type, tolerant=tolerant)
        text = spec.label.rstrip(".") + "."
        if spec.description:
            text += f" {spec.description.rstrip('.')}."
        if spec.unit:
            text += f" In {spec.unit}."
        schema["description"] = text
        properties[spec.key] = schema
    return {"type": "object", "properties": properties, "required": [o.key for o in manifest.outputs]}


# ---------------------------------------------------------------------------------------------
# The /run request, the error envelope and an OpenAPI document.
# ---------------------------------------------------------------------------------------------


def request_body_schema(manifest: ToolManifest, *, dialect: Dialect = "standard") -> JSONObject:
    """The canonical ``/run`` body (``pixie_sdk.runbody.build_run_request``).

    ``{"run_id", "inputs": input_schema, "_pixie": {"run_id", "artefacts_dir"?}}``; other top-level
    keys are allowed, because the canonical body repeats each input there for flat-body tools.
    """
    return {
        "type": "object",
        "properties": {
            "run_id": {"type": "string", "minLength": 1, "description": "The run's id (a UUID)."},
            "inputs": input_schema(manifest, dialect=dialect),
            "_pixie": {
                "type": "object",
                "properties": {
                    "run_id": {"type": "string", "minLength": 1},
                    "artefacts_dir": {"type": "string", "minLength": 1},
                },
                "required": ["run_id"],
                "description": "Set by the host: the run id again and the folder the run may write artefacts into.",
            },
        },
        "required": ["run_id", "inputs", "_pixie"],
    }


def error_schema() -> JSONObject:
    """The error envelope of every 4xx/5xx reply: ``{"detail": string | list, "code"?: string}``."""
    schema = ErrorEnvelope.model_json_schema()
    # pydantic renders the optional `code` as `string | null` with a null default; the wire form
    # leaves it out instead, so only the string remains.
    schema["properties"]["code"] = {"type": "string", "title": "Code"}
    return schema


def run_openapi(manifest: ToolManifest, *, tolerant_outputs: bool = False) -> JSONObject:
    """An OpenAPI 3.1 document of the tool's ``POST /run``: the canonical body in, the outputs or an error out."""
    error = {"application/json": {"schema": error_schema()}}
    return {
        "openapi": "3.1.0",
        "info": {"title": manifest.name, "version": manifest.version or "0", "description": manifest.description or ""},
        "paths": {
            "/run": {
                "post": {
                    "operationId": "run",
                    "summary": f"Run {manifest.name}",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": request_body_schema(manifest)}},
                    },
                    "responses": {
                        "200": {
                            "description": "The outputs, keyed by output key.",
                            "content": {
                                "application/json": {"schema": output_schema(manifest, tolerant=tolerant_outputs)}
                            },
                        },
                        "4XX": {
                            "description": "Invalid inputs (422), a ToolError, or a cancelled run.",
                            "content": error,
                        },
                    },
                }
            }
        },
    }


# Every output type has exactly one shape here: a type added to output_specs without one fails at import.
if set(_SCALAR_SHAPES) | set(_OBJECT_SHAPES) != set(OUTPUT_TYPES) or set(_SCALAR_SHAPES) != SCALAR_OUTPUT_TYPES:
    raise RuntimeError("pixie_sdk.json_schema is out of step with OUTPUT_TYPES")
