"""Check 20, portability: would the tool's inputs, as JSON Schema, travel to OpenAI strict, Gemini and MCP?

The schemas come from ``pixie_sdk.json_schema`` (the one manifest → JSON Schema module); the
vendor rules are data below, each with where it is written down, so updating a rule is an
edit to a table, not to the walker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pixie_sdk.json_schema import OPENAI_STRICT, StrictRules, input_schema
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.types import JSON, JSONObject
from pixie_validate.checks._gates import before
from pixie_validate.context import CheckContext
from pixie_validate.findings import Finding
from pixie_validate.registry import check

__all__ = ["GEMINI", "MCP", "RULES", "Rule", "Violation", "judge", "portability"]

#: Places listed under one finding; the rest are counted.
MAX_LISTED_PLACES = 8


@dataclass(frozen=True, slots=True)
class Rule:
    """One vendor rule a tool's input schema can break."""

    id: str
    vendor: str
    says: str
    """The rule, as a clause that follows the place it is about."""
    fix: str
    """How to fix it (starts with a verb)."""
    source: str
    """Where the rule is written down (docs, or the issue threads that found it)."""


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule broken at one place: ``key`` is the input key (None for the schema as a whole)."""

    rule: Rule
    key: str | None
    path: str
    """A JSON pointer inside the input's schema ("" for the input itself)."""
    detail: str = ""


_OPENAI = "OpenAI strict"
_GEMINI = "Gemini"
_MCP = "MCP"
_GEMINI_DOCS = "https://ai.google.dev/api/caching#Schema"
_GEMINI_FUNCTION_DOCS = "https://cloud.google.com/vertex-ai/docs/reference/rest/v1beta1/FunctionDeclaration"
_ANTHROPIC_KEYS = (
    "Anthropic / Bedrock reject tool property keys outside ^[a-zA-Z0-9_.-]{1,64}$: "
    "beautyfree/appstore-connect-mcp#2, erikmaday/unusual-whales-mcp#57, PrefectHQ/fastmcp#839"
)
_MCP_TOOLS_SPEC = "https://modelcontextprotocol.io/specification/2025-11-25/server/tools"


@dataclass(frozen=True, slots=True)
class GeminiRules:
    """Gemini function declarations: ``parameters`` is "a select subset of an OpenAPI 3.0 schema object"."""

    source: str
    fields: frozenset[str]
    """The Schema fields Gemini knows; any other keyword is rejected ("Unknown name ...")."""
    string_formats: frozenset[str]
    """``format`` values a string may have (Gemini Developer API)."""
    property_name: str
    """Parameter names: a letter or underscore, then letters, digits, underscores; at most 64."""
    function_name: str


#: Gemini's rules; judged after the rewrites every Gemini adapter does (``GEMINI_ADAPTER_REWRITES``).
GEMINI = GeminiRules(
    source=_GEMINI_DOCS,
    fields=frozenset(
        {
            "type",
            "format",
            "title",
            "description",
            "nullable",
            "enum",
            "maxItems",
            "minItems",
            "properties",
            "required",
            "minProperties",
            "maxProperties",
            "minLength",
            "maxLength",
            "pattern",
            "example",
            "anyOf",
            "propertyOrdering",
            "default",
            "items",
            "minimum",
            "maximum",
        }
    ),  # fmt: skip
    string_formats=frozenset({"enum", "date-time"}),
    property_name=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
    function_name=r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$",
)
#: What a host's Gemini adapter rewrites losslessly before sending, so check 20 does not report it.
GEMINI_ADAPTER_REWRITES: Mapping[str, str] = {
    "type: [T, null]": "becomes `type: T, nullable: true` (OpenAPI 3.0 spells null that way)",
    "additionalProperties: false": "is dropped (no such field; the SDK still rejects unknown keys)",
    "format": "outside enum/date-time is dropped (the `pattern` beside it still constrains the value)",
}


@dataclass(frozen=True, slots=True)
class McpRules:
    """MCP tools: ``inputSchema`` and the name clients derive from the tool id."""

    source: str
    tool_name: str
    property_key: str
    """Top-level property keys the big MCP clients' model APIs accept."""


MCP = McpRules(source=_MCP_TOOLS_SPEC, tool_name=r"^[a-zA-Z0-9_-]{1,64}$", property_key=r"^[a-zA-Z0-9_.-]{1,64}$")

_RULE_LIST = (
    Rule("openai-no-type", _OPENAI, "has no `type` (strict mode has no \"any JSON value\")",
         "Give the json input a `schema` with a `type` for every value", OPENAI_STRICT.source),
    Rule("openai-keyword", _OPENAI, "uses keywords outside the strict subset",
         "Remove or replace those keywords in the json input's `schema`", OPENAI_STRICT.source),
    Rule("openai-closed-objects", _OPENAI, "has an object without `additionalProperties: false`",
         "Set `additionalProperties: false` on every object of the json input's `schema`", OPENAI_STRICT.source),
    Rule("openai-all-required", _OPENAI, "has an object whose properties are not all `required`",
         "List every property in `required` and allow null (`type: [T, \"null\"]`) for the optional ones",
         OPENAI_STRICT.source),
    Rule("openai-format", _OPENAI, "uses a string `format` strict mode does not know",
         "Use one of the formats strict mode supports, or a `pattern`", OPENAI_STRICT.source),
    Rule("openai-limits", _OPENAI, "is over a strict-mode size limit",
         "Split the tool or shorten its options and json schemas", OPENAI_STRICT.source),
    Rule("openai-function-name", _OPENAI, "does not fit function names, ^[a-zA-Z0-9_-]{1,64}$",
         "Use a tool id of at most 64 letters, digits, dashes", OPENAI_STRICT.source),
    Rule("gemini-property-name", _GEMINI,
         "is not a Gemini parameter name: a letter or _, then letters, digits or _, at most 64",
         "Rename the key with letters, digits and underscores only (snake_case)", _GEMINI_FUNCTION_DOCS),
    Rule("gemini-ref", _GEMINI, "uses `$ref`/`$defs`, which Gemini rejects (here: a recursive schema)",
         "Make the json input's `schema` non-recursive so it can be inlined",
         "google-gemini/gemini-cli#13326, #13142; anomalyco/opencode#12295"),
    Rule("gemini-composition", _GEMINI, "uses oneOf/allOf/not/if, which Gemini does not have (only anyOf)",
         "Express the choice with `anyOf`, or with one object whose fields are optional", _GEMINI_DOCS),
    Rule("gemini-const", _GEMINI, "uses `const`, which Gemini does not have",
         "Use a one-value string `enum` instead of `const`", _GEMINI_DOCS),
    Rule("gemini-tuple", _GEMINI, "uses `prefixItems` (a tuple), which Gemini cannot express",
         "Use an array of one item type, or an object with named fields", _GEMINI_DOCS),
    Rule("gemini-map", _GEMINI, "is an object with free-form keys (additionalProperties/patternProperties)",
         "Declare the object's `properties`, or take a list of {key, value} objects", _GEMINI_DOCS),
    Rule("gemini-keyword", _GEMINI, "uses keywords outside Gemini's OpenAPI subset",
         "Remove those keywords from the json input's `schema`", _GEMINI_DOCS),
    Rule("gemini-type-union", _GEMINI, "allows several types, which Gemini cannot express (only T or null)",
         "Give the values one type (option values all strings, say)", _GEMINI_DOCS),
    Rule("gemini-no-type", _GEMINI, "has no `type`, which Gemini requires",
         "Give the json input a `schema` with a `type`", _GEMINI_DOCS),
    Rule("gemini-enum-strings", _GEMINI, "has non-string enum values; Gemini enums are strings",
         "Use string option values (the SDK also reads \"12\" as the option 12, so a host may send strings)",
         _GEMINI_DOCS),
    Rule("gemini-function-name", _GEMINI, "does not fit Gemini function names (a letter or _, at most 64)",
         "Start the tool id with a letter", _GEMINI_FUNCTION_DOCS),
    Rule("mcp-input-object", _MCP, "is not an object schema (`type: object`), which MCP requires of inputSchema",
         "Report this as a bug in pixie_sdk.json_schema", MCP.source),
    Rule("mcp-tool-name", _MCP, "does not fit MCP/function tool names, ^[a-zA-Z0-9_-]{1,64}$",
         "Use a tool id of at most 64 letters, digits and dashes", MCP.source),
    Rule("mcp-property-key", _MCP, "is not a key MCP clients' model APIs accept, ^[a-zA-Z0-9_.-]{1,64}$",
         "Rename the key with letters, digits, `_`, `.` or `-` only, at most 64 long", _ANTHROPIC_KEYS),
)  # fmt: skip
#: Every rule by id.
RULES: Mapping[str, Rule] = {r.id: r for r in _RULE_LIST}

#: Keywords holding one subschema, a list of them, or a map of them.
_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema")  # fmt: skip
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_COMPOSITION = ("oneOf", "allOf", "not", "if", "then", "else")


def _subschemas(node: JSONObject, path: str) -> Iterator[tuple[str, JSONObject]]:
    for key in _ONE:
        value = node.get(key)
        if isinstance(value, dict):
            yield f"{path}/{key}", value
    for key in _MANY:
        value = node.get(key)
        for i, item in enumerate(value if isinstance(value, list) else []):
            if isinstance(item, dict):
                yield f"{path}/{key}/{i}", item
    for key in _MAP:
        value = node.get(key)
        for name, item in value.items() if isinstance(value, dict) else []:
            if isinstance(item, dict):
                yield f"{path}/{key}/{_pointer(name)}", item


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _walk(node: JSONObject, path: str = "", depth: int = 0) -> Iterator[tuple[str, JSONObject, int]]:
    """Every subschema with its pointer and its object nesting depth (the root object is 1)."""
    depth += int(_types(node) >= {"object"} or "properties" in node)
    yield path, node, depth
    for sub_path, sub in _subschemas(node, path):
        yield from _walk(sub, sub_path, depth)


def _types(node: JSONObject) -> set[str]:
    kind = node.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


def _is_object(node: JSONObject) -> bool:
    return "object" in _types(node) or "properties" in node


# --- OpenAI strict ---------------------------------------------------------------------------


def _openai_node(rules: StrictRules, key: str | None, path: str, node: JSONObject) -> Iterator[Violation]:
    kinds = _types(node)
    # A composition keyword is reported as a keyword; saying "no type" about it as well would repeat that.
    typed = bool(kinds) or any(k in node for k in ("anyOf", "$ref", "enum", "const", *_COMPOSITION))
    if not typed:
        yield Violation(RULES["openai-no-type"], key, path)
    allowed = set(rules.common_keywords).union(*(rules.type_keywords.get(k, frozenset()) for k in kinds))
    if not kinds:  # an untyped node may carry any type's keywords; only the rejected ones are sure to fail
        allowed |= set().union(*rules.type_keywords.values())
    extra = sorted(k for k in node if k not in allowed)
    if extra:
        reasons = [f"`{k}` ({rules.rejected_keywords[k]})" if k in rules.rejected_keywords else f"`{k}`" for k in extra]
        yield Violation(RULES["openai-keyword"], key, path, ", ".join(reasons))
    if _is_object(node):
        if node.get("additionalProperties") is not False:
            yield Violation(RULES["openai-closed-objects"], key, path)
        props = node.get("properties")
        given = node.get("required")
        required: list[JSON] = given if isinstance(given, list) else []
        missing = [p for p in (props if isinstance(props, dict) else {}) if p not in required]
        if missing:
            yield Violation(RULES["openai-all-required"], key, path, "not required: " + ", ".join(missing))
    fmt = node.get("format")
    if "string" in kinds and isinstance(fmt, str) and fmt not in rules.string_formats:
        yield Violation(RULES["openai-format"], key, path, f"`{fmt}`")


def _openai(schema: JSONObject, manifest: ToolManifest, rules: StrictRules = OPENAI_STRICT) -> Iterator[Violation]:
    if not re.match(rules.function_name, manifest.id):
        yield Violation(RULES["openai-function-name"], None, "", f"id `{manifest.id}`")
    properties = 0
    enum_values = 0
    total_string = 0
    deepest = 0
    for key, prop in _input_properties(schema):
        total_string += len(key)
        for path, node, depth in _walk(prop, "", 1):
            yield from _openai_node(rules, key, path, node)
            deepest = max(deepest, depth)
            props = node.get("properties")
            if isinstance(props, dict):
                properties += len(props)
                total_string += sum(len(p) for p in props)
            for defs in ("$defs", "definitions"):
                if isinstance(node.get(defs), dict):
                    total_string += sum(len(d) for d in node[defs])
            enum = node.get("enum")
            if isinstance(enum, list):
                enum_values += len(enum)
                strings = sum(len(str(v)) for v in enum if v is not None)
                total_string += strings
                if len(enum) > rules.large_enum and strings > rules.large_enum_string:
                    detail = f"{len(enum)} values of {strings} characters (over {rules.large_enum_string})"
                    yield Violation(RULES["openai-limits"], key, path, detail)
            if "const" in node:
                total_string += len(str(node["const"]))
    properties += len(schema.get("properties", {}))
    for count, limit, what in (
        (properties, rules.max_properties, "object properties"),
        (deepest, rules.max_depth, "levels of object nesting"),
        (enum_values, rules.max_enum_values, "enum values"),
        (total_string, rules.max_total_string, "characters of names and enum values"),
    ):
        if count > limit:
            yield Violation(RULES["openai-limits"], None, "", f"{count} {what}, over {limit}")


def _input_properties(schema: JSONObject) -> Iterator[tuple[str, JSONObject]]:
    props = schema.get("properties")
    for key, value in props.items() if isinstance(props, dict) else []:
        if isinstance(value, dict):
            yield key, value


# --- Gemini ----------------------------------------------------------------------------------


def _gemini_rewrite(node: JSON, rules: GeminiRules = GEMINI) -> JSON:
    """``node`` as a Gemini adapter sends it (``GEMINI_ADAPTER_REWRITES``), everything else kept for judging."""
    if isinstance(node, list):
        return [_gemini_rewrite(item, rules) for item in node]
    if not isinstance(node, dict):
        return node
    out: JSONObject = {}
    for key, value in node.items():
        if key in ("enum", "const", "default", "example", "examples"):
            out[key] = value
        elif (key == "additionalProperties" and value is False) or (
            key == "format" and value not in rules.string_formats
        ):
            continue
        else:
            out[key] = _gemini_rewrite(value, rules)
    kind = out.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [k for k in kind if k != "null"]
        out["type"] = rest[0] if len(rest) == 1 else rest
        out["nullable"] = True
        if isinstance(out.get("enum"), list):
            out["enum"] = [v for v in out["enum"] if v is not None]
    branches = out.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        # anyOf [T, null] is how a nullable untyped value reads: T, nullable.
        rest_branches = [b for b in branches if b != {"type": "null"}]
        if len(rest_branches) == 1 and isinstance(rest_branches[0], dict):
            merged = {**rest_branches[0], **{k: v for k, v in out.items() if k != "anyOf"}, "nullable": True}
            return merged
    return out


def _gemini_node(rules: GeminiRules, key: str | None, path: str, node: JSONObject) -> Iterator[Violation]:
    if "$ref" in node or "$defs" in node or "definitions" in node:
        yield Violation(RULES["gemini-ref"], key, path)
    used = [k for k in _COMPOSITION if k in node]
    if used:
        yield Violation(RULES["gemini-composition"], key, path, ", ".join(f"`{k}`" for k in used))
    if "const" in node:
        yield Violation(RULES["gemini-const"], key, path)
    if "prefixItems" in node:
        yield Violation(RULES["gemini-tuple"], key, path)
    extra = node.get("additionalProperties")
    if "patternProperties" in node or isinstance(extra, dict) or extra is True:
        yield Violation(RULES["gemini-map"], key, path)
    handled = {"$ref", "$defs", "definitions", "const", "prefixItems", "patternProperties", "additionalProperties",
               "$id", *_COMPOSITION}  # fmt: skip
    unknown = sorted(k for k in node if k not in rules.fields and k not in handled)
    if unknown:
        yield Violation(RULES["gemini-keyword"], key, path, ", ".join(f"`{k}`" for k in unknown))
    kind = node.get("type")
    if isinstance(kind, list) and len(kind) > 1:
        yield Violation(RULES["gemini-type-union"], key, path, " | ".join(map(str, kind)))
    if kind is None and not any(k in node for k in ("anyOf", "$ref", *_COMPOSITION)):
        yield Violation(RULES["gemini-no-type"], key, path)
    enum = node.get("enum")
    if isinstance(enum, list) and any(not isinstance(v, str) for v in enum):
        yield Violation(RULES["gemini-enum-strings"], key, path, ", ".join(repr(v) for v in enum[:6]))
    props = node.get("properties")
    bad = [p for p in (props if isinstance(props, dict) else {}) if not re.match(rules.property_name, p)]
    if bad and path:  # the input keys themselves are reported per input, below
        yield Violation(RULES["gemini-property-name"], key, path, ", ".join(f"`{p}`" for p in bad))


def _gemini(schema: JSONObject, manifest: ToolManifest, rules: GeminiRules = GEMINI) -> Iterator[Violation]:
    if not re.match(rules.function_name, manifest.id):
        yield Violation(RULES["gemini-function-name"], None, "", f"id `{manifest.id}`")
    for key, prop in _input_properties(schema):
        if not re.match(rules.property_name, key):
            yield Violation(RULES["gemini-property-name"], key, "")
        rewritten = _gemini_rewrite(prop, rules)
        if isinstance(rewritten, dict):
            for path, node, _ in _walk(rewritten):
                yield from _gemini_node(rules, key, path, node)


# --- MCP -------------------------------------------------------------------------------------


def _mcp(schema: JSONObject, manifest: ToolManifest, rules: McpRules = MCP) -> Iterator[Violation]:
    if schema.get("type") != "object":
        yield Violation(RULES["mcp-input-object"], None, "")
    if not re.match(rules.tool_name, manifest.id):
        yield Violation(RULES["mcp-tool-name"], None, "", f"id `{manifest.id}`")
    for key, _ in _input_properties(schema):
        if not re.match(rules.property_key, key):
            yield Violation(RULES["mcp-property-key"], key, "")


def judge(manifest: ToolManifest) -> list[Violation]:
    """Every rule the tool's input schemas break: OpenAI strict and Gemini judge the ``strict`` dialect
    (what a model is sent), MCP the ``standard`` one (what an MCP ``inputSchema`` holds)."""
    strict = input_schema(manifest, dialect="strict")
    standard = input_schema(manifest, dialect="standard")
    return [*_openai(strict, manifest), *_gemini(strict, manifest), *_mcp(standard, manifest)]


@check(
    20,
    "portability",
    severity="info",
    kind="static",
    summary="the input schema, as JSON Schema, fits OpenAI strict, Gemini and MCP tool rules",
    fix="Rename input keys to snake_case letters and digits, and keep json input schemas to the portable subset",
    requires=before(20),
)
def portability(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks
    The tool's inputs are turned into JSON Schema by `pixie_sdk.json_schema`, the same schemas
    the host's MCP bridge and the OpenAPI documents use, and judged against three rule sets:
    OpenAI strict function calling (every property required, closed objects, only the
    supported keywords and formats, size limits), Gemini function declarations (parameter names
    of letters, digits and underscores; no `$ref`, `oneOf`/`allOf`, `const`, tuples or free-form
    maps; string enums; one type per value) and MCP (an object `inputSchema`, a tool name that
    fits `^[a-zA-Z0-9_-]{1,64}$`, property keys that MCP clients' model APIs accept). The parts
    the kit generates already fit (optional inputs become nullable, defaults move into the
    description); what remains are input keys and the schemas of `json` inputs, which the author
    chose. Each finding names the input key and the rule, with the places and the rule's source.
    Findings are notes: the check never fails.

    Why it matters
    A schema can be valid JSON Schema and still be refused by a model vendor with a 400, which
    takes every tool of that host down with it (one bad key among hundreds of MCP tools is
    enough). Tool authors rarely see it, because the form UI does not care.

    How to fix
    Rename input keys (and table column keys) to snake_case: letters, digits and underscores,
    starting with a letter. In a `json` input's `schema`, use `anyOf` instead of `oneOf`/`allOf`,
    an enum instead of `const`, declared `properties` instead of maps, list every property in
    `required` and allow null for the optional ones, and set `additionalProperties: false`.
    Option values that are strings travel everywhere.
    """
    manifest = ctx.require_manifest()
    grouped: dict[tuple[str, str | None], list[Violation]] = {}
    for violation in judge(manifest):
        grouped.setdefault((violation.rule.id, violation.key), []).append(violation)
    for (_, key), found in grouped.items():
        rule = found[0].rule
        where = f"input `{key}`" if key is not None else "the tool"
        places = [_place(v) for v in found]
        details = "; ".join(p for p in places[:MAX_LISTED_PLACES] if p)
        if len(places) > MAX_LISTED_PLACES:
            details += f"; and {len(places) - MAX_LISTED_PLACES} more"
        details = (details + "\n" if details else "") + f"rule source: {rule.source}"
        yield ctx.finding(f"{where} {rule.says} ({rule.vendor})", details=details, fix=rule.fix)


def _place(violation: Violation) -> str:
    where = f"at {violation.path}" if violation.path else ""
    return ": ".join(p for p in (where, violation.detail) if p)
