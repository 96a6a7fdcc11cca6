"""Compound interest: the small example tool (a number, a chart and a table)."""

from __future__ import annotations

from typing import Any

from pixie_sdk import RunInput, make_tool_app, outputs, serve

app = make_tool_app(__file__)


@app.handler
def run(inputs: RunInput) -> dict[str, Any]:
    periods = int(inputs.compounding)
    factor = (1 + inputs.rate / 100 / periods) ** periods
    balances = [inputs.principal]
    for _ in range(int(inputs.years)):
        balances.append(balances[-1] * factor)
    years = list(range(len(balances)))
    rows = [
        {"year": y, "balance": round(b, 2), "interest": round(b - balances[y - 1], 2) if y else 0.0}
        for y, b in zip(years, balances, strict=True)
    ]
    return {
        "final_value": round(balances[-1], 2),
        "growth_chart": outputs.chart_line(years, {"Balance": [round(b, 2) for b in balances]}),
        "yearly_breakdown": outputs.table(rows),
    }


if __name__ == "__main__":
    serve(app)
