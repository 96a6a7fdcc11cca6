"""The tool's own tests. ``pytest`` runs them, and the contract's checks on tool.json too.

``pixie_tool`` (from the kit's pytest plugin) starts the tool once per session, the way the
host does; ``stream`` starts a run and follows its ``/stream`` to the end.
"""

from __future__ import annotations

from pixie_validate.tool_client import StartedTool

from handler import words


def test_words_splits_on_any_whitespace() -> None:
    assert words(" one  two\nthree ") == ["one", "two", "three"]


def test_a_run_streams_each_word(pixie_tool: StartedTool) -> None:
    run = pixie_tool.stream({"text": "one two three", "delay": 0})
    assert run.status == "ok"
    assert run.outputs["echo"] == "one two three"
    assert run.outputs["word_count"] == 3
    assert len([e for e in run.events if e.output_key == "echo"]) == 3


def test_an_empty_text_gives_no_words(pixie_tool: StartedTool) -> None:
    assert pixie_tool.run({"text": "", "delay": 0})["word_count"] == 0
