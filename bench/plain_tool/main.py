"""Compound interest, hand-written in plain FastAPI: the baseline the SDK's tool is measured against.

The same logic as ``examples/compound-interest/main.py``, written the way a careful FastAPI
author would: a pydantic model for the nested ``inputs`` of the canonical run body (the flat
copies, ``run_id`` and ``_pixie`` are ignored), a sync endpoint like the example's sync
handler (FastAPI runs it in its threadpool, as the SDK does), and the same output dict, with
its return type annotated (which makes FastAPI serialise it with pydantic-core).
Served like ``pixie_sdk.serve``: 127.0.0.1, uvloop/httptools auto, access log off, log level warning.

Run: ``python bench/plain_tool/main.py --port N``.
"""

from __future__ import annotations

import argparse
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

#: The address every Pixie tool binds (loopback only).
HOST = "127.0.0.1"
#: How long uvicorn may drain connections on SIGTERM, as in pixie_sdk.serve.
GRACEFUL_SHUTDOWN_SECONDS = 3


class Inputs(BaseModel):
    """The tool's inputs, with tool.json's defaults and bounds."""

    principal: float = Field(10000, ge=0)
    rate: float = Field(5, ge=0, le=20)
    years: float = Field(10, ge=1, le=100)
    compounding: Literal[1, 4, 12] = 12


class RunBody(BaseModel):
    """The canonical run body: only the nested ``inputs`` are read; other keys are ignored."""

    inputs: Inputs = Field(default_factory=Inputs)


app = FastAPI(title="Compound interest (plain FastAPI)")


@app.get("/healthz")
async def healthz() -> dict[str, bool]:
    return {"ok": True}


# The return annotation is FastAPI's response model: the reply is serialised by pydantic-core (Rust). With
# `response_model=None` FastAPI would walk the dict with jsonable_encoder instead, ~0.25 ms slower a request.
@app.post("/run")
def run(body: RunBody) -> dict[str, Any]:
    inputs = body.inputs
    periods = int(inputs.compounding)
    factor = (1 + inputs.rate / 100 / periods) ** periods
    balances = [inputs.principal]
    for _ in range(int(inputs.years)):
        balances.append(balances[-1] * factor)
    years = list(range(len(balances)))
    rows = [
        {"year": y, "balance": round(b, 2), "interest": round(b - balances[y - 1], 2) if y else 0.0}
        for y, b in zip(years, balances, strict=True)
    ]
    return {
        "final_value": round(balances[-1], 2),
        "growth_chart": {"x": years, "series": [{"name": "Balance", "y": [round(b, 2) for b in balances]}]},
        "yearly_breakdown": {"rows": rows},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the plain-FastAPI compound-interest tool.")
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=HOST,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
