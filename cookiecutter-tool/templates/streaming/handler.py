"""The run handler of {{ cookiecutter.tool_name | docstring }}: streams a text back word by word, with progress.

Because ``echo`` is declared ``"streaming": true`` in tool.json, ``POST /run`` answers at
once and the handler runs in the background; ``GET /stream?run_id=`` follows it. Each
``ctx.emit("echo", text)`` is appended to the text so far; ``ctx.progress`` moves the bar.
``ctx.sleep_sync`` pauses and ends the run at once when it is cancelled.
"""

from __future__ import annotations

from typing import Any

from pixie_sdk import RunContext, RunInput

__all__ = ["run", "words"]


def words(text: str) -> list[str]:
    """The words of ``text``, in order (runs of whitespace separate them)."""
    return text.split()


def run(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
    """One run: streams each word of ``text``, pausing ``delay`` seconds between words."""
    parts = words(inputs.text)
    for n, word in enumerate(parts, start=1):
        ctx.emit("echo", word if n == 1 else f" {word}")  # stream_text: each value is appended
        ctx.progress(n / len(parts), f"word {n} of {len(parts)}")
        if n < len(parts):
            ctx.sleep_sync(inputs.delay)  # raises RunCancelled as soon as the run is cancelled
    return {"echo": " ".join(parts), "progress": 1.0, "word_count": len(parts)}
