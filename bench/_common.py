"""What every benchmark shares: tool processes, a cheap keep-alive client, statistics and the result file."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import http.client
import importlib.metadata
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

#: The repository root (bench/ lives directly under it).
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Where each benchmark's JSON is written (git-ignored).
RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: The address tools bind and the client talks to.
HOST = "127.0.0.1"
#: How long a tool may take from spawn to a 200 on /healthz.
STARTUP_TIMEOUT_SECONDS = 20.0
#: Pause between /healthz polls while a tool starts.
STARTUP_POLL_SECONDS = 0.05
#: How long a tool may take to exit after SIGTERM before it is killed.
STOP_TIMEOUT_SECONDS = 5.0
#: Socket timeout of every client request: a hung tool fails the run instead of stalling it.
REQUEST_TIMEOUT_SECONDS = 10.0
#: Last bytes of a tool's own log quoted when it fails to start.
LOG_TAIL_BYTES = 4000
#: Distribution packages whose versions go into the result (they decide the figures).
REPORTED_PACKAGES = ("fastapi", "starlette", "pydantic", "pydantic-core", "uvicorn", "uvloop", "httptools")

JSON_HEADERS = {"Content-Type": "application/json"}


def progress(message: str) -> None:
    """Progress goes to stderr; stdout carries only the JSON document."""
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def free_port() -> int:
    """A TCP port free on the loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- machine ---------------------------------------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True)
        return done.stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked=no"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": {name: _version(name) for name in REPORTED_PACKAGES},
        "git": _git(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def timestamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Started:
    """When and on what a benchmark began: ``begin()`` first, ``header()`` in its result document."""

    timestamp: str
    machine: dict[str, Any]
    clock: float


def begin() -> Started:
    return Started(timestamp(), machine(), time.monotonic())


def header(name: str, description: str, started: Started) -> dict[str, Any]:
    """The keys every result document opens with: name, description, when, how long, and the machine."""
    return {
        "name": name,
        "benchmark": name,
        "description": description,
        "timestamp": started.timestamp,
        "wall_s": round(time.monotonic() - started.clock, 1),
        "machine": {**started.machine, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
    }


def write_result(name: str, document: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


# --- statistics ------------------------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of sorted values, interpolating linearly between ranks."""
    if not ordered:
        raise ValueError("no samples")
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def latency_summary(samples_ns: Sequence[int]) -> dict[str, float | int]:
    """p50/p90/p99/mean/min/max in milliseconds (rounded to the microsecond) and the sample count."""
    ms = sorted(s / 1e6 for s in samples_ns)
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 4),
        "p90_ms": round(percentile(ms, 90), 4),
        "p99_ms": round(percentile(ms, 99), 4),
        "mean_ms": round(sum(ms) / len(ms), 4),
        "min_ms": round(ms[0], 4),
        "max_ms": round(ms[-1], 4),
    }


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Keep the client's garbage collector out of a timed phase."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# --- client ----------------------------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection (stdlib ``http.client``, TCP_NODELAY): cheap, so not the bottleneck."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_SECONDS)
        self.conn.connect()
        assert self.conn.sock is not None
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> bytes:
        """Send one request and read the whole reply; anything but a 200 raises."""
        self.conn.request(method, path, body, headers or {})
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{method} {path} answered {resp.status}: {data[:300]!r}")
        return data

    def close(self) -> None:
        self.conn.close()


@dataclass(frozen=True, slots=True)
class Call:
    """One prepared POST: encoded body and headers, so the timed loop does no encoding."""

    path: str
    body: bytes
    headers: dict[str, str]


def time_sequential(client: Client, calls: Sequence[Call]) -> list[int]:
    """Send the calls one after another on one connection; per-request latency in ns."""
    out: list[int] = []
    clock = time.perf_counter_ns
    with no_gc():
        for call in calls:
            start = clock()
            client.request("POST", call.path, call.body, call.headers)
            out.append(clock() - start)
    return out


def time_interleaved(clients: dict[str, Client], calls: dict[str, Sequence[Call]], block: int) -> dict[str, list[int]]:
    """Sequential requests to several tools, ``block`` to each in turn (in ``clients``' order), so drift hits all.

    One request at a time on the whole machine; per-request latency in ns per tool.
    """
    out: dict[str, list[int]] = {name: [] for name in clients}
    clock = time.perf_counter_ns
    longest = max(len(c) for c in calls.values())
    with no_gc():
        for start in range(0, longest, block):
            for name, client in clients.items():
                mine = out[name]
                for call in calls[name][start : start + block]:
                    t0 = clock()
                    client.request("POST", call.path, call.body, call.headers)
                    mine.append(clock() - t0)
    return out


@dataclass(slots=True)
class ConcurrentResult:
    wall_ns: int
    latencies_ns: list[int] = field(default_factory=list)


def time_concurrent(port: int, calls: Sequence[Call], clients: int) -> ConcurrentResult:
    """Send the calls from ``clients`` threads, each on its own keep-alive connection; wall time and latencies."""
    shares = [calls[i::clients] for i in range(clients)]
    conns = [Client(port) for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    results: list[list[int]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        clock = time.perf_counter_ns
        mine = results[n]
        barrier.wait()
        try:
            for call in shares[n]:
                start = clock()
                conns[n].request("POST", call.path, call.body, call.headers)
                mine.append(clock() - start)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,), name=f"bench-client-{n}") for n in range(clients)]
    for t in threads:
        t.start()
    with no_gc():
        barrier.wait()
        start = time.perf_counter_ns()
        for t in threads:
            t.join()
        wall = time.perf_counter_ns() - start
    for c in conns:
        c.close()
    if errors:
        raise RuntimeError(f"a concurrent client failed: {errors[0]!r}") from errors[0]
    return ConcurrentResult(wall_ns=wall, latencies_ns=[x for r in results for x in r])


# --- tool processes --------------------------------------------------------------------------------------------


class ToolProcess:
    """A tool started as a real subprocess (``python main.py --port N``), ready once /healthz answers."""

    def __init__(self, name: str, argv: Sequence[str], port: int, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.port = port
        self.argv = list(argv)
        self._log = tempfile.TemporaryFile(prefix=f"bench-{name}-")  # noqa: SIM115 (closed by stop())
        self.proc = subprocess.Popen(
            self.argv,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log_tail(self) -> str:
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(0, size - LOG_TAIL_BYTES))
        return self._log.read().decode(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} on start:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(STARTUP_POLL_SECONDS)
        raise RuntimeError(f"{self.name} did not answer /healthz in {STARTUP_TIMEOUT_SECONDS} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) the tool has used so far."""
        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not gone in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT_SECONDS)
        self._log.close()
