"""Bench tool: a sync handler that busy-loops for 5 ms of its own CPU time per run, then echoes its input."""

from __future__ import annotations

import time
from typing import Any

from pixie_sdk import RunInput, make_tool_app, serve

app = make_tool_app(__file__)

#: CPU time each run burns: enough that the tool, not the transport, bounds throughput.
CPU_SECONDS = 0.005


@app.handler
def run(inputs: RunInput) -> dict[str, Any]:
    # This thread's CPU, not the process's (time.process_time): with runs in parallel on the thread pool, the
    # process clock also counts the others' spinning, and each run would stop short of its own 5 ms.
    end = time.thread_time() + CPU_SECONDS
    while time.thread_time() < end:
        pass
    return {"y": inputs.x}


if __name__ == "__main__":
    serve(app)
