"""The tool's own tests. ``pytest`` runs them, and the contract's checks on tool.json too.

``pixie_tool`` (from the kit's pytest plugin) starts the tool once per session, the way the
host does, and ``run`` sends a real run to it.
"""

from __future__ import annotations

import pytest
from pixie_validate.tool_client import RunFailed, StartedTool

from handler import grow


def test_grow_compounds_each_step() -> None:
    assert grow(100, 10, 2) == pytest.approx([100, 110, 121])


def test_a_run_returns_the_final_amount_and_a_chart(pixie_tool: StartedTool) -> None:
    outputs = pixie_tool.run({"amount": 1000, "rate": 10, "steps": 3})
    assert outputs["final_amount"] == 1331.0
    assert outputs["growth_chart"]["x"] == [0, 1, 2, 3]
    assert outputs["growth_chart"]["series"][0]["y"] == [1000.0, 1100.0, 1210.0, 1331.0]


def test_out_of_range_inputs_are_refused_before_the_handler(pixie_tool: StartedTool) -> None:
    with pytest.raises(RunFailed) as failed:
        pixie_tool.run({"steps": 0})
    assert failed.value.status == 422
    assert failed.value.envelope.code == "invalid_inputs"
