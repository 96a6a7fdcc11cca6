"""Where one SDK ``/run`` spends its time, step by step, in-process (a diagnostic, not part of ``python -m bench``).

Run: ``python -m bench.sdk_run_breakdown`` (prints JSON to stdout, writes
``bench/results/sdk_run_breakdown.json``). It times each step of ``ToolApp._run`` on the
compound-interest example with the same body the HTTP benchmark sends, next to what plain
FastAPI does for the same step, and the whole ASGI request for both apps (no sockets, no
uvicorn). It reaches into private SDK internals (``_input_model``, ``_runs``,
``_check_result``, ...): when those change, change this file with them.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bench._common import REPO_ROOT, machine, progress, timestamp, write_result

NAME = "sdk_run_breakdown"

#: Calls per timing sample of one step.
STEP_CALLS = 1000
#: Samples per step; the median is reported (the machine is shared, the median shrugs off bursts).
STEP_SAMPLES = 5
#: Whole ASGI requests per app per sample.
ASGI_CALLS = 1000
#: Samples of whole ASGI requests per app, alternating apps.
ASGI_SAMPLES = 5
#: Requests per app for the garbage-collector figures (enough for several full collections).
GC_CALLS = 3000
#: Finished runs in the registry while timing (the steady state of a busy tool: the registry's cap).
REGISTRY_FILL = 256

INPUTS: dict[str, Any] = {"principal": 10000, "rate": 5, "years": 10, "compounding": 12}


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _per_call_us(fn: Callable[[], object], calls: int = STEP_CALLS, samples: int = STEP_SAMPLES) -> float:
    results = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        results.append((time.perf_counter_ns() - start) / calls / 1e3)
    return round(statistics.median(results), 2)


async def _per_call_us_async(fn: Callable[[], Awaitable[object]], calls: int, samples: int) -> float:
    results = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        for _ in range(calls):
            await fn()
        results.append((time.perf_counter_ns() - start) / calls / 1e3)
    return round(statistics.median(results), 2)


def _asgi_call(app: Any, body: bytes, headers: dict[str, str]) -> Callable[[], Awaitable[None]]:
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/run", "raw_path": b"/run", "query_string": b"", "root_path": "", "headers": raw_headers,
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
    }  # fmt: skip
    message = {"type": "http.request", "body": body, "more_body": False}

    async def once() -> None:
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return message

        async def send(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                status.append(msg["status"])

        await app(dict(scope), receive, send)
        if status != [200]:
            raise RuntimeError(f"/run answered {status}")

    return once


async def _gc_figures(call: Callable[[], Awaitable[None]]) -> dict[str, Any]:
    """Cyclic garbage one request leaves (freed only by the collector), and what the collector then costs."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(GC_CALLS):
            await call()
        gc.collect()
        kinds = Counter(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    runs = {0: 0, 1: 0, 2: 0}
    spent = [0]
    started = [0]

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter_ns()
        else:
            runs[info["generation"]] += 1
            spent[0] += time.perf_counter_ns() - started[0]

    gc.collect()
    gc.callbacks.append(watch)
    try:
        for _ in range(GC_CALLS):
            await call()
    finally:
        gc.callbacks.remove(watch)
    return {
        "cyclic_garbage_objects_per_request": round(sum(kinds.values()) / GC_CALLS, 1),
        "cyclic_garbage_kinds": {k: round(v / GC_CALLS, 2) for k, v in kinds.most_common(12)},
        f"collections_in_{GC_CALLS}_requests": {f"gen{g}": n for g, n in runs.items()},
        "collector_us_per_request": round(spent[0] / GC_CALLS / 1e3, 1),
    }


async def _measure() -> dict[str, Any]:
    from fastapi.encoders import jsonable_encoder
    from pydantic import TypeAdapter
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import Headers
    from starlette.responses import Response

    from pixie_sdk._jsonenc import dumps as _dumps
    from pixie_sdk._runs import LiveRun
    from pixie_sdk.context import RunContext
    from pixie_sdk.runbody import build_run_request, parse_run_body
    from pixie_sdk.stream import StreamEvent

    sdk_mod = _load(REPO_ROOT / "examples" / "compound-interest" / "main.py", "bench_sdk_tool")
    plain_mod = _load(REPO_ROOT / "bench" / "plain_tool" / "main.py", "bench_plain_tool")
    app, plain_app = sdk_mod.app, plain_mod.app
    loop = asyncio.get_running_loop()

    req = build_run_request(INPUTS)
    raw = json.dumps(req.body).encode()
    headers = Headers(raw=[(b"content-type", b"application/json"), *((k.lower().encode(), v.encode())
                           for k, v in req.headers.items())])  # fmt: skip
    body = json.loads(raw)
    parsed = parse_run_body(body, headers)
    inputs = app._input_model.model_validate(parsed.inputs)
    result = sdk_mod.run(inputs)

    def new_run(run_id: str) -> LiveRun:
        run = LiveRun(run_id, app._types, loop)
        run.ctx = RunContext(run_id=run_id, manifest=app.manifest, artefacts_dir=None, publish=run.publish)
        return run

    for n in range(REGISTRY_FILL):  # the steady state: a full registry of finished runs
        filler = new_run(f"fill-{n}")
        app._runs.add(filler)
        filler.finish(StreamEvent(done=True, status="ok", outputs={}))
    counter = iter(range(10**9))

    def registry_add() -> None:
        run = LiveRun(f"r-{next(counter)}", app._types, loop)
        app._runs.add(run)
        run.finish(StreamEvent(done=True, status="ok"))

    checked = app._check_result(new_run("x"), result)
    data = _dumps(checked)
    plain_body = plain_mod.RunBody
    body_adapter: TypeAdapter[Any] = TypeAdapter(plain_body)
    dict_adapter: TypeAdapter[Any] = TypeAdapter(dict[str, Any])
    sdk_steps = {
        "json.loads(body)": _per_call_us(lambda: json.loads(raw)),
        "parse_run_body": _per_call_us(lambda: parse_run_body(body, headers)),
        "RunInput.model_validate (visibility + defaults + python validators)": _per_call_us(
            lambda: app._input_model.model_validate({**parsed.inputs})
        ),
        "LiveRun + RunContext (asyncio.Event, threading.Event, manifest scans)": _per_call_us(lambda: new_run("y")),
        f"RunRegistry.add with {REGISTRY_FILL} finished runs (_expire scans all)": _per_call_us(registry_add),
        "handler logic (the example's run())": _per_call_us(lambda: sdk_mod.run(inputs)),
        "_check_result (normalise_output + shape_problems per output)": _per_call_us(
            lambda: app._check_result(new_run("z"), result)
        ),
        "_jsonenc.dumps (json.dumps, default hook)": _per_call_us(lambda: _dumps(checked)),
        "StreamEvent(done, outputs) for run.finish": _per_call_us(
            lambda: StreamEvent(done=True, status="ok", outputs=checked)
        ),
        "Response(bytes, headers)": _per_call_us(
            lambda: Response(data, media_type="application/json", headers={"X-Pixie-Run-Id": req.run_id})
        ),
    }
    plain_steps = {
        "json.loads(body)": sdk_steps["json.loads(body)"],
        "TypeAdapter(RunBody).validate_python (FastAPI's body check)": _per_call_us(
            lambda: body_adapter.validate_python(body)
        ),
        "handler logic (same)": _per_call_us(lambda: plain_mod.run(plain_body.model_validate(body))),
        "jsonable_encoder(result) (response_model=None)": _per_call_us(lambda: jsonable_encoder(checked)),
        "json.dumps of the encoded result (JSONResponse.render)": _per_call_us(
            lambda: json.dumps(checked, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        ),
        "TypeAdapter(dict[str, Any]) validate + dump_json (a `-> dict` response model)": _per_call_us(
            lambda: dict_adapter.dump_json(dict_adapter.validate_python(checked))
        ),
    }
    hop = await _per_call_us_async(lambda: run_in_threadpool(int), STEP_CALLS // 4, STEP_SAMPLES)

    sdk_call = _asgi_call(app, raw, {"content-type": "application/json", **req.headers})
    plain_call = _asgi_call(plain_app, raw, {"content-type": "application/json", **req.headers})
    for call in (sdk_call, plain_call):  # warm-up
        for _ in range(ASGI_CALLS // 4):
            await call()
    asgi: dict[str, list[float]] = {"sdk": [], "plain": []}
    for n in range(ASGI_SAMPLES):
        order = [("sdk", sdk_call), ("plain", plain_call)]
        for name, call in order if n % 2 == 0 else order[::-1]:
            asgi[name].append(await _per_call_us_async(call, ASGI_CALLS, 1))
    whole = {name: round(statistics.median(v), 1) for name, v in asgi.items()}
    collections = {name: await _gc_figures(call) for name, call in (("sdk", sdk_call), ("plain", plain_call))}
    return {
        "sdk_steps_us": sdk_steps,
        "sdk_steps_total_us": round(sum(sdk_steps.values()), 1),
        "plain_steps_us": plain_steps,
        "threadpool_hop_us (run_in_threadpool of a no-op, both pay it per sync handler)": hop,
        "asgi_request_us": whole,
        "asgi_added_us": round(whole["sdk"] - whole["plain"], 1),
        "asgi_ratio": round(whole["sdk"] / whole["plain"], 3),
        "gc": collections,
    }


def run() -> dict[str, Any]:
    progress(f"{NAME}: timing the steps of one /run in-process")
    try:
        import uvloop

        figures = uvloop.run(_measure())
    except ImportError:
        figures = asyncio.run(_measure())
    return {
        "benchmark": NAME,
        "timestamp": timestamp(),
        "machine": machine(),
        "parameters": {
            "step_calls": STEP_CALLS,
            "step_samples": STEP_SAMPLES,
            "asgi_calls": ASGI_CALLS,
            "asgi_samples": ASGI_SAMPLES,
            "registry_fill": REGISTRY_FILL,
            "gc_calls": GC_CALLS,
            "inputs": INPUTS,
        },
        **figures,
    }


if __name__ == "__main__":
    document = run()
    write_result(NAME, document)
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
