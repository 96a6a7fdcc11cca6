"""``/run`` of a ``make_tool_app`` tool against the same logic hand-written in plain FastAPI, side by side.

Both tools run as real subprocesses (``python main.py --port N``): the SDK's example
``examples/compound-interest`` and ``bench/plain_tool`` (the same handler in plain FastAPI,
same uvicorn settings). After checking that both return the same JSON, each gets a warm-up,
then latency rounds alternate between them (one keep-alive client, sequential requests, the
order flipped every round so drift hits both), then throughput rounds with concurrent
keep-alive clients. Every request is the canonical body of ``build_run_request`` with a fresh
run id, as the host sends it; both tools get the same bytes.

The issue's target: the SDK's p50 latency at most 1.10 x the plain tool's.
"""

from __future__ import annotations

import json
import os
import pstats
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench._common import (
    JSON_HEADERS,
    REPO_ROOT,
    RESULTS_DIR,
    Call,
    Client,
    ToolProcess,
    begin,
    free_port,
    header,
    latency_summary,
    progress,
    time_concurrent,
    time_interleaved,
)
from pixie_sdk.runbody import build_run_request

NAME = "sdk_vs_plain"

#: Requests each tool gets before anything is timed (imports, caches, pydantic's first calls, branch warm-up).
WARMUP_REQUESTS = 300
#: Timed rounds of sequential requests; variants alternate, and their order flips each round.
LATENCY_ROUNDS = 3
#: Sequential requests per variant per latency round.
LATENCY_REQUESTS = 1000
#: Within a round, each variant gets this many requests in turn: drift on a shared machine hits both alike.
LATENCY_BLOCK = 50
#: Concurrent keep-alive clients in the throughput phase.
THROUGHPUT_CLIENTS = 8
#: Throughput rounds; variants alternate as in the latency phase.
THROUGHPUT_ROUNDS = 2
#: Requests per variant per throughput round, shared out between the clients.
THROUGHPUT_REQUESTS = 2000
#: The target: SDK p50 / plain p50 at most this.
P50_RATIO_TARGET = 1.10
#: Functions listed per variant in a profile summary.
PROFILE_TOP = 25

#: Profile entries that are a thread waiting for work, not work (left out of the summary).
IDLE_WAITS = ("acquire' of '_thread.lock", "time.sleep", "select.epoll", "method 'poll'")
#: The inputs of every timed request (the tool.json defaults).
INPUTS: dict[str, Any] = {"principal": 10000, "rate": 5, "years": 10, "compounding": 12}
#: Inputs the equivalence check also compares (besides INPUTS): other branches of the same logic.
CHECK_INPUTS: tuple[dict[str, Any], ...] = (
    INPUTS,
    {"principal": 2500.5, "rate": 3.25, "years": 30, "compounding": 4},
    {"principal": 0, "rate": 0, "years": 1, "compounding": 1},
)

SDK_MAIN = REPO_ROOT / "examples" / "compound-interest" / "main.py"
PLAIN_MAIN = REPO_ROOT / "bench" / "plain_tool" / "main.py"
PROFILER = REPO_ROOT / "bench" / "_profiled_tool.py"
#: The variants, SDK first; ratios are SDK / plain.
VARIANTS: dict[str, Path] = {"sdk": SDK_MAIN, "plain": PLAIN_MAIN}


@dataclass(frozen=True, slots=True)
class Params:
    warmup_requests: int = WARMUP_REQUESTS
    latency_rounds: int = LATENCY_ROUNDS
    latency_requests: int = LATENCY_REQUESTS
    latency_block: int = LATENCY_BLOCK
    throughput_clients: int = THROUGHPUT_CLIENTS
    throughput_rounds: int = THROUGHPUT_ROUNDS
    throughput_requests: int = THROUGHPUT_REQUESTS
    p50_ratio_target: float = P50_RATIO_TARGET
    profile: bool = False


def _calls(n: int, inputs: dict[str, Any] = INPUTS) -> list[Call]:
    """``n`` canonical run requests, each with a fresh run id, encoded once up front."""
    out = []
    for _ in range(n):
        req = build_run_request(inputs)
        out.append(Call("/run", json.dumps(req.body).encode(), {**JSON_HEADERS, **req.headers}))
    return out


def _start(params: Params) -> dict[str, ToolProcess]:
    tools: dict[str, ToolProcess] = {}
    try:
        for name, main in VARIANTS.items():
            port = free_port()
            env = dict(os.environ)
            argv = [sys.executable, str(main), "--port", str(port)]
            if params.profile:
                _profile_path(name).parent.mkdir(parents=True, exist_ok=True)
                _profile_path(name).unlink(missing_ok=True)
                env["PIXIE_BENCH_PROFILE"] = str(_profile_path(name))
                argv = [sys.executable, str(PROFILER), *argv[1:]]
            tools[name] = ToolProcess(name, argv, port, env=env)
        for tool in tools.values():
            tool.wait_ready()
    except BaseException:
        _stop(tools)
        raise
    return tools


def _stop(tools: dict[str, ToolProcess]) -> None:
    for tool in tools.values():
        try:
            tool.stop()
        except Exception as exc:  # keep stopping the others
            progress(f"could not stop {tool.name}: {exc!r}")


def _profile_path(name: str) -> Path:
    return RESULTS_DIR / "profile" / f"{NAME}-{name}.pstats"


def _check_equivalent(clients: dict[str, Client]) -> None:
    for inputs in CHECK_INPUTS:
        (call,) = _calls(1, inputs)
        replies = {
            name: json.loads(c.request("POST", call.path, call.body, call.headers)) for name, c in clients.items()
        }
        first, *rest = replies.values()
        if not rest or any(reply != first for reply in rest):
            raise AssertionError(f"the tools disagree on {inputs}: {json.dumps(replies, sort_keys=True)[:2000]}")


def _order(round_no: int) -> list[str]:
    names = list(VARIANTS)
    return names if round_no % 2 == 0 else names[::-1]


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


@dataclass(slots=True)
class _Measured:
    latency_rounds: list[list[int]] = field(default_factory=list)
    latency_cpu_s: float = 0.0
    latency_requests: int = 0
    throughput_rounds: list[tuple[int, list[int]]] = field(default_factory=list)
    throughput_cpu_s: float = 0.0
    throughput_requests: int = 0


def _cpu(tools: dict[str, ToolProcess]) -> dict[str, float]:
    return {name: tool.cpu_seconds() for name, tool in tools.items()}


def _measure(params: Params, tools: dict[str, ToolProcess]) -> dict[str, _Measured]:
    measured = {name: _Measured() for name in VARIANTS}
    clients = {name: Client(tool.port) for name, tool in tools.items()}
    _check_equivalent(clients)
    progress(f"{NAME}: replies are equivalent; warming up ({params.warmup_requests} requests each)")
    time_interleaved(clients, {n: _calls(params.warmup_requests) for n in clients}, params.latency_block)
    for r in range(params.latency_rounds):
        ordered = {name: clients[name] for name in _order(r)}
        before = _cpu(tools)
        got = time_interleaved(ordered, {n: _calls(params.latency_requests) for n in ordered}, params.latency_block)
        after = _cpu(tools)
        for name, m in measured.items():
            m.latency_rounds.append(got[name])
            m.latency_cpu_s += after[name] - before[name]
            m.latency_requests += params.latency_requests
        p50s = {n: latency_summary(got[n])["p50_ms"] for n in VARIANTS}
        progress(f"{NAME}: latency round {r + 1}/{params.latency_rounds}: p50 ms {p50s}")
    for client in clients.values():
        client.close()
    for r in range(params.throughput_rounds):
        for name in _order(r):
            calls = _calls(params.throughput_requests)
            before_s = tools[name].cpu_seconds()
            result = time_concurrent(tools[name].port, calls, params.throughput_clients)
            m = measured[name]
            m.throughput_cpu_s += tools[name].cpu_seconds() - before_s
            m.throughput_requests += len(calls)
            m.throughput_rounds.append((result.wall_ns, result.latencies_ns))
        rps = {n: round(params.throughput_requests / (measured[n].throughput_rounds[-1][0] / 1e9)) for n in VARIANTS}
        progress(f"{NAME}: throughput round {r + 1}/{params.throughput_rounds}: req/s {rps}")
    return measured


def _variant(m: _Measured, params: Params) -> dict[str, Any]:
    pooled = [x for rnd in m.latency_rounds for x in rnd]
    out: dict[str, Any] = {
        "latency": {
            **latency_summary(pooled),
            "p50_ms_per_round": [latency_summary(rnd)["p50_ms"] for rnd in m.latency_rounds],
            "server_cpu_us_per_request": round(m.latency_cpu_s / m.latency_requests * 1e6, 1),
        }
    }
    if m.throughput_rounds:
        wall = sum(w for w, _ in m.throughput_rounds)
        out["throughput"] = {
            "requests": m.throughput_requests,
            "clients": params.throughput_clients,
            "req_per_s": round(m.throughput_requests / (wall / 1e9), 1),
            "req_per_s_per_round": [round(params.throughput_requests / (w / 1e9), 1) for w, _ in m.throughput_rounds],
            "server_cpu_us_per_request": round(m.throughput_cpu_s / m.throughput_requests * 1e6, 1),
            "latency_under_load": latency_summary([x for _, lat in m.throughput_rounds for x in lat]),
        }
    return out


def run(params: Params | None = None) -> dict[str, Any]:
    """Run the benchmark; the result document."""
    params = params or Params()
    progress(f"{NAME}: starting {', '.join(VARIANTS)}")
    started = begin()
    tools = _start(params)
    try:
        measured = _measure(params, tools)
    finally:
        _stop(tools)

    variants = {name: _variant(m, params) for name, m in measured.items()}
    sdk, plain = variants["sdk"], variants["plain"]
    p50_ratio = _ratio(sdk["latency"]["p50_ms"], plain["latency"]["p50_ms"])
    per_round = [
        _ratio(a, b)
        for a, b in zip(sdk["latency"]["p50_ms_per_round"], plain["latency"]["p50_ms_per_round"], strict=True)
    ]
    comparison: dict[str, Any] = {
        "p50_ratio": p50_ratio,
        "p50_ratio_per_round": per_round,
        "p50_added_ms": round(sdk["latency"]["p50_ms"] - plain["latency"]["p50_ms"], 4),
        "p99_ratio": _ratio(sdk["latency"]["p99_ms"], plain["latency"]["p99_ms"]),
        "mean_ratio": _ratio(sdk["latency"]["mean_ms"], plain["latency"]["mean_ms"]),
        "server_cpu_ratio": _ratio(
            sdk["latency"]["server_cpu_us_per_request"], plain["latency"]["server_cpu_us_per_request"]
        ),
        "throughput_ratio": (
            _ratio(sdk["throughput"]["req_per_s"], plain["throughput"]["req_per_s"]) if "throughput" in sdk else None
        ),
        "target": {"p50_ratio_max": params.p50_ratio_target},
        "met": p50_ratio is not None and p50_ratio <= params.p50_ratio_target and not params.profile,
    }
    document: dict[str, Any] = {
        **header(
            NAME, "POST /run: make_tool_app tool vs the same logic in plain FastAPI (both real subprocesses)", started
        ),
        "parameters": {
            **{k: v for k, v in asdict(params).items() if k != "profile"},
            "latency_clients": 1,
            "client": "http.client keep-alive, TCP_NODELAY, one connection per client thread",
            "body": "build_run_request(inputs).body with a fresh run id per request",
            "inputs": INPUTS,
            "tools": {name: _rel(path) for name, path in VARIANTS.items()},
        },
        "variants": variants,
        **comparison,
    }
    if params.profile:
        document["profiled"] = True
        document["note"] = "tools ran under cProfile: the figures are inflated and not comparable; see `profile`"
        document["profile"] = {name: _profile_summary(name, params) for name in VARIANTS}
    return document


def _served(params: Params) -> int:
    """``/run`` requests each tool answers in one run of this benchmark."""
    timed = params.latency_rounds * params.latency_requests + params.throughput_rounds * params.throughput_requests
    return len(CHECK_INPUTS) + params.warmup_requests + timed


def _profile_summary(name: str, params: Params) -> dict[str, Any]:
    path = _profile_path(name)
    if not path.is_file():
        raise RuntimeError(f"{name} wrote no profile to {path}: did it stop on SIGTERM?")
    stats = pstats.Stats(str(path))
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    per_req = 1e6 / _served(params)
    rows: list[tuple[str, int, float, float]] = [
        (f"{_short(file)}:{line}({func})", calls, tottime, cumtime)
        for (file, line, func), (_cc, calls, tottime, cumtime, _callers) in raw.items()
    ]

    def row(r: tuple[str, int, float, float]) -> dict[str, Any]:
        fn, calls, tot, cum = r
        return {"function": fn, "calls": calls, "tottime_us_per_request": round(tot * per_req, 2),
                "cumtime_us_per_request": round(cum * per_req, 2)}  # fmt: skip

    # Per-request work only: functions called at least every other request, less the threads' idle waits.
    hot = [r for r in rows if r[1] >= _served(params) // 2 and not any(w in r[0] for w in IDLE_WAITS)]
    by_tot = sorted(hot, key=lambda r: -r[2])[:PROFILE_TOP]
    by_cum = sorted((r for r in hot if r[0].startswith("pixie_sdk/")), key=lambda r: -r[3])[:PROFILE_TOP]
    return {
        "pstats": _rel(path),
        "requests_served": _served(params),
        "top_tottime": [row(r) for r in by_tot],
        "pixie_sdk_cumtime": [row(r) for r in by_cum],
    }


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _short(file: str) -> str:
    for marker in ("site-packages/", str(REPO_ROOT) + "/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file
