"""Serving a host: bind the port (TCP_NODELAY, EADDRINUSE as the seed's JSON), print the start-up object, run uvicorn.

The start-up object and lifecycle events are the ``--json`` surface of contract §8; without
``--json`` a person gets one readable line per event on stderr and the URL on stdout.
"""

from __future__ import annotations

import errno
import json
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable
from types import FrameType
from typing import TextIO

import uvicorn
from fastapi import FastAPI

from pixie_host.api import create_app
from pixie_host.host import Host, HostSettings
from pixie_sdk.types import JSONObject

__all__ = ["AddressInUse", "bind", "dry_run_report", "serve", "startup_object"]

#: On SIGTERM/SIGINT uvicorn lets open requests finish for this long before the tools are stopped:
#: a person pressing Ctrl-C wants the host gone, and runs still going are recorded as interrupted.
GRACEFUL_SHUTDOWN_SECONDS = 1
#: Pending connections the kernel queues before the host accepts them.
LISTEN_BACKLOG = 2048


class AddressInUse(Exception):
    def __init__(self, port: int) -> None:
        super().__init__(f"port {port} is already in use")
        self.port = port

    def body(self) -> JSONObject:
        return {"status": "error", "code": "EADDRINUSE", "port": self.port, "message": str(self)}


class _HostServer(uvicorn.Server):
    """uvicorn, except that a clean stop on SIGTERM/SIGINT exits 0 instead of re-raising the signal."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket with TCP_NODELAY (accepted sockets inherit it: ~40 ms per keep-alive request otherwise).

    Raises:
        AddressInUse: the port is taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AddressInUse(port) from None
        raise
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(True)
    return sock


def _url(settings: HostSettings, port: int) -> str:
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{shown}:{port}{settings.clean_prefix}"


def startup_object(host: Host, port: int) -> JSONObject:
    url = _url(host.settings, port)
    return {
        "status": "starting",
        "host": host.settings.host,
        "port": port,
        "url": url,
        "docs_url": f"{url}/docs",
        "tools": host.catalog.ids,
        "data_dir": str(host.settings.data_dir),
        "problems": [e.error for e in host.catalog if e.error] + host.catalog.problems,
    }


def dry_run_report(host: Host) -> JSONObject:
    """What would start, having really loaded every manifest and resolved every interpreter (nothing spawned)."""
    from pixie_validate.launcher import launch_spec

    tools: list[JSONObject] = []
    for entry in host.catalog:
        item: JSONObject = {"id": entry.id, "folder": str(entry.folder), "ok": entry.manifest is not None}
        if entry.manifest is None:
            item["error"] = entry.error
        else:
            spec = launch_spec(entry.folder, entry.manifest, python=host.settings.python, port=0)
            item["argv"] = spec.argv[:-1] + ["<port>"]
            item["interpreter"] = spec.interpreter.model_dump()
            missing = list(entry.secrets().missing)
            item["secrets_missing"] = missing
            item["ok"] = not missing
            m = entry.manifest
            item["limits"] = {
                "max_runtime_seconds": m.max_runtime_seconds,
                "max_memory_mb": m.max_memory_mb,
                "concurrent": m.concurrent,
                "warm_keep_seconds": m.warm_keep_seconds,
                "pinned_warm": m.pinned_warm,
                "retain_runs": m.retain_runs,
            }
        tools.append(item)
    url = _url(host.settings, host.settings.port)
    return {
        "status": "dry-run",
        "host": host.settings.host,
        "port": host.settings.port,
        "url": url,
        "docs_url": f"{url}/docs",
        "data_dir": str(host.settings.data_dir),
        "tools": tools,
        "problems": host.catalog.problems,
        "ok": all(t["ok"] for t in tools) and not host.catalog.problems,
    }


def _human_event(out: TextIO) -> Callable[[JSONObject], None]:
    def write(event: JSONObject) -> None:
        extra = {k: v for k, v in event.items() if k not in ("event", "tool", "ts", "stderr_tail", "argv")}
        detail = " ".join(f"{k}={v}" for k, v in extra.items() if v is not None)
        out.write(f"[{event['tool']}] {event['event']} {detail}\n".rstrip() + "\n")
        out.flush()

    return write


def _json_event(out: TextIO) -> Callable[[JSONObject], None]:
    lock = threading.Lock()

    def write(event: JSONObject) -> None:
        with lock:
            out.write(json.dumps(event, default=str) + "\n")
            out.flush()

    return write


def serve(
    host: Host,
    *,
    as_json: bool,
    open_browser: bool,
    configure: Callable[[FastAPI], None] | None = None,
    extra: JSONObject | None = None,
    log_level: str = "warning",
) -> None:
    """Bind, announce and serve until SIGTERM/SIGINT; the tools are stopped before this returns.

    Raises:
        AddressInUse: the port is taken (nothing was started).
    """
    settings = host.settings
    sock = bind(settings.host, settings.port)
    port = int(sock.getsockname()[1])
    start = {**startup_object(host, port), **(extra or {})}
    if host.settings.token is not None and not host.settings.token_given:
        # Printed once, here: nothing else ever shows it.
        sys.stderr.write(f"access token (send as `Authorization: Bearer <token>`): {host.settings.token}\n")
        sys.stderr.flush()
    if as_json:
        sys.stdout.write(json.dumps(start) + "\n")
        sys.stdout.flush()
        host.events.subscribe(_json_event(sys.stdout))
    else:
        sys.stdout.write(f"Pixie host: {start['url']}  ({len(host.catalog)} tools; API docs at {start['docs_url']})\n")
        sys.stdout.flush()
        for problem in start["problems"]:
            sys.stderr.write(f"warning: {problem}\n")
        host.events.subscribe(_human_event(sys.stderr))
    app = create_app(host)
    if configure is not None:
        configure(app)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        lifespan="on",
    )
    server = _HostServer(config)
    if open_browser:
        threading.Timer(0.5, lambda: webbrowser.open(str(start["url"]))).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
