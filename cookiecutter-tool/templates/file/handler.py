"""The run handler of {{ cookiecutter.tool_name | docstring }}: a CSV file in, a table describing its columns out.

A ``file`` input arrives as an ``InputFile`` (``.name``, ``.mime_type``, ``.data``,
``.text()``), however the file was sent; tool.json's ``accept`` and ``max_size_mb`` are
checked before ``run`` is called. A ``ToolError`` becomes a 400 with its message, shown to
the person who ran the tool.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from pixie_sdk import InputFile, RunInput, ToolError, outputs

__all__ = ["profile", "run"]


def _number(cell: str) -> float | None:
    """The cell as a finite number, or None (NaN and infinities are not numbers here: JSON has no such values)."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _stats(numbers: list[float]) -> dict[str, float | None]:
    """The smallest, largest and mean number, or None for each when there are none."""
    if not numbers:
        return {"min": None, "max": None, "mean": None}
    return {"min": min(numbers), "max": max(numbers), "mean": sum(numbers) / len(numbers)}


def profile(text: str) -> tuple[int, list[dict[str, Any]]]:
    """The number of data rows of a CSV text, and one row per column: filled and numeric cells, min, max, mean."""
    table = list(csv.reader(io.StringIO(text)))
    if not table:
        return 0, []
    header, rows = table[0], table[1:]
    summary: list[dict[str, Any]] = []
    for i, name in enumerate(header):
        filled = [cell for cell in (row[i].strip() for row in rows if i < len(row)) if cell]
        numbers = [n for n in map(_number, filled) if n is not None]
        summary.append({"column": name, "filled": len(filled), "numeric": len(numbers), **_stats(numbers)})
    return len(rows), summary


def run(inputs: RunInput) -> dict[str, Any]:
    """One run: reads the uploaded CSV and describes its columns."""
    data: InputFile = inputs.data
    try:
        row_count, summary = profile(data.text())
    except UnicodeDecodeError:
        raise ToolError(f"{data.name} is not UTF-8 text: save it as UTF-8 and try again", code="bad_encoding") from None
    except csv.Error as exc:
        raise ToolError(f"{data.name} is not a readable CSV file: {exc}", code="bad_csv") from None
    return {"row_count": row_count, "columns": outputs.table(summary)}
