"""Slow and cancellable: an async handler that waits in small steps and stops when cancelled.

``await ctx.sleep(...)`` wakes as soon as ``/cancel`` arrives (raising ``RunCancelled``, which
the SDK turns into a ``409 {"code": "cancelled"}`` reply); the log lines emitted so far can be
followed on ``/stream?run_id=`` while the run is in flight. Useful for testing cancel, run
deadlines and the host's kill path.
"""

from __future__ import annotations

from typing import Any

from pixie_sdk import RunContext, RunInput, make_tool_app, serve

app = make_tool_app(__file__)

#: Length of one sleep step: cancel is noticed within this (and within ctx.sleep's own 50 ms poll).
STEP_SECONDS = 0.25
#: A log line is written every this many seconds.
LOG_EVERY_SECONDS = 1.0


def line(level: str, t: float, message: str) -> dict[str, Any]:
    """A log line; ``t`` is seconds since the run began (by plan, so every run logs the same lines)."""
    return {"t": round(t, 2), "level": level, "message": message}


@app.handler
async def run(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
    total = float(inputs.seconds)
    ctx.emit("log", {"lines": [line("info", 0.0, f"waiting {total:g} s in {STEP_SECONDS:g} s steps")]})
    slept = 0.0
    next_log = LOG_EVERY_SECONDS
    while slept < total:
        step = min(STEP_SECONDS, total - slept)
        await ctx.sleep(step)  # raises RunCancelled when /cancel is called meanwhile
        slept += step
        if slept >= next_log or slept >= total:
            ctx.emit("log", {"lines": [line("info", slept, f"{slept:g} of {total:g} s")]})
            next_log += LOG_EVERY_SECONDS
    ctx.emit("log", {"lines": [line("info", slept, "done")]})
    # The emitted lines are the `log` output's value already: the SDK merges streamed state into the reply.
    return {"elapsed": round(slept, 3)}


if __name__ == "__main__":
    serve(app)
