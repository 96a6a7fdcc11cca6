"""tool.schema.json is generated from the models, shipped, current, and usable by an editor."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pixie_sdk.schema import SCHEMA_FILE, render_schema

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
BAD = Path(__file__).resolve().parent.parent / "fixtures" / "manifests" / "bad"


def test_shipped_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == render_schema(), "run `python -m pixie_sdk.schema` and commit the result"


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("tool", sorted(p.name for p in EXAMPLES.iterdir() if (p / "tool.json").exists()))
def test_examples_validate_against_the_schema_they_point_at(tool: str) -> None:
    manifest_file = EXAMPLES / tool / "tool.json"
    data = json.loads(manifest_file.read_text())
    schema_file = (manifest_file.parent / data["$schema"]).resolve()
    assert schema_file == SCHEMA_FILE.resolve()
    jsonschema.validate(data, json.loads(schema_file.read_text()))


@pytest.mark.parametrize(
    "case", ["unknown-input-type", "unknown-top-level-field", "unknown-output-field", "select-without-options"]
)
def test_editor_catches_shape_errors_too(case: str) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    assert list(validator.iter_errors(json.loads((BAD / f"{case}.json").read_text())))


def test_schema_is_shipped_in_the_wheel_package() -> None:
    assert SCHEMA_FILE.parent.name == "schema" and (SCHEMA_FILE.parent / "__init__.py").exists()
