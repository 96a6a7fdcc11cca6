"""pixie_sdk.json_schema: every schema derived from a manifest accepts the SDK's own values and means its rules."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from pixie_sdk.envelope import ErrorEnvelope
from pixie_sdk.json_schema import (
    OPENAI_STRICT,
    data_url_pattern,
    error_schema,
    input_schema,
    input_value_schema,
    output_schema,
    output_value_schema,
    request_body_schema,
    run_openapi,
)
from pixie_sdk.manifest import ToolManifest, load_manifest, parse_manifest
from pixie_sdk.output_specs import OUTPUT_TYPES
from pixie_sdk.runbody import build_run_request
from pixie_sdk.samples import invalid_value, sample_inputs, sample_value
from pixie_sdk.shapes import placeholder
from tests.conftest import RunningTool

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
KITCHEN_SINK = EXAMPLES / "kitchen-sink"
ALL_EXAMPLES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "tool.json").exists())
#: Formats asserted too: a `format: date` schema must hold real dates.
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=FORMATS)


def errors(schema: dict[str, Any], value: Any) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in validator(schema).iter_errors(value)]


def manifest_of(*inputs: dict[str, Any], outputs: list[dict[str, Any]] | None = None) -> ToolManifest:
    return parse_manifest(
        {
            "id": "t",
            "name": "T",
            "inputs": list(inputs),
            "outputs": outputs or [{"key": "o", "type": "text", "label": "O"}],
        }
    )


def strict_sample(manifest: ToolManifest) -> dict[str, Any]:
    """What a strict-mode model sends: every property, null where the sample leaves one out."""
    sample = sample_inputs(manifest)
    return {i.key: sample.get(i.key) for i in manifest.inputs if i.type != "hidden"}


# --- inputs: the SDK's own values validate ----------------------------------------------------------------------


def test_kitchen_sink_covers_every_input_type() -> None:
    from pixie_sdk.input_specs import INPUT_TYPES

    assert {i.type for i in load_manifest(KITCHEN_SINK).inputs} == set(INPUT_TYPES)


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_sample_inputs_validate_against_the_standard_input_schema(example: str) -> None:
    manifest = load_manifest(EXAMPLES / example)
    schema = input_schema(manifest)
    assert errors(schema, sample_inputs(manifest)) == []
    assert errors(schema, sample_inputs(manifest, include_optional=False)) == []
    # every default is a valid value of its own input
    for spec in manifest.inputs:
        if spec.default is not None:
            assert errors(schema["properties"][spec.key], spec.default) == [], spec.key


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_sample_inputs_validate_against_the_strict_input_schema(example: str) -> None:
    manifest = load_manifest(EXAMPLES / example)
    schema = input_schema(manifest, dialect="strict")
    assert errors(schema, strict_sample(manifest)) == []


def test_each_kitchen_sink_sample_and_default_fits_its_value_schema() -> None:
    for spec in load_manifest(KITCHEN_SINK).inputs:
        for dialect in ("standard", "strict"):
            schema = input_value_schema(spec, dialect=dialect)
            assert errors(schema, sample_value(spec)) == [], (spec.key, dialect)


def test_wrongly_typed_values_are_rejected_by_the_schema_too() -> None:
    """invalid_value (check 13's probe) is what the SDK rejects; the schema must not call it valid."""
    for spec in load_manifest(KITCHEN_SINK).inputs:
        wrong = invalid_value(spec)
        if wrong is not None:
            assert errors(input_value_schema(spec), wrong), spec.key


def test_request_body_schema_takes_the_canonical_run_body() -> None:
    manifest = load_manifest(KITCHEN_SINK)
    request = build_run_request(sample_inputs(manifest), artefacts_dir="/tmp/run-1", manifest=manifest)
    schema = request_body_schema(manifest)
    assert errors(schema, request.body) == []
    assert errors(schema, {"inputs": {}}) != []  # run_id, _pixie and the required inputs are missing


# --- inputs: the schema says what the SDK checks --------------------------------------------------------------


def test_required_is_the_inputs_a_run_must_give() -> None:
    manifest = manifest_of(
        {"key": "a", "type": "text", "label": "A"},
        {"key": "b", "type": "text", "label": "B", "default": "x"},
        {"key": "c", "type": "text", "label": "C", "required": False},
        {"key": "d", "type": "checkbox", "label": "D"},
        {"key": "e", "type": "text", "label": "E", "show_if": {"key": "d", "equals": True}},
        {"key": "h", "type": "hidden", "label": "H", "default": {"v": 1}},
    )
    standard = input_schema(manifest)
    assert standard["required"] == ["a", "d"]
    assert standard["additionalProperties"] is False
    assert standard["properties"]["b"]["default"] == "x"
    assert standard["properties"]["h"] == {"const": {"v": 1}, "default": {"v": 1}, "description": "H."}
    assert "Used only when `d` (D) is true." in standard["properties"]["e"]["description"]
    assert errors(standard, {"a": "x", "d": True, "zzz": 1})  # no undeclared inputs

    strict = input_schema(manifest, dialect="strict")
    assert strict["required"] == ["a", "b", "c", "d", "e"] == list(strict["properties"])  # hidden: nothing to choose
    assert strict["properties"]["a"]["type"] == "string"  # required, no default: never null
    for key in "bce":
        assert strict["properties"][key]["type"] == ["string", "null"]
    assert 'Send null for the default, "x".' in strict["properties"]["b"]["description"]
    assert errors(strict, {"a": "x", "b": None, "c": None, "d": False, "e": None}) == []
    assert errors(strict, {"a": None, "b": None, "c": None, "d": False, "e": None})


def test_numbers_options_and_text_limits() -> None:
    manifest = manifest_of(
        {"key": "n", "type": "number", "label": "Rate", "min": 0, "max": 20, "step": 0.25, "unit": "%",
         "description": "Yearly."},
        {"key": "s", "type": "select", "label": "Size", "required": False,
         "options": [{"value": 1, "label": "S"}, {"value": 2.5, "label": "M"}]},
        {"key": "m", "type": "multiselect", "label": "Tags",
         "options": [{"value": "a", "label": "A"}, {"value": True, "label": "T"}]},
        {"key": "t", "type": "text", "label": "Name", "max_length": 3},
        {"key": "r", "type": "slider", "label": "Range", "min": 0, "max": 10, "range": True},
    )  # fmt: skip
    props = input_schema(manifest)["properties"]
    assert props["n"]["minimum"] == 0 and props["n"]["maximum"] == 20
    assert props["n"]["description"] == "Rate. Yearly. In %. From 0 to 20. In steps of 0.25."
    assert props["s"]["enum"] == [1, 2.5] and props["s"]["type"] == "number"  # option values keep their type
    assert errors(props["s"], "1") and errors(props["s"], 3) and not errors(props["s"], 1)
    assert props["m"]["items"]["type"] == ["boolean", "string"]
    assert errors(props["m"], [1]) and not errors(props["m"], [True, "a"])
    assert props["t"]["maxLength"] == 3 and errors(props["t"], "abcd")
    assert not errors(props["r"], [2, 3]) and errors(props["r"], [2]) and errors(props["r"], [2, 30])
    strict = input_schema(manifest, dialect="strict")["properties"]
    assert "maxLength" not in strict["t"] and "At most 3 characters." in strict["t"]["description"]
    assert strict["s"]["enum"] == [1, 2.5, None]  # optional in strict: null is a value of the enum too


def test_patterns_match_the_sdk_formats() -> None:
    manifest = manifest_of(
        {"key": "d", "type": "date", "label": "D", "min": "2024-01-01"},
        {"key": "t", "type": "time", "label": "T"},
        {"key": "dt", "type": "datetime", "label": "DT"},
        {"key": "c", "type": "colour", "label": "C"},
        {"key": "p", "type": "map_point", "label": "P"},
    )
    props = input_schema(manifest)["properties"]
    for key, good, bad in (
        ("d", ["2024-02-29"], ["2024-13-01", "24-01-01", "2024-02-30"]),  # 02-30: format: date catches it
        ("t", ["09:30", "23:59:59"], ["24:00", "9:30", "09:30Z"]),
        ("dt", ["2024-03-15T17:00", "2024-03-15T17:00:00Z", "2024-03-15T17:00:00.5+01:00"], ["2024-03-15 17:00"]),
        ("c", ["#3366cc", "#ABCDEF"], ["red", "#abc", "#3366cc "]),
        ("p", [[51.5, -0.12], [0, 0]], [[1], [1, 2, 3], [0, 200], "51.5,-0.12"]),
    ):
        for value in good:
            assert not errors(props[key], value), (key, value)
        for value in bad:
            assert errors(props[key], value), (key, value)
    assert "on or after 2024-01-01" in props["d"]["description"]


def test_file_inputs_are_data_urls_of_an_accepted_type() -> None:
    csv = "data:text/csv;name=a.csv;base64,eCx5Cg=="
    png = "data:image/png;base64,iVBORw0KGgo="
    for accept, ok, not_ok in (
        (None, [csv, png], ["not a data url", "data:text/csv,plain", "data:text/csv;base64,abc"]),
        ("image/*", [png], [csv]),
        ([".csv"], [csv, "data:application/octet-stream;name=b.csv;base64,"], [png]),
        ("text/csv, image/png", [csv, png], ["data:text/plain;base64,"]),
        (["*/*"], [csv, png], []),
    ):
        schema = {"type": "string", "pattern": data_url_pattern(accept)}
        for value in ok:
            assert not errors(schema, value), (accept, value)
        for value in not_ok:
            assert errors(schema, value), (accept, value)
    many = manifest_of({"key": "f", "type": "image", "label": "F", "multiple": True, "max_size_mb": 2})
    prop = input_schema(many)["properties"]["f"]
    assert prop["type"] == "array" and not errors(prop, [png, png]) and errors(prop, png)
    assert "at most 2 MiB" in prop["description"]


def test_table_rows_are_objects_keyed_by_column() -> None:
    manifest = manifest_of(
        {"key": "rows", "type": "table", "label": "Rows", "min_rows": 1, "max_rows": 2,
         "columns": [{"key": "item", "label": "Item"}, {"key": "qty", "label": "Qty", "type": "number"}]},
    )  # fmt: skip
    prop = input_schema(manifest)["properties"]["rows"]
    assert not errors(prop, [{"item": "tea", "qty": 2}, {"item": "jam"}])
    assert errors(prop, []) and errors(prop, [{"colour": "red"}]) and errors(prop, [{"qty": "two"}])
    strict = input_schema(manifest, dialect="strict")["properties"]["rows"]["items"]
    assert strict["required"] == ["item", "qty"] and not errors(strict, {"item": None, "qty": None})


def test_json_inputs_embed_their_schema_with_refs_resolved() -> None:
    local = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
             "properties": {"a": {"$ref": "#/$defs/pos"}, "b": {"$ref": "#/$defs/pos", "maximum": 5}},
             "$defs": {"pos": {"type": "integer", "minimum": 0}}, "default": {}}  # fmt: skip
    kids = {"type": "array", "items": {"$ref": "#/$defs/node"}}
    recursive = {"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {"kids": kids}}}}
    manifest = manifest_of(
        {"key": "cfg", "type": "json", "label": "Cfg", "schema": local},
        {"key": "tree", "type": "json", "label": "Tree", "schema": recursive},
        {"key": "any", "type": "json", "label": "Any", "required": False},
    )
    schema = input_schema(manifest)
    cfg = schema["properties"]["cfg"]
    assert "$ref" not in json.dumps(cfg) and "$defs" not in cfg and "$schema" not in cfg  # inlined
    assert cfg["properties"]["b"] == {"allOf": [{"type": "integer", "minimum": 0}, {"maximum": 5}]}
    assert schema["properties"]["tree"]["$id"] == "urn:pixie:input:tree"  # recursive: kept, resolvable in place
    assert schema["properties"]["any"]["description"] == "Any. Any JSON value."
    assert errors(schema, {"cfg": {"a": 1, "b": 2}, "tree": {"kids": [{"kids": []}]}, "any": [1, {"x": None}]}) == []
    assert len(errors(schema, {"cfg": {"a": -1, "b": 9}, "tree": {"kids": [{"kids": [1]}]}})) == 3
    strict = input_schema(manifest, dialect="strict")
    assert "default" not in json.dumps(strict)
    assert errors(strict, {"cfg": {"a": 1}, "tree": {"kids": []}, "any": None}) == []


def test_the_strict_dialect_keeps_to_the_openai_subset() -> None:
    """Outside json inputs' own schemas, the strict dialect uses only keywords OPENAI_STRICT allows."""
    manifest = load_manifest(KITCHEN_SINK)
    schema = input_schema(manifest, dialect="strict")
    allowed = set(OPENAI_STRICT.common_keywords).union(*OPENAI_STRICT.type_keywords.values())

    for key, prop in schema["properties"].items():
        if key == "json":
            continue
        for path, keyword, value in keywords(prop, f"/properties/{key}"):
            assert keyword in allowed, f"{path}: {keyword}"
            if keyword == "format":
                assert value in OPENAI_STRICT.string_formats, path
    assert schema["required"] == list(schema["properties"])
    assert schema["additionalProperties"] is False


def keywords(node: Any, path: str) -> Any:
    """Every (path, keyword, value) of a schema and its subschemas."""
    if not isinstance(node, dict):
        return
    for keyword, value in node.items():
        yield path, keyword, value
        if keyword == "properties":
            for name, sub in value.items():
                yield from keywords(sub, f"{path}/properties/{name}")
        elif keyword in ("items", "additionalProperties"):
            yield from keywords(value, f"{path}/{keyword}")
        elif keyword == "anyOf":
            for i, sub in enumerate(value):
                yield from keywords(sub, f"{path}/anyOf/{i}")


# --- outputs ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_type", OUTPUT_TYPES)
def test_placeholders_validate(output_type: str) -> None:
    value = placeholder(output_type)
    assert errors(output_value_schema(output_type), value) == []
    assert errors(output_value_schema(output_type, tolerant=True), value) == []


def test_scalars_may_be_wrapped_and_media_may_be_artefacts() -> None:
    assert not errors(output_value_schema("number"), {"value": 3, "format": "currency"})
    assert errors(output_value_schema("number"), True) and errors(output_value_schema("number"), {"v": 3})
    assert not errors(output_value_schema("progress"), None) and errors(output_value_schema("text"), None)
    image = output_value_schema("image")
    for good in ("https://example.com/a.png", {"artefact": "chart.png", "mime_type": "image/png"},
                 {"value": {"artefact": "a/b.png"}, "alt": "a chart"}):  # fmt: skip
        assert not errors(image, good), good
    for bad in ("chart.png", {"artefact": "/etc/passwd"}, {"artefact": "../x.png"}, {"artefact": "a/../../x"}):
        assert errors(image, bad), bad


def test_tolerant_output_schemas_take_the_variants_check_9_accepts() -> None:
    variants = {
        "kv": {"a": 1},
        "table": [{"a": 1}],
        "file": {"filename": "a.txt", "data": "data:text/plain;base64,", "mime": "text/plain"},
        "tree": {"name": "root", "children": []},
    }
    for output_type, value in variants.items():
        assert errors(output_value_schema(output_type), value), output_type  # not the canonical form
        assert not errors(output_value_schema(output_type, tolerant=True), value), output_type


def test_output_schema_requires_every_output_and_allows_run_id() -> None:
    manifest = load_manifest(EXAMPLES / "compound-interest")
    schema = output_schema(manifest)
    assert schema["required"] == ["final_value", "growth_chart", "yearly_breakdown"]
    value = {o.key: placeholder(o.type) for o in manifest.outputs}
    assert errors(schema, {**value, "run_id": "r1"}) == []
    assert errors(schema, {k: v for k, v in value.items() if k != "final_value"})
    assert schema["properties"]["final_value"]["description"] == "Final value. In GBP."


@pytest.mark.subprocess
def test_kitchen_sink_replies_validate_against_its_output_schema(spawn: Any) -> None:
    manifest = load_manifest(KITCHEN_SINK)
    tool: RunningTool = spawn(KITCHEN_SINK)
    schema = output_schema(manifest)
    inputs = sample_inputs(manifest)
    for variant in (inputs, {**inputs, "verbose": True, "extras": False, "shape": "triangle", "size": 3}):
        request = build_run_request(variant, manifest=manifest)
        reply = httpx.post(f"{tool.url}/run", json=request.body, headers=request.headers, timeout=30)
        assert reply.status_code == 200, reply.text
        assert errors(schema, reply.json()) == []
        assert set(reply.json()) >= set(schema["required"])


# --- errors and OpenAPI -----------------------------------------------------------------------------------------


def test_error_schema_is_the_envelope() -> None:
    schema = error_schema()
    assert not errors(schema, ErrorEnvelope(detail="bad rate", code="invalid_inputs").body())
    assert not errors(schema, {"detail": [{"loc": ["body", "inputs", "rate"], "msg": "x", "type": "y"}]})
    assert (
        errors(schema, {"code": "x"}) and errors(schema, {"detail": 3}) and errors(schema, {"detail": "x", "code": 1})
    )


def test_run_openapi_is_a_document_schemathesis_can_load() -> None:
    schemathesis = pytest.importorskip("schemathesis")
    manifest = load_manifest(KITCHEN_SINK)
    doc = run_openapi(manifest)
    assert doc["openapi"].startswith("3.1") and set(doc["paths"]["/run"]["post"]["responses"]) == {"200", "4XX"}
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(doc), config=schemathesis.Config())
    assert loaded["/run"]["POST"] is not None
