"""The orphan watchdog: a tiny process that kills every tool's process group when the host dies.

SDK tools watch ``PIXIE_PARENT_PID`` themselves; a tool written by hand for the public project
does not, so the host starts this alongside its tools. The host keeps a pipe to its stdin and
writes ``+<pgid>`` when it spawns a tool and ``-<pgid>`` when it stopped one. When the host
goes, even by SIGKILL, the kernel closes the pipe: end of file, and the watchdog sends the
groups still registered SIGTERM, then SIGKILL, and exits.

Run as a script (``python -I -S watchdog.py``), the child imports nothing but the standard
library, so it starts in a few milliseconds and holds a few megabytes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

__all__ = ["WATCHDOG_KILL_GRACE_SECONDS", "Watchdog"]

#: Between SIGTERM and SIGKILL for orphaned groups: well inside the 2 s an orphan may outlive the host.
WATCHDOG_KILL_GRACE_SECONDS = 0.5


class Watchdog:
    """The host's side: start the watchdog lazily, tell it which process groups to kill if the host dies."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _send(self, line: str) -> None:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = subprocess.Popen(
                    [sys.executable, "-I", "-S", __file__],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    # Its own session: a Ctrl-C to the host's terminal must not take the watchdog first.
                    start_new_session=True,
                    close_fds=True,
                )
            assert self._proc.stdin is not None
            with contextlib.suppress(BrokenPipeError, OSError):
                self._proc.stdin.write(line.encode() + b"\n")
                self._proc.stdin.flush()

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}")

    def forget(self, pgid: int) -> None:
        if self._proc is not None:
            self._send(f"-{pgid}")

    def close(self) -> None:
        """The host is stopping cleanly (its tools already stopped): let the watchdog go."""
        with self._lock:
            if self._proc is None:
                return
            if self._proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(WATCHDOG_KILL_GRACE_SECONDS + 1)
            self._proc = None


def _kill_groups(groups: set[int], sig: int) -> None:
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)


def _child_main() -> None:
    groups: set[int] = set()
    for raw in sys.stdin.buffer:
        line = raw.strip().decode("ascii", errors="ignore")
        if len(line) > 1 and line[1:].isdigit():
            (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
    _kill_groups(groups, signal.SIGTERM)
    time.sleep(WATCHDOG_KILL_GRACE_SECONDS if groups else 0)
    _kill_groups(groups, signal.SIGKILL)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _child_main()
