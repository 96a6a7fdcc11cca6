"""The SDK's JSON encoder: strict about NaN/Infinity floats, and only about those."""

from __future__ import annotations

import decimal
import enum
import math
import uuid

import pytest

from pixie_sdk._jsonenc import dumps


class Colour(enum.Enum):
    RED = "red"


def test_text_that_spells_nan_is_not_a_nan() -> None:
    value = {"note": "NaN and Infinity are words here", "id": uuid.UUID(int=7), "amount": decimal.Decimal("2.5"),
             "colour": Colour.RED}  # fmt: skip
    assert dumps(value) == (
        b'{"note":"NaN and Infinity are words here","id":"00000000-0000-0000-0000-000000000007",'
        b'"amount":"2.5","colour":"red"}'
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"rows": [{"x": 1.0}, {"x": bad}], "label": "Infinity"})


def test_inputs_refuse_nan_in_table_cells_and_json_values() -> None:
    from pydantic import ValidationError

    from pixie_sdk.manifest import parse_manifest
    from pixie_sdk.run_input import build_run_input_model

    manifest = parse_manifest({
        "id": "t", "name": "T", "outputs": [{"key": "o", "type": "text", "label": "O"}],
        "inputs": [
            {"key": "rows", "type": "table", "label": "Rows", "required": False,
             "columns": [{"key": "a", "label": "A", "type": "number"}]},
            {"key": "blob", "type": "json", "label": "Blob", "required": False},
        ],
    })  # fmt: skip
    model = build_run_input_model(manifest)
    with pytest.raises(ValidationError, match="finite number"):
        model.model_validate({"rows": [{"a": 1.0}, {"a": math.nan}]})
    with pytest.raises(ValidationError, match="NaN or Infinity at /x/1"):
        model.model_validate({"blob": {"x": [1, math.inf]}})
    assert model.model_validate({"rows": [{"a": 2.5}], "blob": {"x": [1, 2]}}).blob == {"x": [1, 2]}
