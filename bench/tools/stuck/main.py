"""Bench tool: a sync handler stuck in ``time.sleep`` that never looks at cancellation."""

from __future__ import annotations

import time
from typing import Any

from pixie_sdk import RunInput, make_tool_app, serve

app = make_tool_app(__file__)

#: Far longer than any cancel path may take: the run only ends when the process is killed.
STUCK_SECONDS = 60.0


@app.handler
def run(inputs: RunInput) -> dict[str, Any]:
    time.sleep(STUCK_SECONDS)
    return {"y": inputs.x}


if __name__ == "__main__":
    serve(app)
