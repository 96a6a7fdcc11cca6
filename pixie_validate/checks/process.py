"""Checks of the tool process itself: it starts (6), listens on loopback only (17), starts fast (19), stops (11)."""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import NamedTuple

import psutil

from pixie_validate.checks._gates import SAMPLED, SPAWNED, before
from pixie_validate.client import ContractClient
from pixie_validate.context import CheckContext
from pixie_validate.errors import ToolStartError
from pixie_validate.findings import Finding
from pixie_validate.launcher import STOP_GRACE_SECONDS, ToolProcess, launch_spec
from pixie_validate.registry import check

__all__ = [
    "ENV_VALIDATE",
    "ImportCost",
    "clean_shutdown",
    "cold_start",
    "loopback_only",
    "parse_importtime",
    "spawn_hint",
    "spawns",
]

#: Set in the tool's environment during validation: tools may use it to skip slow external calls.
ENV_VALIDATE = "PIXIE_VALIDATE"
#: An entrypoint that exits 0 this soon, having printed nothing, only defined the app and never served it.
QUICK_EXIT_SECONDS = 5.0
#: argparse exits with this status (after printing its usage) on arguments it does not know.
ARGPARSE_USAGE_STATUS = 2
#: Lines of process output shown under a failed start (the rest is in the report's spawn_log).
START_TAIL_CHARS = 3000
#: Exit statuses that mean "ended by our SIGTERM": 143 from a shell wrapper, -15 from Popen.
SIGTERM_STATUSES = frozenset({0, 128 + signal.SIGTERM, -signal.SIGTERM})
#: Wall clock allowed to the `python -X importtime` re-run of check 19: a few times the cold start it explains...
IMPORTTIME_START_FACTOR = 3.0
#: ...but at least this (a fast start measured on a busy machine), and never more than this.
IMPORTTIME_MIN_SECONDS = 10.0
IMPORTTIME_MAX_SECONDS = 60.0
#: Slowest top-level imports named by check 19.
SLOWEST_IMPORTS = 5
#: Modules the `-c` probe of check 19 imports itself (runpy, and pkgutil under run_path): not the tool's cost.
_PROBE_MODULES = frozenset({"runpy", "pkgutil"})

_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
_LISTENING_ON = re.compile(r"running on https?://([\w.\[\]:-]+):(\d+)", re.IGNORECASE)
_IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( +)(\S+)\s*$")


# --- 6 -------------------------------------------------------------------------------------------------------------


def spawn_hint(error: ToolStartError, *, port: int, has_venv: bool) -> tuple[str | None, str | None]:
    """A short diagnosis of a failed start and a specific fix, read from how it failed: ``(message, fix)``."""
    output = error.output or ""
    missing = _MISSING_MODULE.search(output)
    if missing:
        module = missing.group(1)
        top = module.split(".")[0]
        where = "the tool's .venv" if has_venv else "the tool's environment (no .venv yet: run `uv sync` there)"
        return (
            f"missing module `{module}`",
            f"Install `{top}` into {where}: add it to pyproject.toml's dependencies and run `uv sync`",
        )
    if error.returncode is None and error.elapsed == 0.0 and not output:
        return None, "Point --python at a working interpreter, or build the tool's .venv with `uv sync`"
    if error.returncode == ARGPARSE_USAGE_STATUS and "usage:" in output.lower():
        return "it rejected its command line", "Accept `--port N` on the command line (serve(app) does)"
    if error.returncode == 0 and error.elapsed < QUICK_EXIT_SECONDS and not output.strip():
        return (
            "the entrypoint never starts a server",
            "Call serve(app) under if __name__ == '__main__' (or uvicorn.run(app, host='127.0.0.1', port=args.port))",
        )
    if error.returncode is None:
        listening = _LISTENING_ON.search(output)
        if listening and listening.group(2) != str(port):
            return (
                f"it listens on port {listening.group(2)}, not on the --port {port} it was given",
                "Read --port from the command line and serve on 127.0.0.1 at that port",
            )
        return (
            None,
            "Make /healthz answer 200 on 127.0.0.1 at --port; set validator_timeout_override if start-up is slow",
        )
    return None, None


@check(
    6,
    "spawns",
    severity="error",
    kind="runtime",
    summary="`python main.py --port N` starts and answers /healthz 200 before the start-up deadline",
    fix="Make `python <entrypoint> --port N` serve the app on 127.0.0.1:N and answer GET /healthz with 200",
    requires=before(6),
)
def spawns(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: the validator starts the tool the way the host does: `<python> <entrypoint> --port N`, with
    the tool folder as working directory, stdin closed, an allow-listed environment plus the
    tool's `.env`, and `PIXIE_VALIDATE=true`. It then polls `GET /healthz` (every 10-100 ms)
    until it answers 200. The check fails when the process exits first, or when the start-up
    deadline passes (30 s; `validator_timeout_override` in tool.json or `--timeout` change it).
    On success it reports the time to ready; every later runtime check talks to this process.

    Why it matters: the host starts tools exactly like this on the first run. A tool that does not start here
    does not start there; the error the user would see is this stderr tail.

    How to fix: read the output tail shown under the failure. Common causes: a dependency missing from the
    tool's `.venv` (`ModuleNotFoundError`: add it to pyproject.toml and `uv sync`), an entrypoint
    that builds the app but never serves it (call `serve(app)` under `if __name__ == "__main__":`),
    a server bound to a fixed port instead of `--port`, or slow start-up work at import time.

    Example:

        app = make_tool_app(__file__)

        if __name__ == "__main__":
            serve(app)   # parses --port, binds 127.0.0.1
    """
    manifest = ctx.require_manifest()
    python = ctx.interpreter.path if ctx.interpreter else ctx.options.python
    spec = launch_spec(ctx.folder, manifest, python=python, extra_env={ENV_VALIDATE: "true"})
    process = ToolProcess(spec)
    ctx.process = process  # set first: the report's spawn_log and the engine's final stop need it
    try:
        process.start()
        ready_ms = process.wait_ready(ctx.startup_deadline)
    except ToolStartError as exc:
        process.stop()
        ctx.stopped = True
        diagnosis, fix = spawn_hint(exc, port=spec.port, has_venv=(ctx.folder / ".venv").is_dir())
        message = f"{exc}: {diagnosis}" if diagnosis else str(exc)
        tail = (exc.output or process.output.text())[-START_TAIL_CHARS:].rstrip()
        details = f"$ {' '.join(spec.argv)}\n{tail}" if tail else f"$ {' '.join(spec.argv)}\n(no output)"
        yield ctx.finding(message, details=details, fix=fix)
        return
    ctx.client = ContractClient(process.url)
    ctx.ready_ms = ready_ms
    source = ctx.interpreter.source if ctx.interpreter else spec.interpreter.source
    yield ctx.finding(f"ready in {ready_ms:.0f} ms ({source} interpreter)", severity="info")


# --- 11 ------------------------------------------------------------------------------------------------------------


@check(
    11,
    "clean-shutdown",
    severity="warning",
    kind="runtime",
    summary="the tool exits within 5 s of SIGTERM",
    fix="Let SIGTERM stop the server: don't ignore it, and end background threads and child processes with it",
    requires=SAMPLED,  # the contract: check 8 gates 9-16
    runs_last=True,
)
def clean_shutdown(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: after every other check, the validator sends SIGTERM to the tool's process group and waits
    5 s; if the process is still there it sends SIGKILL. The check warns when SIGKILL was needed,
    or when the tool had already exited before the shutdown (it crashed during the checks). The
    exit status is reported but not judged: 0, 143 and -15 are all normal answers to SIGTERM.

    Why it matters: the host stops idle tools, cancelled runs and itself the same way. A tool that ignores
    SIGTERM costs 5 s on every stop and never gets to clean up (temporary files, child
    processes, open connections).

    How to fix: don't install a SIGTERM handler that ignores the signal or blocks; let uvicorn's own
    handler run (`serve(app)` does). Make background threads daemons or stop them on shutdown,
    and pass the signal on to child processes you start.
    """
    process = ctx.process
    if process is None or ctx.stopped:
        raise ctx.skip("the tool is not running")
    was_alive = process.alive
    early_status = process.returncode
    result = process.stop()
    ctx.stopped = True
    if not was_alive:
        yield ctx.finding(
            f"the tool had already exited (status {early_status}) before the shutdown check",
            details=ctx.output_tail(START_TAIL_CHARS) or None,
            fix="Keep the process serving after errors: catch exceptions in handlers instead of exiting",
        )
        return
    if not result.graceful:
        yield ctx.finding(
            f"still running {STOP_GRACE_SECONDS:g} s after SIGTERM; it had to be killed (SIGKILL)",
            details=ctx.output_tail(1000) or None,
        )
        return
    code = result.returncode
    note = "" if code in SIGTERM_STATUSES else " (a non-zero status after SIGTERM; the host does not mind)"
    yield ctx.finding(f"exited {result.seconds:.2f} s after SIGTERM with status {code}{note}", severity="info")


# --- 17 ------------------------------------------------------------------------------------------------------------


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def _listening(pid: int) -> list[tuple[int, str, int]]:
    """``(pid, address, port)`` of every TCP socket listening in the process tree rooted at ``pid``."""
    root = psutil.Process(pid)
    found: list[tuple[int, str, int]] = []
    for proc in [root, *root.children(recursive=True)]:
        # psutil < 6 names it `connections` (pyproject allows psutil 5.9).
        lister = proc.net_connections if hasattr(proc, "net_connections") else proc.connections
        try:
            connections = lister(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        for conn in connections:
            if conn.status == psutil.CONN_LISTEN and conn.laddr:
                found.append((proc.pid, str(conn.laddr.ip), int(conn.laddr.port)))
    return found


@check(
    17,
    "loopback-only",
    severity="error",
    kind="runtime",
    summary="the tool listens on 127.0.0.1 (or ::1) only",
    fix="Bind 127.0.0.1 only: serve(app) does, or pass host='127.0.0.1' to uvicorn.run",
    requires=SPAWNED,
)
def loopback_only(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: every TCP socket listening in the tool's process tree (the process and its children) must
    be bound to a loopback address: 127.0.0.1 or ::1. A socket on 0.0.0.0, ::, or a LAN address
    fails the check, naming the address and port.

    Why it matters: tools have no authentication: the host is their only gate, and it checks tokens, Host and
    Origin headers. A tool listening on 0.0.0.0 can be run by anyone on the network, around the
    host's security, including reading the secrets it was given.

    How to fix: serve with `serve(app)` from the SDK, which binds 127.0.0.1. By hand:
    `uvicorn.run(app, host="127.0.0.1", port=args.port)`; never `host="0.0.0.0"`. Check that
    helper servers the tool starts (a debug server, a metrics exporter) bind loopback too.
    """
    process = ctx.process
    if process is None or process.pid is None or ctx.stopped:
        raise ctx.skip("the tool is not running")
    try:
        sockets = _listening(process.pid)
    except psutil.NoSuchProcess:
        raise ctx.skip("the tool process has exited") from None
    except psutil.AccessDenied:
        raise ctx.skip("the process's sockets cannot be read (access denied)") from None
    if not sockets:
        yield ctx.finding("no listening socket found in the tool's process tree", severity="info")
        return
    exposed = [(pid, addr, port) for pid, addr, port in sockets if not _is_loopback(addr)]
    for pid, addr, port in exposed:
        shown = f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"
        who = "" if pid == process.pid else f" (child process {pid})"
        yield ctx.finding(f"listens on {shown}{who}: reachable from other machines")
    if not exposed:
        shown = ", ".join(sorted({f"{a}:{p}" for _, a, p in sockets}))
        yield ctx.finding(f"listens on {shown} only", severity="info")


# --- 19 ------------------------------------------------------------------------------------------------------------


class ImportCost(NamedTuple):
    """One top-level import of the entrypoint and what it cost, imports of imports included."""

    module: str
    cumulative_us: int


def parse_importtime(stderr: str) -> list[ImportCost]:
    """Top-level imports from `python -X importtime` output, after the probe's own start-up, slowest first."""
    costs: list[ImportCost] = []
    started = False
    for line in stderr.splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if not match or len(match.group(3)) != 1:
            continue  # not an import line, or a nested import (indented under its importer)
        module = match.group(4)
        if module == "runpy":
            started, costs = True, []  # everything before is interpreter start-up
            continue
        if started and module not in _PROBE_MODULES:
            costs.append(ImportCost(module, int(match.group(2))))
    return sorted(costs, key=lambda c: c.cumulative_us, reverse=True)


def _importtime(process: ToolProcess, entrypoint: str, timeout: float) -> tuple[list[ImportCost], float, str]:
    """Re-import the entrypoint under `-X importtime` (not as __main__): the costs, the wall time, and a note."""
    probe = (
        f"import runpy, sys; sys.argv = [{entrypoint!r}, '--help']; runpy.run_path({entrypoint!r}, run_name='not_main')"
    )
    argv = [process.spec.argv[0], "-X", "importtime", "-c", probe]
    started = time.perf_counter()
    child = subprocess.Popen(
        argv,
        cwd=process.spec.cwd,
        env={**process.spec.env, ENV_VALIDATE: "true"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    note = ""
    try:
        _, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if sys.platform != "win32":
            os.killpg(child.pid, signal.SIGKILL)
        else:  # pragma: no cover
            child.kill()
        _, err = child.communicate()
        note = f" (stopped after {timeout:.0f} s: the entrypoint may serve at import time)"
    seconds = time.perf_counter() - started
    return parse_importtime(err.decode("utf-8", errors="replace")), seconds, note


@check(
    19,
    "cold-start",
    severity="warning",
    kind="runtime",
    summary="time to ready is within the cold-start budget (10 s by default), naming the slowest imports",
    fix="Import heavy libraries inside the handler (or lazily), and move slow set-up out of import time",
    requires=SPAWNED,
)
def cold_start(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: the time from spawn to the first `/healthz` 200 (measured by check 6) against the cold-start
    budget: 10 s unless `cold_start_budget` in the tool's `[tool.pixie.validate]` says
    otherwise. Over budget, the validator re-imports the entrypoint under
    `python -X importtime` (as a module, so it does not serve) and names the five slowest
    top-level imports, plus the time spent in the entrypoint's own top-level code.

    Why it matters: a tool is started on its first run after being idle for `warm_keep_seconds`: the user waits
    for the whole cold start, every time. Most of it is usually one or two heavy imports.

    How to fix: import heavy libraries (scipy, torch, pandas) inside the handler or the function that needs
    them; build models and read large files on first use rather than at import; keep the tool
    warm with `pinned_warm: true` when the start cannot be made faster.

    Example:

        def run(inputs):
            import scipy.optimize   # paid on the first run, not on every start
            ...
    """
    if ctx.ready_ms is None or ctx.process is None:
        raise ctx.skip("no time to ready was measured")
    manifest = ctx.require_manifest()
    budget = ctx.options.cold_start_budget
    seconds = ctx.ready_ms / 1000
    if seconds <= budget:
        yield ctx.finding(f"ready in {seconds:.2f} s (budget {budget:g} s)", severity="info")
        return
    timeout = min(IMPORTTIME_MAX_SECONDS, max(IMPORTTIME_MIN_SECONDS, IMPORTTIME_START_FACTOR * seconds))
    costs, wall, note = _importtime(ctx.process, manifest.entrypoint, timeout)
    lines = [f"{c.cumulative_us / 1e6:8.2f} s  import {c.module}" for c in costs[:SLOWEST_IMPORTS]]
    imported = sum(c.cumulative_us for c in costs) / 1e6
    lines.append(f"{max(wall - imported, 0.0):8.2f} s  everything else (interpreter start, the entrypoint's own code)")
    slowest = f"; slowest import: {costs[0].module} ({costs[0].cumulative_us / 1e6:.2f} s)" if costs else ""
    yield ctx.finding(
        f"ready in {seconds:.2f} s, over the {budget:g} s cold-start budget{slowest}",
        details=f"re-import under -X importtime took {wall:.2f} s{note}:\n" + "\n".join(lines),
    )
