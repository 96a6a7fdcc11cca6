"""``serve(app)``: run a tool the way the contract says (``python main.py --port N``).

Binds 127.0.0.1 only, refuses a taken port with a readable message, stops cleanly on
SIGTERM, and exits on its own when the host that started it dies, so no tool outlives it.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

import uvicorn
from fastapi import FastAPI

from pixie_sdk.contract import ENV_PARENT_PID, LOOPBACK_HOST

__all__ = ["EXIT_ADDRESS_IN_USE", "listen_socket", "serve"]

#: Exit status for a taken port: the kit's shared exit-code table says 4 for "address in use".
EXIT_ADDRESS_IN_USE = 4
#: How often the tool looks for its parent: well inside the 2 s an orphan may outlive its host.
PARENT_POLL_SECONDS = 0.1
#: How long uvicorn may drain connections on SIGTERM; under the host's 5 s before SIGKILL.
GRACEFUL_SHUTDOWN_SECONDS = 3
#: After the parent died, how long runs get to see their cancellation before the process ends itself
#: hard: nobody is left to read a reply, so there is nothing to drain.
ORPHAN_EXIT_DEADLINE_SECONDS = 0.05


def _parse(argv: Sequence[str] | None, title: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=f"Serve the Pixie tool {title!r} on {LOOPBACK_HOST}.")
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (required)")
    parser.add_argument("--access-log", action="store_true", help="log every request (off: it costs per request)")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (default: warning)")
    return parser.parse_args(argv)


#: Pending connections the kernel queues before the server accepts them.
LISTEN_BACKLOG = 2048


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket for uvicorn's ``sockets=`` (IPv6 when ``host`` has a colon).

    TCP_NODELAY is set on it because accepted sockets inherit it: without it a pre-bound socket
    adds ~40 ms per keep-alive request. Raises ``OSError`` (EADDRINUSE for a taken port).
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(True)
    return sock


def _bind(port: int) -> socket.socket:
    try:
        return listen_socket(LOOPBACK_HOST, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            sys.stderr.write(f"error: port {port} is already in use on {LOOPBACK_HOST}; pick another with --port\n")
            raise SystemExit(EXIT_ADDRESS_IN_USE) from None
        raise


def _parent_alive(watched: int | None, original_ppid: int) -> bool:
    if os.getppid() != original_ppid:
        return False
    if watched is None:
        return True
    try:
        os.kill(watched, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_parent(server: uvicorn.Server) -> None:
    """Stop the server when the parent goes (the host was SIGKILLed, or the shell closed)."""
    original = os.getppid()
    env_pid = os.environ.get(ENV_PARENT_PID)
    watched = int(env_pid) if env_pid and env_pid.isdigit() else None
    if original == 1 and watched is None:
        return  # started detached on purpose: there is no parent to outlive

    def loop() -> None:
        while _parent_alive(watched, original):
            time.sleep(PARENT_POLL_SECONDS)
        server.handle_exit(signal.SIGTERM, None)
        time.sleep(ORPHAN_EXIT_DEADLINE_SECONDS)
        os._exit(0)

    threading.Thread(target=loop, name="pixie-parent-watch", daemon=True).start()


class _ToolServer(uvicorn.Server):
    """uvicorn, plus: on SIGTERM/SIGINT, cancel the tool's runs in flight so they answer before the drain ends."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._tool_app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        cancel_all = getattr(self._tool_app, "cancel_all", None)
        if callable(cancel_all):
            cancel_all()
        super().handle_exit(sig, frame)


def serve(app: FastAPI, argv: Sequence[str] | None = None) -> None:
    """Serve ``app`` on 127.0.0.1 at ``--port`` until SIGTERM/SIGINT or the parent process dies."""
    args = _parse(argv, app.title)
    sock = _bind(args.port)
    config = uvicorn.Config(
        app,
        host=LOOPBACK_HOST,
        port=args.port,
        log_level=args.log_level,
        access_log=args.access_log,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        lifespan="off",
    )
    server = _ToolServer(config, app)
    _watch_parent(server)
    sys.stderr.write(f"serving {app.title} at http://{LOOPBACK_HOST}:{args.port}\n")
    sys.stderr.flush()
    server.run(sockets=[sock])
