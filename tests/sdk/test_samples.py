"""Sample inputs (``pixie_sdk.samples``): every sample passes its input's own check, and so does the whole payload."""

from __future__ import annotations

import io
import random
import wave
from decimal import Decimal
from typing import Any

import pytest

from pixie_sdk.files import decode_file_value
from pixie_sdk.input_specs import INPUT_TYPES, InputSpec
from pixie_sdk.manifest import ToolManifest, parse_manifest
from pixie_sdk.run_input import build_run_input_model, check_input_value
from pixie_sdk.samples import invalid_value, sample_inputs, sample_value

_OUTPUTS = [{"key": "o", "type": "text", "label": "O"}]
_OPTIONS = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]
_INT_OPTIONS = [{"value": 10, "label": "Ten"}, {"value": 20, "label": "Twenty"}]
_COLUMNS = [
    {"key": "name", "label": "Name"},
    {"key": "qty", "label": "Qty", "type": "number"},
    {"key": "paid", "label": "Paid", "type": "boolean"},
    {"key": "on", "label": "On", "type": "date"},
    {"key": "cost", "label": "Cost", "type": "currency"},
]
_PERSON_SCHEMA = {
    "type": "object",
    "required": ["name", "kind", "age", "tags"],
    "properties": {
        "name": {"type": "string", "minLength": 8},
        "kind": {"enum": ["cat", "dog"]},
        "age": {"type": "integer", "minimum": 3, "maximum": 9},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": True},
        "note": {"type": "string"},
    },
    "additionalProperties": False,
}

#: (key, spec without key/label): every input type, bare and with constraints.
_SINK: list[tuple[str, dict[str, Any]]] = [
    ("text", {"type": "text"}),
    ("text_short", {"type": "text", "max_length": 3}),
    ("text_empty", {"type": "text", "max_length": 0}),
    ("textarea", {"type": "textarea", "max_length": 3}),
    ("number", {"type": "number"}),
    ("number_bounded", {"type": "number", "min": 2, "max": 9, "step": 2}),
    ("number_fraction", {"type": "number", "min": 0, "max": 0.3, "step": 0.1}),
    ("number_only_max", {"type": "number", "max": -5}),
    ("number_only_min", {"type": "number", "min": 100.5}),
    ("slider", {"type": "slider", "min": 0, "max": 100}),
    ("slider_step", {"type": "slider", "min": 1, "max": 2, "step": 0.25}),
    ("slider_range", {"type": "slider", "min": -10, "max": 10, "step": 3, "range": True}),
    ("select", {"type": "select", "options": _OPTIONS}),
    ("select_int", {"type": "select", "options": _INT_OPTIONS}),
    ("radio", {"type": "radio", "options": _INT_OPTIONS}),
    ("multiselect", {"type": "multiselect", "options": _INT_OPTIONS}),
    ("checkbox", {"type": "checkbox"}),
    ("toggle", {"type": "toggle"}),
    ("date", {"type": "date"}),
    ("date_after", {"type": "date", "min": "2030-05-05"}),
    ("date_before", {"type": "date", "max": "2020-02-02"}),
    ("time", {"type": "time"}),
    ("datetime", {"type": "datetime"}),
    ("date_range", {"type": "date_range"}),
    ("file", {"type": "file"}),
    ("file_csv", {"type": "file", "accept": ".csv"}),
    ("file_images", {"type": "file", "accept": "image/*"}),
    ("file_unknown_ext", {"type": "file", "accept": ".xyz"}),
    ("file_many", {"type": "file", "accept": "text/csv, .tsv", "multiple": True}),
    ("image", {"type": "image"}),
    ("image_any", {"type": "image", "accept": "image/*", "max_size_mb": 1}),
    ("image_png_ext", {"type": "image", "accept": [".png"]}),
    ("audio", {"type": "audio"}),
    ("audio_wav_mp3", {"type": "audio", "accept": ["audio/wav", ".mp3"]}),
    ("audio_mp3", {"type": "audio", "accept": ".mp3", "multiple": True}),
    ("colour", {"type": "colour"}),
    ("json", {"type": "json"}),
    ("json_schema", {"type": "json", "schema": _PERSON_SCHEMA}),
    ("json_number", {"type": "json", "schema": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}}),
    ("code", {"type": "code", "language": "python"}),
    ("markdown", {"type": "markdown"}),
    ("tags", {"type": "tags", "suggestions": ["x", "y"]}),
    ("autocomplete", {"type": "autocomplete", "endpoint": "cities"}),
    ("table", {"type": "table", "columns": _COLUMNS}),
    ("table_two", {"type": "table", "columns": _COLUMNS, "min_rows": 2, "max_rows": 5}),
    ("table_capped", {"type": "table", "columns": _COLUMNS, "max_rows": 0}),
    ("map_point", {"type": "map_point"}),
    ("map_point_centre", {"type": "map_point", "default_center": [10, 20], "default_zoom": 4}),
    ("map_bbox", {"type": "map_bbox"}),
    ("map_bbox_pole", {"type": "map_bbox", "default_center": [90, 180]}),
    ("map_polygon", {"type": "map_polygon", "default_center": [-33.9, 18.4]}),
    ("map_multipoint", {"type": "map_multipoint"}),
    ("hidden", {"type": "hidden", "default": {"mode": "fast"}}),
]


def _manifest(inputs: list[dict[str, Any]], **extra: Any) -> ToolManifest:
    return parse_manifest({"id": "sink", "name": "Sink", "inputs": inputs, "outputs": _OUTPUTS, **extra})


def _sink(**extra: Any) -> ToolManifest:
    return _manifest([{"key": key, "label": key.title(), **spec} for key, spec in _SINK], **extra)


SINK = _sink()


def _spec(raw: dict[str, Any], key: str = "x") -> InputSpec:
    return _manifest([{"key": key, "label": "X", **raw}]).inputs[0]


def test_kitchen_sink_has_every_input_type() -> None:
    assert {spec.type for spec in SINK.inputs} == set(INPUT_TYPES)


@pytest.mark.parametrize("spec", SINK.inputs, ids=lambda s: s.key)
def test_every_sample_passes_its_input_check(spec: InputSpec) -> None:
    value = sample_value(spec)
    assert value is not None
    assert check_input_value(spec, value) is None


@pytest.mark.parametrize("layout", ["form", "chat", "split"])
def test_whole_sample_payload_passes_the_run_input_model(layout: str) -> None:
    manifest = _sink(layout=layout)
    inputs = sample_inputs(manifest)
    assert set(inputs) == {spec.key for spec in manifest.inputs}
    model = build_run_input_model(manifest).model_validate(inputs)
    assert model["select_int"] == 10 and model["hidden"] == {"mode": "fast"}


#: Types whose value is a string of a set format: a wrongly formatted string is their wrong value.
_STRING_FORMATS = {"date", "time", "datetime", "colour"}


@pytest.mark.parametrize("spec", SINK.inputs, ids=lambda s: s.key)
def test_invalid_value_fails_its_input_check(spec: InputSpec) -> None:
    wrong = invalid_value(spec)
    if spec.type == "hidden" or (spec.type == "json" and spec.key == "json"):
        assert wrong is None
    else:
        assert wrong is not None
        assert check_input_value(spec, wrong) is not None
        if spec.type not in _STRING_FORMATS:
            assert type(wrong) is not type(sample_value(spec))


def test_invalid_value_is_none_when_a_schema_accepts_everything() -> None:
    assert invalid_value(_spec({"type": "json", "schema": {"type": "string", "minLength": 2}})) == 12345
    assert invalid_value(_spec({"type": "json", "schema": {"type": "integer"}})) == "not-valid-json-for-this-schema"
    # `minLength` applies to strings only: every JSON type passes it.
    assert invalid_value(_spec({"type": "json", "schema": {"minLength": 2}})) is None


def test_samples_are_deterministic_and_do_not_share_the_specs_defaults() -> None:
    first = sample_inputs(SINK)
    assert first == sample_inputs(SINK)
    first["hidden"]["mode"] = "changed"
    assert SINK.input("hidden").default == {"mode": "fast"}  # type: ignore[union-attr]


# --- defaults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "number", "min": 0, "max": 10, "default": 7}, 7),
        ({"type": "slider", "min": 0, "max": 10, "range": True, "default": [1, 2]}, [1, 2]),
        ({"type": "select", "options": _INT_OPTIONS, "default": 20}, 20),
        ({"type": "checkbox", "default": True}, True),
        ({"type": "text", "max_length": 5, "default": "hello"}, "hello"),
        ({"type": "json", "schema": {"type": "integer"}, "default": 4}, 4),
        ({"type": "map_point", "default": [1.5, 2.5]}, [1.5, 2.5]),
        ({"type": "table", "columns": _COLUMNS, "default": [{"name": "x"}]}, [{"name": "x"}]),
    ],
)
def test_a_valid_default_is_the_sample(raw: dict[str, Any], expected: Any) -> None:
    assert sample_value(_spec(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "number", "min": 0, "max": 10, "default": 70}, 5),
        ({"type": "select", "options": _INT_OPTIONS, "default": 30}, 10),
        ({"type": "text", "max_length": 3, "default": "too long"}, "sam"),
        ({"type": "date", "max": "2020-01-01", "default": "2021-01-01"}, "2020-01-01"),
        ({"type": "json", "schema": {"type": "integer"}, "default": "four"}, 1),
    ],
)
def test_an_invalid_default_is_ignored(raw: dict[str, Any], expected: Any) -> None:
    assert sample_value(_spec(raw)) == expected


# --- generated values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "number"}, 1),
        ({"type": "number", "min": 2, "max": 9, "step": 2}, 4),
        ({"type": "number", "min": 0, "max": 1}, 0.5),
        ({"type": "number", "min": 0, "max": 0.3, "step": 0.1}, 0.1),
        ({"type": "number", "max": -5}, -5),
        ({"type": "number", "min": 3}, 3),
        ({"type": "number", "max": 7, "step": 2}, 6),
        ({"type": "slider", "min": 0, "max": 100}, 50),
        ({"type": "slider", "min": 1, "max": 2, "step": 0.25}, 1.5),
        ({"type": "slider", "min": 0, "max": 100, "range": True}, [25, 75]),
        ({"type": "slider", "min": 0, "max": 1, "step": 5, "range": True}, [0, 0]),
        ({"type": "select", "options": _INT_OPTIONS}, 10),
        ({"type": "radio", "options": [{"value": True, "label": "Yes"}]}, True),
        ({"type": "multiselect", "options": _OPTIONS}, ["a"]),
        ({"type": "toggle"}, False),
        ({"type": "date"}, "2026-01-01"),
        ({"type": "date", "min": "2030-05-05", "max": "2031-01-01"}, "2030-05-05"),
        ({"type": "date", "min": "not a date"}, "2026-01-01"),
        ({"type": "time"}, "12:00"),
        ({"type": "datetime"}, "2026-01-01T12:00:00"),
        ({"type": "date_range"}, ["2026-01-01", "2026-01-08"]),
        ({"type": "colour"}, "#3366cc"),
        ({"type": "json"}, {}),
        ({"type": "textarea", "max_length": 3}, "sam"),
        ({"type": "text", "max_length": 0}, ""),
        ({"type": "code"}, "sample"),
        ({"type": "tags"}, ["sample"]),
        ({"type": "autocomplete", "endpoint": "e"}, "sample"),
        ({"type": "map_point"}, [51.5, -0.12]),
        ({"type": "map_point", "default_center": [10, 20]}, [10.0, 20.0]),
        ({"type": "map_bbox", "default_center": [10, 20]}, [[9.99, 19.99], [10.01, 20.01]]),
        ({"type": "map_bbox", "default_center": [95, 0]}, [[51.49, -0.13], [51.51, -0.11]]),
        ({"type": "map_multipoint", "default_center": [0, 0]}, [[0.0, 0.0], [0.01, 0.01]]),
        ({"type": "hidden", "default": 3}, 3),
    ],
)
def test_generated_sample(raw: dict[str, Any], expected: Any) -> None:
    spec = _spec(raw)
    value = sample_value(spec)
    assert value == expected and type(value) is type(expected)
    assert check_input_value(spec, value) is None


def test_polygon_is_a_triangle_around_the_centre() -> None:
    points = sample_value(_spec({"type": "map_polygon", "default_center": [-33.9, 18.4]}))
    assert len(points) == 3 and len({tuple(p) for p in points}) == 3
    assert all(abs(lat + 33.9) <= 0.011 and abs(lng - 18.4) <= 0.011 for lat, lng in points)


def test_table_rows_follow_min_and_max_rows_and_column_types() -> None:
    rows = sample_value(_spec({"type": "table", "columns": _COLUMNS, "min_rows": 2}))
    assert rows == [{"name": "sample", "qty": 1, "paid": True, "on": "2026-01-01", "cost": 1}] * 2
    assert len(sample_value(_spec({"type": "table", "columns": _COLUMNS}))) == 1
    assert len(sample_value(_spec({"type": "table", "columns": _COLUMNS, "min_rows": 4, "max_rows": 3}))) == 3
    assert sample_value(_spec({"type": "table", "columns": _COLUMNS, "max_rows": 0})) == []


def test_an_incoherent_spec_gets_a_best_effort_value_without_raising() -> None:
    spec = _spec({"type": "number", "min": 5, "max": 1})
    assert sample_value(spec) == 5
    assert check_input_value(spec, sample_value(spec)) is not None


# --- files ------------------------------------------------------------------------------------


def _file(raw: dict[str, Any]) -> tuple[str, str, bytes]:
    value = sample_value(_spec(raw))
    if raw.get("multiple"):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert isinstance(value, str) and value.startswith("data:")
    file = decode_file_value(value)
    return file.name, file.mime_type, file.data


def test_file_without_accept_is_a_small_text_file() -> None:
    name, mime, data = _file({"type": "file"})
    assert mime == "text/plain" and data == b"sample\n" and name.startswith("upload")


@pytest.mark.parametrize("raw", [{"type": "image"}, {"type": "file", "accept": "image/*"}, {"type": "image",
                         "accept": ".png"}, {"type": "image", "accept": "image/jpeg, image/png"}])  # fmt: skip
def test_image_samples_are_a_real_one_pixel_png(raw: dict[str, Any]) -> None:
    _, mime, data = _file(raw)
    assert mime == "image/png" and data.startswith(b"\x89PNG\r\n\x1a\n") and data[16:24] == b"\0\0\0\x01\0\0\0\x01"


@pytest.mark.parametrize("raw", [{"type": "audio"}, {"type": "audio", "accept": ["audio/wav", ".mp3"]},
                                 {"type": "audio", "accept": "audio/*", "multiple": True}])  # fmt: skip
def test_audio_samples_are_a_real_silent_wav(raw: dict[str, Any]) -> None:
    _, mime, data = _file(raw)
    assert mime == "audio/wav"
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnframes() > 0 and w.readframes(w.getnframes()).strip(b"\0") == b""


def test_mp3_only_accept_gets_an_mp3_frame_with_a_matching_name() -> None:
    name, mime, data = _file({"type": "audio", "accept": ".mp3"})
    assert (name, mime) == ("sample.mp3", "audio/mpeg") and data[:2] == b"\xff\xfb"


def test_extension_accept_puts_the_name_in_the_data_url() -> None:
    value = sample_value(_spec({"type": "file", "accept": ".csv"}))
    assert value.startswith("data:text/csv;name=sample.csv;base64,")
    name, mime, data = _file({"type": "file", "accept": ".csv"})
    assert (name, mime) == ("sample.csv", "text/csv") and data.startswith(b"name,value\n")


def test_mime_accept_keeps_the_asked_spelling() -> None:
    _, mime, data = _file({"type": "audio", "accept": "audio/x-wav"})
    assert mime == "audio/x-wav" and data.startswith(b"RIFF")
    _, mime, _ = _file({"type": "file", "accept": "application/pdf"})
    assert mime == "application/pdf"


def test_a_zero_size_limit_gets_an_empty_file() -> None:
    spec = _spec({"type": "file", "max_size_mb": 0})
    assert sample_value(spec) == "data:text/plain;base64,"
    assert check_input_value(spec, sample_value(spec)) is None


# --- JSON Schema ------------------------------------------------------------------------------


def test_schema_sample_fills_required_properties_and_enums() -> None:
    value = sample_value(_spec({"type": "json", "schema": _PERSON_SCHEMA}))
    assert value == {"name": "samplexx", "kind": "cat", "age": 6, "tags": ["sample", "sample1"]}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "sample"),
        ({"type": "string", "maxLength": 2}, "sa"),
        ({"type": "string", "format": "email"}, "sample@example.com"),
        ({"type": ["null", "integer"], "minimum": 10}, 10),
        ({"type": "integer", "exclusiveMinimum": 3, "multipleOf": 5}, 5),
        ({"type": "integer", "exclusiveMaximum": 0}, -1),
        ({"type": "number", "minimum": 0.5, "exclusiveMaximum": 0.75}, 0.625),
        ({"type": "boolean"}, False),
        ({"const": [1, 2]}, [1, 2]),
        ({"enum": ["x", 2]}, "x"),
        ({"type": "array", "items": {"type": "integer"}}, [1]),
        ({"type": "array", "maxItems": 0}, []),
        ({"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "minItems": 2}, ["sample", False]),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "minProperties": 1}, {"a": "sample"}),
        ({"type": "object", "properties": {"a": {"default": 4}}, "required": ["a"]}, {"a": 4}),
        ({"type": "string", "examples": ["first", "second"]}, "first"),
        ({"$defs": {"n": {"type": "integer", "minimum": 4}}, "$ref": "#/$defs/n"}, 4),
        ({"anyOf": [{"type": "string", "format": "date"}, {"type": "integer"}]}, "2026-01-01"),
        ({"allOf": [{"required": ["a"]}, {"properties": {"a": {"const": 1}}}]}, {"a": 1}),
        ({"minimum": 4}, 4),
        ({"type": "string", "default": 5}, "sample"),
    ],
)
def test_schema_sample(schema: dict[str, Any], expected: Any) -> None:
    spec = _spec({"type": "json", "schema": schema})
    value = sample_value(spec)
    assert value == expected and type(value) is type(expected)
    assert check_input_value(spec, value) is None


@pytest.mark.parametrize(
    "schema",
    [
        {"not": {}},
        {"type": "integer", "minimum": 5, "maximum": 1},
        {"type": "nonsense"},
        {"type": "string", "pattern": "^[0-9]+$"},  # patterns are not generated, and {} is no string
    ],
)
def test_unsatisfiable_unsupported_or_malformed_schema_gives_none(schema: dict[str, Any]) -> None:
    assert sample_value(_spec({"type": "json", "schema": schema})) is None


def test_a_json_input_with_no_sample_is_left_out_of_the_payload() -> None:
    manifest = _manifest([{"key": "j", "label": "J", "type": "json", "schema": {"not": {}}, "required": False}])
    assert sample_inputs(manifest) == {}


# --- show_if and optional inputs ------------------------------------------------------------


def _chain() -> ToolManifest:
    return _manifest(
        [
            {
                "key": "mode",
                "label": "Mode",
                "type": "select",
                "options": [{"value": "basic", "label": "B"}, {"value": "expert", "label": "E"}],
            },  # fmt: skip
            {"key": "expert_level", "label": "L", "type": "number", "show_if": {"key": "mode", "equals": "expert"}},
            {"key": "expert_note", "label": "N", "type": "text", "show_if": {"key": "expert_level", "equals": 1}},
            {"key": "basic_flag", "label": "F", "type": "checkbox", "show_if": {"key": "mode", "equals": "basic"}},
            {"key": "when_off", "label": "W", "type": "text", "show_if": {"key": "basic_flag", "equals": "false"}},
            {"key": "when_on", "label": "O", "type": "text", "show_if": {"key": "basic_flag", "equals": True}},
        ]
    )


def test_inputs_hidden_by_show_if_given_the_samples_are_left_out() -> None:
    manifest = _chain()
    inputs = sample_inputs(manifest)
    assert inputs == {"mode": "basic", "basic_flag": False, "when_off": "sample"}
    build_run_input_model(manifest).model_validate(inputs)


def test_show_if_follows_a_default_that_changes_the_sample() -> None:
    manifest = _manifest(
        [
            {"key": "mode", "label": "Mode", "type": "radio", "options": _INT_OPTIONS, "default": 20},
            {"key": "twenty", "label": "T", "type": "text", "show_if": {"key": "mode", "equals": "20"}},
            {"key": "ten", "label": "T", "type": "text", "show_if": {"key": "mode", "equals": 10}},
        ]
    )
    assert sample_inputs(manifest) == {"mode": 20, "twenty": "sample"}


def test_include_optional_false_leaves_out_optional_inputs_without_a_default() -> None:
    manifest = _manifest(
        [
            {"key": "req", "label": "R", "type": "text"},
            {"key": "opt", "label": "O", "type": "text", "required": False},
            {"key": "opt_default", "label": "D", "type": "number", "required": False, "default": 3},
            {"key": "opt_flag", "label": "F", "type": "toggle", "required": False},
            {"key": "needs_flag", "label": "N", "type": "text", "show_if": {"key": "opt_flag", "equals": False}},
        ]
    )
    everything = sample_inputs(manifest)
    assert everything == {"req": "sample", "opt": "sample", "opt_default": 3, "opt_flag": False, "needs_flag": "sample"}
    minimal = sample_inputs(manifest, include_optional=False)
    # Without `opt_flag` its value is unset rather than False, so `needs_flag` is hidden as well.
    assert minimal == {"req": "sample", "opt_default": 3}
    model = build_run_input_model(manifest)
    model.model_validate(everything)
    model.model_validate(minimal)


def test_optional_samples_of_the_kitchen_sink_still_validate() -> None:
    manifest = _manifest([{"key": key, "label": key, "required": n % 2 == 0, **spec} for n, (key, spec) in
                          enumerate(_SINK)])  # fmt: skip
    minimal = sample_inputs(manifest, include_optional=False)
    assert set(minimal) == {s.key for s in manifest.inputs if s.required or s.default is not None}
    build_run_input_model(manifest).model_validate(minimal)


# --- random bounds and steps (hypothesis is not installed; a seeded generator stands in) ------


def _random_number_spec(rng: random.Random) -> dict[str, Any]:
    def num() -> int | float:
        return rng.randint(-1000, 1000) if rng.random() < 0.5 else round(rng.uniform(-1000, 1000), rng.randint(0, 6))

    lo, hi = sorted((num(), num()))
    if lo == hi:
        hi = lo + 1
    step = rng.choice([None, 1, 2, 0.1, 0.25, 0.3, 7, 0.001, 1e-7, round(rng.uniform(0.001, 500), 3), 10_000])
    kind = rng.choice(["number", "slider", "slider_range"])
    raw: dict[str, Any] = {"type": "slider" if kind.startswith("slider") else "number", "min": lo, "max": hi}
    if kind == "slider_range":
        raw["range"] = True
    if kind == "number":
        for side in rng.sample(["min", "max"], rng.randint(0, 2)):
            del raw[side]
    if step is not None:
        raw["step"] = step
    return raw


@pytest.mark.parametrize("seed", range(300))
def test_random_number_and_slider_bounds_and_steps(seed: int) -> None:
    rng = random.Random(seed)
    raw = _random_number_spec(rng)
    spec = _spec(raw)
    value = sample_value(spec)
    assert check_input_value(spec, value) is None, (raw, value)
    step = raw.get("step")
    if step is not None:
        base = Decimal(str(raw.get("min", 0)))
        for v in value if isinstance(value, list) else [value]:
            k = (Decimal(str(v)) - base) / Decimal(str(step))
            assert k == k.to_integral_value(), (raw, value)
