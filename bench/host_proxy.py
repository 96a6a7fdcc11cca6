"""The host's own cost: ``/run`` through ``pixie serve`` against direct to the same tool process; spawn, cancel, RSS.

Four parts, each against a real ``pixie serve --json`` subprocess (start-up object and NDJSON
lifecycle events on stdout, which goes to a file so the pipe never blocks the host):

(a) proxy: ``POST /api/tools/{id}/runs`` on the host against ``POST /run`` on the port of the
    very process the host spawned (read from its ``spawned`` event), for a trivial tool and a
    tool that spends 5 ms of CPU per run, at 1 and 16 concurrent keep-alive clients. A raw
    asyncio HTTP/1.1 client (uvloop when installed) keeps the client's cost per request to tens
    of microseconds. After a warm-up of both paths, rounds alternate between the paths (one
    client: in blocks of ``BLOCK`` requests; 16 clients: one batch each), the order flipped
    every round, so drift on a shared machine hits both.
(b) spawn: ``ready_ms`` of the host's ``ready`` event (measured from spawn) for fresh spawns of
    a ``warm_keep_seconds: 0`` copy of the trivial tool, against the same tool started by hand
    (same argv, cwd and environment) and connect-polled every 0.5 ms until ``/healthz`` is 200;
    the samples alternate.
(c) cancel: a run of a tool stuck in ``time.sleep`` that ignores cancellation, started in the
    background; from ``POST /api/runs/{id}/cancel`` to its process being gone (or a zombie).
(d) idle memory: RSS of a host serving 20 tools, none started, nothing run.

Targets come from the host issue (see ``TARGETS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import psutil

from bench._common import HOST, REPO_ROOT, begin, header, latency_summary, no_gc, progress
from pixie_host.runner import CANCEL_KILL_GRACE_SECONDS
from pixie_host.runs import CANCEL_GRACE_SECONDS
from pixie_sdk.manifest import load_manifest
from pixie_sdk.runbody import build_run_request
from pixie_validate.launcher import launch_spec

NAME = "host_proxy"

TOOLS_DIR = REPO_ROOT / "bench" / "tools"
#: The tools of part (a), by id (= folder name under bench/tools).
PROXY_TOOLS = ("trivial", "cpu5ms")
#: Part (c)'s tool: a sync handler in time.sleep(60) that never looks at cancellation.
STUCK_TOOL = "stuck"
#: The two ways to a tool; ratios and differences are host against direct.
PATHS = ("direct", "host")
#: The inputs of every run.
INPUTS: dict[str, Any] = {"x": 1}

# --- (a) proxy ---
#: Requests per path, tool and concurrency before anything is timed (imports, caches, the host's pool to the tool).
WARMUP_REQUESTS = 200
#: Timed rounds; the paths alternate within each, and their order flips every round.
ROUNDS = 3
#: Concurrent keep-alive clients: one (latency) and sixteen (throughput).
CONCURRENCY = (1, 16)
#: Requests per path per round by (tool, clients): 1-3 s each, so the whole benchmark stays under two minutes.
REQUESTS: dict[tuple[str, int], int] = {("trivial", 1): 1000, ("trivial", 16): 1500, ("cpu5ms", 1): 150,
                                        ("cpu5ms", 16): 400}  # fmt: skip
#: With one client the paths take turns this many requests at a time, so drift within a round hits both.
BLOCK = 50
#: uvicorn closes a kept connection idle for 5 s; one idle longer than this is reopened before it races the close.
IDLE_REOPEN_SECONDS = 3.0

# --- (b) spawn ---
#: Fresh spawns measured per side (host and direct, alternating); odd, so the median is a sample. A spawn here
#: varies by tens of ms on a busy machine, more than the target: fewer samples would leave the median to luck.
SPAWN_SAMPLES = 15
#: Spawns of each side before the samples: the page cache then holds the imports for both alike.
SPAWN_WARMUPS = 1
#: The direct side's connect-poll interval: fine enough that it adds nothing measurable to the tool's own time.
CONNECT_POLL_SECONDS = 0.0005
#: The id and folder of part (b)'s tool: the trivial tool with warm_keep_seconds 0, so every run spawns afresh.
COLD_TOOL = "cold"

# --- (c) cancel ---
#: Cancelled stuck runs measured.
CANCEL_SAMPLES = 3
#: How often the tool's pid is checked after the cancel is sent.
DEAD_POLL_SECONDS = 0.005
#: After the record says running, this long for the /run to reach the tool and its handler to be asleep.
STUCK_SETTLE_SECONDS = 0.2
#: How often a run's record is polled while waiting for it to be running.
RECORD_POLL_SECONDS = 0.01

# --- (d) idle memory ---
#: Tools registered with the idle host.
MEMORY_TOOLS = 20
#: After /healthz answers, this long for start-up work (the store, the memory watch) to settle before RSS is read.
MEMORY_SETTLE_SECONDS = 1.0
#: Then the host counts as idle once it has no child process and uses under this share of one CPU over a window:
#: work it starts in the background at start-up (validating every tool, say) is part of what an idle host holds.
IDLE_CPU_SHARE = 0.02
IDLE_WINDOW_SECONDS = 0.5
#: A host still busy after this long is reported as never idle (its RSS is read then anyway).
IDLE_TIMEOUT_SECONDS = 40.0

# --- targets (the host issue) ---
#: Added p50 of /run through the host, trivial tool, one client.
ADDED_P50_MS_MAX = 1.0
#: Host throughput as a share of direct, 5 ms tool, 16 clients.
THROUGHPUT_RATIO_MIN = 0.90
#: Host's spawn-to-ready minus the tool's own time to accept connections (medians).
SPAWN_OVERHEAD_MS_MAX = 15.0
#: Cancel-to-dead beyond the cancel grace.
CANCEL_SLACK_SECONDS = 0.5
#: Idle host RSS with MEMORY_TOOLS tools registered (MB = 10^6 bytes: the stricter reading of "80 MB").
IDLE_RSS_MB_MAX = 80.0

# --- plumbing ---
#: A host, or a tool started by hand, that is not answering after this long is broken, not slow.
STARTUP_TIMEOUT_SECONDS = 30.0
#: How often the host's stdout file is read while waiting for a lifecycle event.
EVENT_POLL_SECONDS = 0.002
#: Longest wait for one lifecycle event (a spawn, an idle stop).
EVENT_TIMEOUT_SECONDS = 30.0
#: Socket timeout of a control request (start, poll, cancel); the stuck run's cancel takes ~2.3 s.
CONTROL_TIMEOUT_SECONDS = 30.0
#: SIGTERM to SIGKILL for a host: it stops its tools first (5 s grace each at most).
HOST_STOP_SECONDS = 15.0
#: SIGTERM to SIGKILL for a tool started by hand.
TOOL_STOP_SECONDS = 5.0
#: Last characters of a host's stderr quoted when it fails.
LOG_TAIL_CHARS = 3000
MB = 1_000_000
MIB = 1024 * 1024

TARGETS: dict[str, Any] = {
    "added_p50_ms_max": {"value": ADDED_P50_MS_MAX, "tool": "trivial", "clients": 1},
    "throughput_ratio_min": {"value": THROUGHPUT_RATIO_MIN, "tool": "cpu5ms", "clients": 16},
    "spawn_overhead_ms_max": SPAWN_OVERHEAD_MS_MAX,
    "cancel_to_dead_s_max": round(CANCEL_GRACE_SECONDS + CANCEL_SLACK_SECONDS, 3),
    "idle_rss_mb_max": {"value": IDLE_RSS_MB_MAX, "tools": MEMORY_TOOLS},
}


@dataclass(frozen=True, slots=True)
class Params:
    warmup_requests: int = WARMUP_REQUESTS
    rounds: int = ROUNDS
    block: int = BLOCK
    spawn_samples: int = SPAWN_SAMPLES
    cancel_samples: int = CANCEL_SAMPLES
    memory_tools: int = MEMORY_TOOLS
    requests: dict[str, int] = field(default_factory=lambda: {f"{t}@{c}": n for (t, c), n in REQUESTS.items()})


# --- control-plane HTTP (stdlib, one connection per call) ------------------------------------------------------


def _http(port: int, method: str, path: str, body: Any = None, timeout: float = CONTROL_TIMEOUT_SECONDS) -> Any:
    """One JSON request; the decoded reply. Anything but a 2xx raises."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, path, data, {"Content-Type": "application/json"} if data else {})
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    if not 200 <= resp.status < 300:
        raise RuntimeError(f"{method} {path} answered {resp.status}: {raw[:500]!r}")
    return json.loads(raw) if raw else None


# --- the host as a subprocess ----------------------------------------------------------------------------------


def _pixie() -> list[str]:
    script = Path(sys.executable).parent / "pixie"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pixie_host"]


class HostProcess:
    """``pixie serve <paths> --port 0 --json --data-dir <tmp>``: start-up object, lifecycle events, stop."""

    def __init__(self, paths: Sequence[Path], workdir: Path, label: str) -> None:
        self.label = label
        self.data_dir = workdir / f"data-{label}"
        self._out_path = workdir / f"host-{label}.out"
        self._err_path = workdir / f"host-{label}.err"
        self.argv = [*_pixie(), "serve", *map(str, paths), "--port", "0", "--json", "--data-dir", str(self.data_dir)]
        with self._out_path.open("wb") as out, self._err_path.open("wb") as err:
            self.proc = subprocess.Popen(self.argv, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self._offset = 0
        self._partial = b""
        self.startup: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.port = 0
        self.started_at = time.monotonic()

    def _read(self) -> None:
        with self._out_path.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        self._offset += len(chunk)
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            if not self.startup and record.get("status") == "starting":
                self.startup = record
                self.port = int(record["port"])
            else:
                self.events.append(record)

    def err_tail(self) -> str:
        return self._err_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]

    def wait_healthy(self) -> float:
        """Wait for the start-up object and a 200 on /healthz; seconds since the spawn."""
        deadline = self.started_at + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"host {self.label} exited with {self.proc.returncode}:\n{self.err_tail()}")
            self._read()
            if self.port:
                with contextlib.suppress(OSError, RuntimeError):
                    _http(self.port, "GET", "/healthz", timeout=1)
                    return time.monotonic() - self.started_at
            time.sleep(EVENT_POLL_SECONDS)
        raise RuntimeError(f"host {self.label} not healthy in {STARTUP_TIMEOUT_SECONDS} s:\n{self.err_tail()}")

    def mark(self) -> int:
        """The number of events so far: ``wait_event(since=mark())`` sees only what comes after."""
        self._read()
        return len(self.events)

    def wait_event(self, match: Callable[[dict[str, Any]], bool], since: int) -> dict[str, Any]:
        deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
        seen = since
        while True:
            self._read()
            for event in self.events[seen:]:
                if match(event):
                    return event
            seen = len(self.events)
            if self.proc.poll() is not None:
                raise RuntimeError(f"host {self.label} exited with {self.proc.returncode}:\n{self.err_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"host {self.label}: no matching event in {EVENT_TIMEOUT_SECONDS} s")
            time.sleep(EVENT_POLL_SECONDS)

    def run(self, tool: str, inputs: dict[str, Any] = INPUTS) -> dict[str, Any]:
        result: dict[str, Any] = _http(self.port, "POST", f"/api/tools/{tool}/runs", {"inputs": inputs})
        if result.get("status") != "ok":
            raise RuntimeError(f"a run of {tool} through host {self.label} failed: {result}")
        return result

    def spawn(self, tool: str) -> dict[str, Any]:
        """Run ``tool`` once so the host spawns it; its ``spawned`` event (pid, argv with the tool's port)."""
        since = self.mark()
        self.run(tool)
        return self.wait_event(lambda e: e.get("event") == "spawned" and e.get("tool") == tool, since)

    def stop(self) -> list[int]:
        """SIGTERM (the host stops its tools), SIGKILL if it hangs; pids of its tools that outlived it."""
        children: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(self.proc.pid).children(recursive=True)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(HOST_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                progress(f"{NAME}: host {self.label} ignored SIGTERM for {HOST_STOP_SECONDS} s: killed")
                self.proc.kill()
                self.proc.wait(HOST_STOP_SECONDS)
        _gone, alive = psutil.wait_procs(children, timeout=TOOL_STOP_SECONDS)
        for child in alive:  # started by the host this benchmark started: ours to end
            with contextlib.suppress(psutil.Error):
                child.kill()
        return [c.pid for c in alive]


def _tool_port(spawned: dict[str, Any]) -> int:
    argv = list(spawned["argv"])
    return int(argv[argv.index("--port") + 1])


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


# --- (a) a cheap asyncio client ----------------------------------------------------------------------------------


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time; every reply must carry a Content-Length."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.last_used = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buf += data
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self._fail(RuntimeError(f"a reply without Content-Length: {head[:300]!r}"))
            return
        stop = head.find(b"\r\n", at + 2)
        total = end + 4 + int(head[at + 17 : stop if stop >= 0 else len(head)])
        if len(self._buf) < total:
            return
        body = bytes(self._buf[end + 4 : total])
        del self._buf[:total]
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((int(head[9:12]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(ConnectionError(f"the server closed the connection: {exc!r}"))

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    @property
    def usable(self) -> bool:
        fresh = time.monotonic() - self.last_used < IDLE_REOPEN_SECONDS
        return self.transport is not None and not self.transport.is_closing() and fresh

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None and self._waiter is None
        self._waiter = waiter = self._loop.create_future()
        self.transport.write(request)
        return waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Pool:
    """Kept connections to one port, opened as a batch needs them and reopened when closed or long idle."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conns: list[_Conn] = []

    async def take(self, n: int) -> list[_Conn]:
        loop = asyncio.get_running_loop()
        for i in range(n):
            if i < len(self.conns) and self.conns[i].usable:
                continue
            if i < len(self.conns):
                self.conns[i].close()
            _t, conn = await loop.create_connection(lambda: _Conn(loop), HOST, self.port)
            if i < len(self.conns):
                self.conns[i] = conn
            else:
                self.conns.append(conn)
        return self.conns[:n]

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


def _raw_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}:{port}", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _direct_requests(port: int, n: int) -> list[bytes]:
    """The canonical body of ``build_run_request`` with a fresh run id each, as the host would send it."""
    out = []
    for _ in range(n):
        req = build_run_request(INPUTS)
        out.append(_raw_post(port, "/run", json.dumps(req.body, separators=(",", ":")).encode(), req.headers))
    return out


def _host_requests(port: int, tool: str, n: int) -> list[bytes]:
    one = _raw_post(port, f"/api/tools/{tool}/runs", json.dumps({"inputs": INPUTS}).encode(), {})
    return [one] * n


def _check_direct(status: int, body: bytes) -> None:
    if status != 200:
        raise RuntimeError(f"direct /run answered {status}: {body[:300]!r}")


def _check_host(status: int, body: bytes) -> None:
    if status != 200 or b'"status":"ok"' not in body:
        raise RuntimeError(f"a run through the host answered {status}: {body[:300]!r}")


CHECKS: dict[str, Callable[[int, bytes], None]] = {"direct": _check_direct, "host": _check_host}


#: A batch's wall time and per-request latencies, in ns.
_Batch = tuple[int, list[int]]


async def _batch(pool: _Pool, requests: Sequence[bytes], clients: int, check: Callable[[int, bytes], None]) -> _Batch:
    """Send the requests from ``clients`` connections at once; wall time and per-request latencies, in ns."""
    conns = await pool.take(clients)
    shares = [requests[i::clients] for i in range(clients)]
    results: list[list[int]] = [[] for _ in range(clients)]
    clock = time.perf_counter_ns

    async def worker(conn: _Conn, share: Sequence[bytes], mine: list[int]) -> None:
        for request in share:
            t0 = clock()
            status, body = await conn.send(request)
            mine.append(clock() - t0)
            check(status, body)
        conn.last_used = time.monotonic()

    start = clock()
    await asyncio.gather(*(worker(c, s, m) for c, s, m in zip(conns, shares, results, strict=True)))
    return clock() - start, [x for r in results for x in r]


@dataclass(slots=True)
class _Series:
    """One (tool, clients, path): per round, wall time and latencies; CPU of the host and of the tool."""

    rounds: list[tuple[int, list[int]]] = field(default_factory=list)
    host_cpu_s: float = 0.0
    tool_cpu_s: float = 0.0

    @property
    def requests(self) -> int:
        return sum(len(lat) for _w, lat in self.rounds)


@dataclass(slots=True)
class _Target:
    """One tool's two ways in: pools and prepared requests, and the processes whose CPU is read."""

    tool: str
    pools: dict[str, _Pool]
    host_port: int
    tool_port: int
    host_ps: psutil.Process
    tool_ps: psutil.Process

    def requests(self, path: str, n: int) -> list[bytes]:
        if path == "direct":
            return _direct_requests(self.tool_port, n)
        return _host_requests(self.host_port, self.tool, n)


def _order(round_no: int) -> list[str]:
    return list(PATHS) if round_no % 2 == 0 else list(PATHS[::-1])


async def _timed(target: _Target, series: _Series, path: str, requests: Sequence[bytes], clients: int) -> _Batch:
    host0, tool0 = _cpu_seconds(target.host_ps), _cpu_seconds(target.tool_ps)
    got = await _batch(target.pools[path], requests, clients, CHECKS[path])
    series.host_cpu_s += _cpu_seconds(target.host_ps) - host0
    series.tool_cpu_s += _cpu_seconds(target.tool_ps) - tool0
    return got


async def _measure_tool(target: _Target, params: Params) -> dict[int, dict[str, _Series]]:
    """Warm-up, then per concurrency the interleaved rounds; the series by clients and path."""
    out: dict[int, dict[str, _Series]] = {}
    for clients in CONCURRENCY:
        for path in PATHS:
            await _batch(target.pools[path], target.requests(path, params.warmup_requests), clients, CHECKS[path])
    for clients in CONCURRENCY:
        n = params.requests[f"{target.tool}@{clients}"]
        # One client: the paths take turns block by block. Many: one batch each (its wall time is the throughput).
        block = params.block if clients == 1 else n
        series = {path: _Series() for path in PATHS}
        with no_gc():
            for r in range(params.rounds):
                prepared = {path: target.requests(path, n) for path in PATHS}
                wall = dict.fromkeys(PATHS, 0)
                lat: dict[str, list[int]] = {path: [] for path in PATHS}
                for start in range(0, n, block):
                    for path in _order(r):
                        chunk = prepared[path][start : start + block]
                        w, got = await _timed(target, series[path], path, chunk, clients)
                        wall[path] += w
                        lat[path] += got
                for path in PATHS:
                    series[path].rounds.append((wall[path], lat[path]))
                p50 = {p: latency_summary(lat[p])["p50_ms"] for p in PATHS}
                rps = {p: round(n / (wall[p] / 1e9)) for p in PATHS}
                progress(f"{NAME}: {target.tool} x{clients} round {r + 1}/{params.rounds}: p50 ms {p50}, req/s {rps}")
        out[clients] = series
    return out


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed: the cheapest client loop there is."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _series_summary(s: _Series) -> dict[str, Any]:
    pooled = [x for _w, lat in s.rounds for x in lat]
    wall_s = sum(w for w, _ in s.rounds) / 1e9
    return {
        **latency_summary(pooled),
        "p50_ms_per_round": [latency_summary(lat)["p50_ms"] for _w, lat in s.rounds],
        "req_per_s": round(s.requests / wall_s, 1),
        "req_per_s_per_round": [round(len(lat) / (w / 1e9), 1) for w, lat in s.rounds],
        "host_cpu_us_per_request": round(s.host_cpu_s / s.requests * 1e6, 1),
        "tool_cpu_us_per_request": round(s.tool_cpu_s / s.requests * 1e6, 1),
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _compare(direct: dict[str, Any], host: dict[str, Any]) -> dict[str, Any]:
    return {
        "added_ms_p50": round(host["p50_ms"] - direct["p50_ms"], 4),
        "added_ms_p50_per_round": [
            round(h - d, 4) for h, d in zip(host["p50_ms_per_round"], direct["p50_ms_per_round"], strict=True)
        ],
        "added_ms_p99": round(host["p99_ms"] - direct["p99_ms"], 4),
        "added_ms_mean": round(host["mean_ms"] - direct["mean_ms"], 4),
        "throughput_ratio": _ratio(host["req_per_s"], direct["req_per_s"]),
        "throughput_ratio_per_round": [
            _ratio(h, d) for h, d in zip(host["req_per_s_per_round"], direct["req_per_s_per_round"], strict=True)
        ],
    }


def _proxy(host: HostProcess, params: Params) -> dict[str, Any]:
    """Part (a): both paths to each tool, at each concurrency."""
    host_ps = psutil.Process(host.proc.pid)
    spawned = {tool: host.spawn(tool) for tool in PROXY_TOOLS}

    async def measure() -> dict[str, dict[int, dict[str, _Series]]]:
        measured: dict[str, dict[int, dict[str, _Series]]] = {}
        for tool in PROXY_TOOLS:
            port = _tool_port(spawned[tool])
            pools = {"direct": _Pool(port), "host": _Pool(host.port)}
            target = _Target(tool, pools, host.port, port, host_ps, psutil.Process(int(spawned[tool]["pid"])))
            progress(f"{NAME}: {tool}: warming up (direct port {port}, host port {host.port})")
            try:
                measured[tool] = await _measure_tool(target, params)
            finally:
                for pool in pools.values():
                    pool.close()
        return measured

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        measured = runner.run(measure())
    out: dict[str, Any] = {}
    for tool, by_clients in measured.items():
        pid_now = _http(host.port, "GET", f"/api/tools/{tool}")["pid"]
        if pid_now != spawned[tool]["pid"]:
            raise RuntimeError(f"the host respawned {tool} during the benchmark ({spawned[tool]['pid']} -> {pid_now})")
        out[tool] = {}
        for clients, series in by_clients.items():
            paths = {path: _series_summary(series[path]) for path in PATHS}
            out[tool][f"clients_{clients}"] = {"clients": clients, **paths, **_compare(paths["direct"], paths["host"])}
    out["host_rss_mb_after"] = round(host_ps.memory_info().rss / MB, 1)
    return out


# --- (b) spawn to ready ---------------------------------------------------------------------------------------


def _copy_tool(src: Path, dst: Path, tool_id: str, **overrides: Any) -> Path:
    """A copy of a bench tool under another id (its folder named after it), with manifest fields overridden."""
    dst.mkdir(parents=True)
    for name in ("main.py", "pyproject.toml"):
        shutil.copy2(src / name, dst / name)
    manifest = json.loads((src / "tool.json").read_text())
    manifest.pop("$schema", None)  # a relative path that would point nowhere from the copy
    manifest.update(id=tool_id, name=f"Bench copy: {tool_id}", **overrides)
    (dst / "tool.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return dst


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _healthz_200(port: int) -> bool:
    """One poll: a refused connect costs microseconds (no name lookup), so polling barely competes with the tool."""
    request = f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(1)
        if sock.connect_ex((HOST, port)) != 0:
            return False
        sock.sendall(request)
        status = sock.recv(64).split(b" ", 2)
    except OSError:
        return False
    finally:
        sock.close()
    return len(status) >= 2 and status[1] == b"200"


def _direct_ready_ms(folder: Path, workdir: Path) -> float:
    """The tool's own spawn-to-ready: the host's recipe (argv, cwd, env), connect-polled every 0.5 ms."""
    spec = launch_spec(folder, load_manifest(folder), artefacts_root=workdir / "artefacts")
    with (workdir / "direct-spawn.log").open("ab") as log:
        started = time.monotonic()
        proc = subprocess.Popen(spec.argv, cwd=spec.cwd, env=spec.env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        while True:
            if _healthz_200(spec.port):
                return (time.monotonic() - started) * 1000
            if proc.poll() is not None:
                raise RuntimeError(f"{folder.name} exited with {proc.returncode} on start; see {log.name}")
            if time.monotonic() - started > STARTUP_TIMEOUT_SECONDS:
                raise RuntimeError(f"{folder.name} not ready in {STARTUP_TIMEOUT_SECONDS} s")
            time.sleep(CONNECT_POLL_SECONDS)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(TOOL_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(TOOL_STOP_SECONDS)


def _host_ready_ms(host: HostProcess) -> tuple[float, float]:
    """One fresh spawn through the host: ``ready_ms`` of its ``ready`` event, and the client's first-run time."""
    since = host.mark()
    started = time.perf_counter()
    host.run(COLD_TOOL)
    first_run_ms = (time.perf_counter() - started) * 1000
    ready = host.wait_event(lambda e: e.get("event") == "ready" and e.get("tool") == COLD_TOOL, since)
    # warm_keep_seconds 0: the host stops the tool right after the run; the next sample must not overlap it.
    host.wait_event(lambda e: e.get("event") == "stopped" and e.get("tool") == COLD_TOOL, since)
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(int(ready["pid"])).wait(TOOL_STOP_SECONDS)
    return float(ready["ready_ms"]), first_run_ms


def _iqr(values: Sequence[float]) -> list[float]:
    q1, _q2, q3 = statistics.quantiles(values, n=4)
    return [round(q1, 2), round(q3, 2)]


def _spawn(params: Params, workdir: Path) -> dict[str, Any]:
    """Part (b): host spawn-to-ready against the tool's own, alternating, fresh spawns each."""
    tools_dir = workdir / "spawn-tools"
    folder = _copy_tool(TOOLS_DIR / "trivial", tools_dir / COLD_TOOL, COLD_TOOL, warm_keep_seconds=0)
    host = HostProcess([tools_dir], workdir, "spawn")
    direct: list[float] = []
    hosted: list[float] = []
    first_run: list[float] = []
    try:
        host.wait_healthy()
        for i in range(SPAWN_WARMUPS + params.spawn_samples):
            for side in ("direct", "host") if i % 2 == 0 else ("host", "direct"):
                if side == "direct":
                    ms = _direct_ready_ms(folder, workdir)
                else:
                    ms, first = _host_ready_ms(host)
                if i < SPAWN_WARMUPS:
                    continue
                if side == "direct":
                    direct.append(ms)
                else:
                    hosted.append(ms)
                    first_run.append(first)
    finally:
        leftover = host.stop()
    # The two sides alternate, so each pair shares the machine's state of the moment: the median of the
    # differences cancels the drift that spreads either side's samples over a hundred milliseconds here.
    paired = [h - d for h, d in zip(hosted, direct, strict=True)]
    overhead = statistics.median(paired)
    progress(f"{NAME}: spawn: host ready {statistics.median(hosted):.1f} ms, own {statistics.median(direct):.1f} ms")
    return {
        "samples": len(hosted),
        "host_ready_ms": [round(x, 2) for x in hosted],
        "direct_ready_ms": [round(x, 2) for x in direct],
        "host_first_run_ms": [round(x, 2) for x in first_run],
        "host_ready_ms_median": round(statistics.median(hosted), 2),
        "direct_ready_ms_median": round(statistics.median(direct), 2),
        "host_ready_ms_iqr": _iqr(hosted),
        "direct_ready_ms_iqr": _iqr(direct),
        "host_first_run_ms_median": round(statistics.median(first_run), 2),
        # What the client waits beyond ready_ms: the request, the host's work before the spawn, the run itself.
        "host_first_run_minus_ready_ms_median": round(
            statistics.median(f - r for f, r in zip(first_run, hosted, strict=True)), 2
        ),
        "overhead_ms": round(overhead, 2),
        "overhead_ms_of_medians": round(statistics.median(hosted) - statistics.median(direct), 2),
        "tools_left_running": leftover,
    }


# --- (c) cancel to dead ---------------------------------------------------------------------------------------


def _wait_status(host: HostProcess, run_id: str, status: str) -> None:
    deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
    while True:
        record = _http(host.port, "GET", f"/api/runs/{run_id}")
        if record["status"] == status:
            return
        if record["status"] not in ("queued", "running") or time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} is {record['status']!r}, not {status!r}: {record}")
        time.sleep(RECORD_POLL_SECONDS)


def _cancel_once(host: HostProcess) -> dict[str, Any]:
    handle = _http(host.port, "POST", f"/api/tools/{STUCK_TOOL}/runs?background=true", {"inputs": INPUTS})
    run_id = str(handle["id"])
    _wait_status(host, run_id, "running")
    time.sleep(STUCK_SETTLE_SECONDS)
    pid = int(_http(host.port, "GET", f"/api/tools/{STUCK_TOOL}")["pid"])
    proc = psutil.Process(pid)
    if not _alive(proc):
        raise RuntimeError(f"{STUCK_TOOL} (pid {pid}) is gone before the cancel")
    sent: dict[str, Any] = {}

    def cancel() -> None:
        sent["at"] = time.perf_counter()
        try:
            sent["reply"] = _http(host.port, "POST", f"/api/runs/{run_id}/cancel")
        except Exception as exc:  # reported in the sample
            sent["error"] = repr(exc)
        sent["replied_at"] = time.perf_counter()

    thread = threading.Thread(target=cancel, name="bench-cancel")
    thread.start()
    deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
    while _alive(proc):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{STUCK_TOOL} (pid {pid}) still alive {EVENT_TIMEOUT_SECONDS} s after the cancel")
        time.sleep(DEAD_POLL_SECONDS)
    dead_at = time.perf_counter()
    thread.join(CONTROL_TIMEOUT_SECONDS)
    record = _http(host.port, "GET", f"/api/runs/{run_id}")
    return {
        "cancel_to_dead_s": round(dead_at - sent["at"], 4),
        "cancel_reply_s": round(sent["replied_at"] - sent["at"], 4) if "replied_at" in sent else None,
        "reply": sent.get("reply"),
        "reply_error": sent.get("error"),
        "record_status": record["status"],
        "record_error_code": (record.get("error") or {}).get("code"),
    }


def _cancel(host: HostProcess, params: Params) -> dict[str, Any]:
    """Part (c): cancel-to-dead of runs stuck in a handler that ignores cancellation."""
    samples = []
    for i in range(params.cancel_samples):
        samples.append(_cancel_once(host))
        progress(f"{NAME}: cancel {i + 1}/{params.cancel_samples}: dead after {samples[-1]['cancel_to_dead_s']} s")
    times = [s["cancel_to_dead_s"] for s in samples]
    return {
        "samples": samples,
        "cancel_to_dead_s_median": round(statistics.median(times), 4),
        "cancel_to_dead_s_max": round(max(times), 4),
        "cancel_grace_s": CANCEL_GRACE_SECONDS,
        "sigterm_to_sigkill_s": CANCEL_KILL_GRACE_SECONDS,
        "all_cancelled": all(s["record_status"] == "cancelled" for s in samples),
    }


# --- (d) idle memory ------------------------------------------------------------------------------------------


def _wait_idle(ps: psutil.Process) -> tuple[float | None, set[int]]:
    """Seconds until the host has no child and its CPU use falls under IDLE_CPU_SHARE over a window (None if it
    never does), and the pids of the children it had meanwhile (nothing was run: any child is its own doing)."""
    started = time.monotonic()
    children: set[int] = set()
    while time.monotonic() - started < IDLE_TIMEOUT_SECONDS:
        before = _cpu_seconds(ps)
        time.sleep(IDLE_WINDOW_SECONDS)
        busy = (_cpu_seconds(ps) - before) / IDLE_WINDOW_SECONDS >= IDLE_CPU_SHARE
        now = {c.pid for c in ps.children(recursive=True)}
        children |= now
        if not busy and not now:
            return time.monotonic() - started, children
    return None, children


def _memory(params: Params, workdir: Path) -> dict[str, Any]:
    """Part (d): RSS of a host with ``memory_tools`` tools registered and nothing started, once it is idle."""
    tools_dir = workdir / "idle-tools"
    for n in range(1, params.memory_tools + 1):
        _copy_tool(TOOLS_DIR / "trivial", tools_dir / f"idle-{n:02d}", f"idle-{n:02d}")
    host = HostProcess([tools_dir], workdir, "idle")
    try:
        up_s = host.wait_healthy()
        tools = _http(host.port, "GET", "/healthz")["tools"]
        time.sleep(MEMORY_SETTLE_SECONDS)
        ps = psutil.Process(host.proc.pid)
        rss_settled = ps.memory_info().rss
        idle_after, spawned = _wait_idle(ps)
        rss = ps.memory_info().rss
        uss = ps.memory_full_info().uss
        children = len(ps.children(recursive=True))
        threads = ps.num_threads()
    finally:
        leftover = host.stop()
    progress(f"{NAME}: idle host with {tools} tools: RSS {rss / MB:.1f} MB")
    return {
        "tools_registered": tools,
        "tool_processes": children,
        "rss_mb": round(rss / MB, 1),
        "rss_mib": round(rss / MIB, 1),
        "uss_mb": round(uss / MB, 1),
        "rss_mb_at_settle": round(rss_settled / MB, 1),
        "settle_s": MEMORY_SETTLE_SECONDS,
        "idle_after_settle_s": None if idle_after is None else round(idle_after, 2),
        "child_processes_while_settling": len(spawned),
        "threads": threads,
        "host_start_to_healthz_s": round(up_s, 3),
        "tools_left_running": leftover,
    }


# --- the benchmark --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _host(paths: Sequence[Path], workdir: Path, label: str, left: dict[str, list[int]]) -> Iterator[HostProcess]:
    host = HostProcess(paths, workdir, label)
    try:
        host.wait_healthy()
        yield host
    finally:
        left[label] = host.stop()


def run(params: Params | None = None) -> dict[str, Any]:
    """Run the benchmark; the result document."""
    params = params or Params()
    started = begin()
    left: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-host-proxy-") as tmp:
        workdir = Path(tmp)
        progress(f"{NAME}: starting a host over {TOOLS_DIR.relative_to(REPO_ROOT)}")
        with _host([TOOLS_DIR], workdir, "tools", left) as host:
            proxy = _proxy(host, params)
            cancel = _cancel(host, params)
        spawn = _spawn(params, workdir)
        memory = _memory(params, workdir)

    trivial_1 = proxy["trivial"]["clients_1"]
    cpu_16 = proxy["cpu5ms"]["clients_16"]
    flags = {
        "met_added_p50": trivial_1["added_ms_p50"] <= ADDED_P50_MS_MAX,
        "met_throughput": (cpu_16["throughput_ratio"] or 0.0) >= THROUGHPUT_RATIO_MIN,
        "met_spawn": spawn["overhead_ms"] <= SPAWN_OVERHEAD_MS_MAX,
        "met_cancel": cancel["cancel_to_dead_s_max"] <= CANCEL_GRACE_SECONDS + CANCEL_SLACK_SECONDS,
        "met_memory": memory["rss_mb"] <= IDLE_RSS_MB_MAX,
    }
    return {
        **header(
            NAME,
            "the host's cost: /run through `pixie serve` vs direct to the same tool process; "
            "spawn-to-ready over the tool's own; cancel-to-dead of a stuck run; idle RSS with 20 tools",
            started,
        ),
        "parameters": {
            **asdict(params),
            "concurrency": list(CONCURRENCY),
            "client": "raw asyncio HTTP/1.1 (uvloop), one keep-alive connection per concurrent client and path",
            "direct_body": "build_run_request(inputs).body with a fresh run id per request, POST /run",
            "host_body": '{"inputs": {...}}, POST /api/tools/{id}/runs',
            "inputs": INPUTS,
            "tools": {t: str((TOOLS_DIR / t).relative_to(REPO_ROOT)) for t in (*PROXY_TOOLS, STUCK_TOOL)},
            "spawn_connect_poll_ms": CONNECT_POLL_SECONDS * 1000,
            "cancel_dead_poll_ms": DEAD_POLL_SECONDS * 1000,
        },
        "targets": TARGETS,
        "results": {
            "headline": {
                "added_ms_p50_trivial_1_client": trivial_1["added_ms_p50"],
                "throughput_ratio_cpu5ms_16_clients": cpu_16["throughput_ratio"],
                "spawn_overhead_ms": spawn["overhead_ms"],
                "cancel_to_dead_s_max": cancel["cancel_to_dead_s_max"],
                "idle_rss_mb": memory["rss_mb"],
            },
            "proxy": proxy,
            "spawn": spawn,
            "cancel": cancel,
            "idle_memory": memory,
            "tools_left_running_after_host_stop": left,
        },
        **flags,
        "met": all(flags.values()),
    }
