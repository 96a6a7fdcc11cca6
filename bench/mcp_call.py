"""What MCP adds to a run: ``tools/call`` over streamable HTTP against the host's JSON run API, same tool.

One ``pixie serve bench/tools/trivial`` (a tool that returns a constant, so the run itself costs
next to nothing); once its process is warm, three ways to the same run alternate on one
machine, one request at a time, each on its own keep-alive connection (stdlib
``http.client``, TCP_NODELAY):

- ``api``: ``POST /api/tools/trivial/runs`` with ``{"inputs": {"x": 1}}``, the JSON run API;
- ``mcp_2026``: ``POST /mcp`` with a 2026-07-28 ``tools/call`` (the per-request envelope, no
  session), what the SDK's own client speaks by default;
- ``mcp_2025``: ``POST /mcp`` with a ``tools/call`` on a 2025-11-25 session opened by the
  initialize handshake, what desktop clients speak today (the reply is an SSE stream).

Raw requests, not the SDK's client: the figure is what the host adds, not what a client costs.
Rounds take the paths in blocks of ``BLOCK`` requests, the order turned every round, so drift
on a shared machine hits all three. The target (the MCP issue): at most ``ADDED_P50_MS_MAX``
more than the JSON API at p50, for both protocol eras.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench._common import HOST, REPO_ROOT, Client, begin, header, latency_summary, no_gc, progress

NAME = "mcp_call"

#: The tool: ``bench/tools/trivial`` answers a constant.
TOOL = "trivial"
TOOL_DIR = REPO_ROOT / "bench" / "tools" / TOOL
#: The inputs of every run.
INPUTS: dict[str, Any] = {"x": 1}
#: The three ways to the same run; added figures are each MCP path against ``api``.
PATHS = ("api", "mcp_2026", "mcp_2025")
#: Requests per path before anything is timed (imports, caches, the host's pool to the tool, the SDK's own).
WARMUP_REQUESTS = 300
#: Timed rounds; each takes every path, in blocks, and turns the order.
ROUNDS = 3
#: Requests per path per round: 1-2 s each, so the benchmark ends within a minute.
REQUESTS = 600
#: The paths take turns this many requests at a time.
BLOCK = 50
#: The target: milliseconds an MCP call may add at p50 over the JSON API (the MCP issue).
ADDED_P50_MS_MAX = 2.0
#: The protocol versions of the two MCP paths.
MODERN_VERSION = "2026-07-28"
HANDSHAKE_VERSION = "2025-11-25"
#: A host that is not answering after this long is broken, not slow.
STARTUP_TIMEOUT_SECONDS = 30.0
#: How often the host's stdout file is read while it starts.
POLL_SECONDS = 0.02
#: SIGTERM to SIGKILL for the host (it stops its tool first, 5 s grace at most).
HOST_STOP_SECONDS = 15.0

_ACCEPT = "application/json, text/event-stream"


@dataclass(frozen=True, slots=True)
class Params:
    warmup_requests: int = WARMUP_REQUESTS
    rounds: int = ROUNDS
    requests: int = REQUESTS
    block: int = BLOCK


@dataclass(frozen=True, slots=True)
class _Request:
    path: str
    body: bytes
    headers: dict[str, str]


def _pixie() -> list[str]:
    script = Path(sys.executable).parent / "pixie"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pixie_host"]


@contextlib.contextmanager
def _host(workdir: Path) -> Iterator[int]:
    """``pixie serve bench/tools/trivial --port 0 --json``; its port, once /healthz answers."""
    out_path, err_path = workdir / "host.out", workdir / "host.err"
    argv = [*_pixie(), "serve", str(TOOL_DIR), "--port", "0", "--json", "--data-dir", str(workdir / "data")]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        port = 0
        while time.monotonic() < deadline and not port:
            if proc.poll() is not None:
                raise RuntimeError(f"the host exited with {proc.returncode}:\n{err_path.read_text()[-3000:]}")
            first = out_path.read_text().split("\n", 1)[0]
            if first.strip():
                port = int(json.loads(first)["port"])
            time.sleep(POLL_SECONDS)
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, RuntimeError):
                Client(port).request("GET", "/healthz")
                break
            time.sleep(POLL_SECONDS)
        else:
            raise RuntimeError(f"the host did not start:\n{err_path.read_text()[-3000:]}")
        yield port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(HOST_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(HOST_STOP_SECONDS)


def _json(body: bytes) -> dict[str, Any]:
    """A JSON reply, or the last ``data:`` event of an SSE reply."""
    text = body.decode()
    if text.lstrip().startswith("{"):
        return dict(json.loads(text))
    data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]
    return dict(json.loads(data[-1]))


def _post(conn: http.client.HTTPConnection, req: _Request) -> tuple[int, dict[str, str], bytes]:
    conn.request("POST", req.path, req.body, req.headers)
    resp = conn.getresponse()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


def _call_body(n: int, meta: dict[str, Any] | None) -> bytes:
    params: dict[str, Any] = {"name": TOOL, "arguments": INPUTS}
    if meta is not None:
        params["_meta"] = meta
    return json.dumps({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}).encode()


def _modern(count: int) -> list[_Request]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
    }
    headers = {
        "Content-Type": "application/json",
        "Accept": _ACCEPT,
        "MCP-Protocol-Version": MODERN_VERSION,
        "Mcp-Method": "tools/call",
        "Mcp-Name": TOOL,
    }
    return [_Request("/mcp", _call_body(n, meta), headers) for n in range(1, count + 1)]


def _handshake(port: int) -> dict[str, str]:
    """Open a 2025-11-25 session (initialize, then initialized); the headers its calls carry."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    base = {"Content-Type": "application/json", "Accept": _ACCEPT}
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": HANDSHAKE_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        },
    }
    status, headers, body = _post(conn, _Request("/mcp", json.dumps(init).encode(), base))
    if status != 200 or "result" not in _json(body):
        raise RuntimeError(f"initialize answered {status}: {body[:300]!r}")
    session = {**base, "Mcp-Session-Id": headers["mcp-session-id"], "MCP-Protocol-Version": HANDSHAKE_VERSION}
    note = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode()
    status, _, body = _post(conn, _Request("/mcp", note, session))
    if status != 202:
        raise RuntimeError(f"notifications/initialized answered {status}: {body[:300]!r}")
    conn.close()
    return session


def _legacy(headers: dict[str, str], count: int) -> list[_Request]:
    return [_Request("/mcp", _call_body(n, None), headers) for n in range(1, count + 1)]


def _api(count: int) -> list[_Request]:
    body = json.dumps({"inputs": INPUTS}).encode()
    return [_Request(f"/api/tools/{TOOL}/runs", body, {"Content-Type": "application/json"})] * count


def _check(port: int, requests: dict[str, list[_Request]]) -> None:
    """One request of each path, read in full: every one must be an ok run of the same tool."""
    for name, reqs in requests.items():
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        status, _, body = _post(conn, reqs[0])
        conn.close()
        reply = _json(body)
        if name == "api":
            good = status == 200 and reply.get("status") == "ok" and reply["outputs"] == {"y": 42}
        else:
            result = reply.get("result", {})
            good = status == 200 and not result.get("isError") and result.get("structuredContent") == {"y": 42}
        if not good:
            raise RuntimeError(f"{name}: not an ok run: {status} {body[:400]!r}")


def _timed(clients: dict[str, Client], requests: dict[str, list[_Request]], params: Params) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {name: [] for name in requests}
    clock = time.perf_counter_ns
    for round_no in range(params.rounds):
        order = list(requests)[round_no % len(requests) :] + list(requests)[: round_no % len(requests)]
        with no_gc():
            for start in range(0, params.requests, params.block):
                for name in order:
                    client, mine = clients[name], out[name]
                    for req in requests[name][start : start + params.block]:
                        t0 = clock()
                        client.request("POST", req.path, req.body, req.headers)
                        mine.append(clock() - t0)
    return out


def run(params: Params | None = None) -> dict[str, Any]:
    """Run the benchmark; the result document."""
    params = params or Params()
    started = begin()
    with tempfile.TemporaryDirectory(prefix="bench-mcp-call-") as tmp, _host(Path(tmp)) as port:
        progress(f"{NAME}: host on port {port}; warming up {TOOL}")
        total = params.warmup_requests + params.requests
        requests = {"api": _api(total), "mcp_2026": _modern(total), "mcp_2025": _legacy(_handshake(port), total)}
        _check(port, requests)
        clients = {name: Client(port) for name in PATHS}
        warm = Params(params.warmup_requests, 1, params.warmup_requests, params.block)
        _timed(clients, {k: v[: params.warmup_requests] for k, v in requests.items()}, warm)
        progress(f"{NAME}: timing {params.rounds} rounds of {params.requests} requests per path")
        samples = _timed(clients, {k: v[params.warmup_requests :] for k, v in requests.items()}, params)
        for client in clients.values():
            client.close()
    summary = {name: latency_summary(values) for name, values in samples.items()}
    added = {name: round(float(summary[name]["p50_ms"]) - float(summary["api"]["p50_ms"]), 4) for name in PATHS[1:]}
    flags = {f"met_added_p50_{name}": value <= ADDED_P50_MS_MAX for name, value in added.items()}
    return {
        **header(
            NAME,
            "an MCP tools/call over streamable HTTP against the host's JSON run API, same tool, one run "
            "at a time; both MCP protocol eras",
            started,
        ),
        "parameters": {
            **asdict(params),
            "tool": str(TOOL_DIR.relative_to(REPO_ROOT)),
            "inputs": INPUTS,
            "client": "stdlib http.client, one keep-alive connection per path, TCP_NODELAY",
            "paths": {
                "api": f"POST /api/tools/{TOOL}/runs",
                "mcp_2026": f"POST /mcp, tools/call at {MODERN_VERSION} (per-request envelope, JSON reply)",
                "mcp_2025": f"POST /mcp, tools/call on a {HANDSHAKE_VERSION} session (SSE reply)",
            },
        },
        "targets": {"added_p50_ms_max": ADDED_P50_MS_MAX},
        "results": {
            "headline": {f"added_ms_p50_{name}": value for name, value in added.items()},
            "latency": summary,
        },
        **flags,
        "met": all(flags.values()),
    }


if __name__ == "__main__":
    json.dump(run(), sys.stdout, indent=2)
    sys.stdout.write("\n")
