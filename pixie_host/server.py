"""Serving a host: bind the port (TCP_NODELAY, EADDRINUSE as the seed's JSON), print the start-up object, run uvicorn.

The start-up object and lifecycle events are the ``--json`` surface of contract §8; without
``--json`` a person gets one readable line per event on stderr and the URL on stdout.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import errno
import gc
import json
import os
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
from pixie_sdk.serve import listen_socket
from pixie_sdk.types import JSONObject

__all__ = ["AddressInUse", "bind", "dry_run_report", "serve", "startup_object"]

#: On SIGTERM/SIGINT uvicorn lets open requests finish for this long before the tools are stopped:
#: a person pressing Ctrl-C wants the host gone, and runs still going are recorded as interrupted.
GRACEFUL_SHUTDOWN_SECONDS = 1
#: The browser is opened this long after the socket is bound, once uvicorn accepts connections.
BROWSER_DELAY_SECONDS = 0.5
#: Lifecycle events reach stdout/stderr within this; a burst of runs shares one write.
EVENT_FLUSH_INTERVAL_SECONDS = 0.05


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


def _has_display() -> bool:
    """Whether a browser can open a window: without a display, Python's webbrowser falls back to
    a text browser that would take over the terminal the host prints to."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _release_startup_garbage() -> None:
    """Hand the heap that imports used and freed back to the system (glibc keeps it otherwise).

    Imports build and drop many temporary objects (pydantic schemas, SQLAlchemy constructs); an idle
    host would carry that garbage for its whole life.
    """
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim


def bind(host: str, port: int) -> socket.socket:
    """The host's listening socket (TCP_NODELAY; the SDK's ``listen_socket``).

    Raises:
        AddressInUse: the port is taken.
    """
    try:
        return listen_socket(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise AddressInUse(port) from None
        raise


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


def _human_line(event: JSONObject) -> str:
    extra = {k: v for k, v in event.items() if k not in ("event", "tool", "ts", "stderr_tail", "argv")}
    detail = " ".join(f"{k}={v}" for k, v in extra.items() if v is not None)
    return f"[{event['tool']}] {event['event']} {detail}".rstrip() + "\n"


def _json_line(event: JSONObject) -> str:
    return json.dumps(event, default=str) + "\n"


class EventWriter:
    """Lifecycle events buffered and written by the event loop a few times a second, in one write each.

    A terminal or pipe write per event would cost more than the run's whole proxy hop, and a writer
    thread would take the GIL from the loop on every wake-up.
    """

    def __init__(self, out: TextIO, render: Callable[[JSONObject], str]) -> None:
        self._out = out
        self._render = render
        self._lines: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False

    def __call__(self, event: JSONObject) -> None:
        self._lines.append(self._render(event))
        if self._scheduled:
            return
        try:
            loop = self._loop or asyncio.get_running_loop()
        except RuntimeError:
            self.flush()  # no loop (start-up, shutdown): write now
            return
        self._loop = loop
        self._scheduled = True
        loop.call_later(EVENT_FLUSH_INTERVAL_SECONDS, self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self._lines:
            lines, self._lines = self._lines, []
            self._out.write("".join(lines))
            self._out.flush()

    def close(self) -> None:
        self.flush()


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
        writer = EventWriter(sys.stdout, _json_line)
        host.events.subscribe(writer)
    else:
        sys.stdout.write(f"Pixie host: {start['url']}  ({len(host.catalog)} tools; API docs at {start['docs_url']})\n")
        sys.stdout.flush()
        for problem in start["problems"]:
            sys.stderr.write(f"warning: {problem}\n")
        writer = EventWriter(sys.stderr, _human_line)
        host.events.subscribe(writer)
    app = create_app(host)
    if configure is not None:
        configure(app)
    _release_startup_garbage()
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        lifespan="on",
        # Nothing here speaks WebSocket (the UI streams over SSE): spare the websockets import.
        ws="none",
    )
    server = _HostServer(config)
    if open_browser and _has_display():
        threading.Timer(BROWSER_DELAY_SECONDS, lambda: webbrowser.open(str(start["url"]))).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        writer.close()
