"""The tool's own tests. ``pytest`` runs them, and the contract's checks on tool.json too.

``pixie_tool`` (from the kit's pytest plugin) starts the tool once per session, the way the
host does, and ``run`` sends a real run to it. A file goes in as ``{"name", "content"}``
(raw text) or as a data URL.
"""

from __future__ import annotations

import pytest
from pixie_validate.tool_client import RunFailed, StartedTool

from handler import profile

CSV = "fruit,count\napple,3\npear,\nplum,7\n"


def test_profile_counts_cells_and_numbers() -> None:
    rows, summary = profile(CSV)
    assert rows == 3
    assert summary[1] == {"column": "count", "filled": 2, "numeric": 2, "min": 3.0, "max": 7.0, "mean": 5.0}


def test_a_run_describes_each_column(pixie_tool: StartedTool) -> None:
    outputs = pixie_tool.run({"data": {"name": "fruit.csv", "content": CSV}})
    assert outputs["row_count"] == 3
    assert [row["column"] for row in outputs["columns"]["rows"]] == ["fruit", "count"]


def test_a_file_that_is_not_csv_is_refused(pixie_tool: StartedTool) -> None:
    with pytest.raises(RunFailed) as failed:
        pixie_tool.run({"data": {"name": "notes.txt", "content": "not a table"}})
    assert failed.value.status == 422
