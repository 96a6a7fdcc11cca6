"""Bench tool: returns a constant, so ``/run`` costs only the SDK and the transport around it."""

from __future__ import annotations

from typing import Any

from pixie_sdk import RunInput, make_tool_app, serve

app = make_tool_app(__file__)

#: The constant every run returns.
ANSWER = 42


@app.handler
async def run(inputs: RunInput) -> dict[str, Any]:
    return {"y": ANSWER}


if __name__ == "__main__":
    serve(app)
