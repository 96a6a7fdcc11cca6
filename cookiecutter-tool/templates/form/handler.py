"""The run handler of {{ cookiecutter.tool_name | docstring }}: number inputs in, a number and a line chart out.

Make the tool yours: change the inputs and outputs in tool.json, then ``grow`` and ``run``
here. ``run`` gets the inputs already checked against tool.json (bounds, steps, defaults
filled in) and returns one value per declared output.
"""

from __future__ import annotations

from typing import Any

from pixie_sdk import RunInput, outputs

__all__ = ["grow", "run"]

#: Decimal places kept in the outputs (tool.json's ``precision`` only rounds for display).
PLACES = 2


def grow(amount: float, rate_percent: float, steps: int) -> list[float]:
    """The amount after 0, 1, ..., ``steps`` steps of ``rate_percent`` growth each."""
    values = [float(amount)]
    for _ in range(steps):
        values.append(values[-1] * (1 + rate_percent / 100))
    return values


def run(inputs: RunInput) -> dict[str, Any]:
    """One run: the inputs of tool.json in, a dict keyed by its outputs back."""
    values = [round(v, PLACES) for v in grow(inputs.amount, inputs.rate, int(inputs.steps))]
    return {
        "final_amount": values[-1],
        "growth_chart": outputs.chart_line(list(range(len(values))), {"Amount": values}),
    }
