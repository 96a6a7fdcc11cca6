"""Body mass index: a small tool with reference fixtures (``reference/``, validator check 12).

BMI = weight / height², with the WHO adult categories. ``bmi`` is returned unrounded (the
spec's ``precision: 1`` rounds it for display), so the fixtures compare it with a tolerance.
"""

from __future__ import annotations

from typing import Any

from pixie_sdk import RunInput, make_tool_app, outputs, serve

app = make_tool_app(__file__)

#: WHO adult categories: (upper bound, exclusive; name).
CATEGORIES = ((18.5, "Underweight"), (25.0, "Normal weight"), (30.0, "Overweight"))
HEALTHY_LOW, HEALTHY_HIGH = 18.5, 24.9


def category(bmi: float) -> str:
    """The WHO adult category of a BMI."""
    return next((name for bound, name in CATEGORIES if bmi < bound), "Obese")


@app.handler
def run(inputs: RunInput) -> dict[str, Any]:
    weight, height = inputs.weight_kg, inputs.height_m
    bmi = weight / height**2
    return {
        "bmi": bmi,
        "category": category(bmi),
        "details": outputs.kv(
            {
                "weight_kg": weight,
                "height_m": height,
                "bmi": round(bmi, 1),
                "healthy_weight_min_kg": round(HEALTHY_LOW * height**2, 1),
                "healthy_weight_max_kg": round(HEALTHY_HIGH * height**2, 1),
            }
        ),
    }


if __name__ == "__main__":
    serve(app)
