"""Outputs as text for a model's context: formatted, compact, and bounded however big the value is."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from pixie_host.mcp.summary import MAX_TABLE_ROWS, MAX_TEXT_CHARS, describe_event, format_number, summarise
from pixie_sdk.output_specs import OutputSpec

_SPEC: TypeAdapter[Any] = TypeAdapter(OutputSpec)
#: What one summary may take at most, whatever the value's size: a few screens of text.
BOUND = MAX_TEXT_CHARS + 200


def spec(output_type: str, **fields: Any) -> Any:
    return _SPEC.validate_python({"key": "out", "type": output_type, "label": "Out", **fields})


@pytest.mark.parametrize(
    ("value", "fields", "expected"),
    [
        (16470.0899, {"format": "currency", "unit": "GBP"}, "16,470.09 GBP"),
        (0.0525, {"format": "percent", "precision": 2}, "5.25% (0.0525)"),
        (123456.0, {"format": "scientific"}, "1.235e+05"),
        (3.0, {}, "3"),
        (2.5, {"precision": 3, "unit": "s"}, "2.500 s"),
    ],
)
def test_numbers_read_as_the_ui_shows_them(value: float, fields: dict[str, Any], expected: str) -> None:
    assert format_number(value, fields.get("format"), fields.get("precision"), fields.get("unit")) == expected
    assert summarise(spec("number", **fields), value) == f"**Out**: {expected}"


def test_big_values_are_summarised_never_dumped() -> None:
    rows = [{"n": i, "name": f"row {i}", "note": "x" * 500} for i in range(1000)]
    table = summarise(spec("table"), {"rows": rows})
    assert table.count("\n| ") == 1 + MAX_TABLE_ROWS and "980 more rows (1,000 in all" in table and len(table) < BOUND
    text = summarise(spec("text"), "word " * 100_000)
    assert len(text) < BOUND and "more characters; the whole value is in structuredContent" in text
    points = list(range(10_000))
    chart = summarise(spec("chart_line"), {"x": points, "series": [{"name": "s", "y": points}]})
    assert "10,000 points in 1 series" in chart and "s: min 0, max 9,999" in chart and len(chart) < 500
    lines = [{"message": f"line {i}", "level": "info"} for i in range(5000)]
    log = summarise(spec("log"), {"lines": lines})
    assert "the last 20 of 5,000 lines" in log and "line 4999" in log and "line 100\n" not in log
    pairs = summarise(spec("kv"), {f"k{i}": i for i in range(1000)})
    assert len(pairs) < BOUND and "980 more pairs" in pairs


def test_stream_events_read_as_one_line() -> None:
    assert describe_event(spec("stream_text"), " Once upon a time.") == "Out: Once upon a time."
    assert describe_event(spec("progress"), {"value": 0.5, "label": "half"}) == "Out: 50%, half"
    chart = {"x": [3], "series": [{"name": "Words", "y": [44]}]}
    assert describe_event(spec("chart_line"), chart) == "Out: +1 point (x 3: Words 44)"
