"""Each run's fresh 0700 artefacts folder, made while an earlier run is at its tool.

On this kind of machine (ext4 on a virtual disk) a ``mkdir`` costs 0.1-0.3 ms, as much as all
the rest of the host's work for a run. So a few folders per tool are kept ready, each already
named after the run id it will carry: taking one costs no system call, and the run path
makes the next one (``top_up``) right after it has sent a request, while the event loop would
otherwise wait for the tool. No thread: a worker making folders would take the GIL from the
loop at every one. Ready folders never used are removed at ``close()``; ``sweep()`` at
start-up removes any a killed host left behind, with the folders of runs never recorded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from pixie_sdk.runbody import new_run_id

__all__ = ["READY_AHEAD", "ArtefactFolders"]

#: Folders kept ready per tool: a burst of this many runs starts without a mkdir before its request.
READY_AHEAD = 4


class ArtefactFolders:
    """Run ids with their fresh folders under ``root/<tool id>/``; use it from the event loop's thread."""

    def __init__(self, root: Path, *, ahead: int = READY_AHEAD) -> None:
        self.root = root
        self._ahead = ahead
        self._ready: dict[str, deque[tuple[str, Path]]] = {}

    def take(self, tool_id: str) -> tuple[str, Path]:
        """A new run id and its empty 0700 folder (made now if none is ready)."""
        ready = self._ready.get(tool_id)
        if ready:
            return ready.popleft()
        run_id = new_run_id()
        return run_id, self._make(tool_id, run_id)

    def top_up(self, tool_id: str) -> None:
        """Make one more ready folder for the tool, unless it has ``ahead`` already."""
        ready = self._ready.setdefault(tool_id, deque())
        if len(ready) < self._ahead:
            run_id = new_run_id()
            ready.append((run_id, self._make(tool_id, run_id)))

    def sweep(self, owned: Iterable[str]) -> int:
        """Remove every folder under ``root/<tool>/`` that no recorded run owns (``owned``: their paths).

        Call once at start-up, before any run: such folders belong to runs a killed host never
        recorded, or were made ready and never used. Returns how many were removed.
        """
        keep = {os.path.normpath(p) for p in owned}
        removed = 0
        if not self.root.is_dir():
            return 0
        for tool in self.root.iterdir():
            if tool.is_symlink() or not tool.is_dir():
                continue
            for folder in tool.iterdir():
                if os.path.normpath(folder) in keep or folder.is_symlink() or not folder.is_dir():
                    continue
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def close(self) -> None:
        """Remove the ready folders nobody took."""
        ready, self._ready = self._ready, {}
        for queue in ready.values():
            for _run_id, folder in queue:
                with contextlib.suppress(OSError):
                    os.rmdir(folder)

    def _make(self, tool_id: str, run_id: str) -> Path:
        folder = self.root / tool_id / run_id
        try:
            os.mkdir(folder, 0o700)
        except FileNotFoundError:  # the tool's first run, or its folder was removed under a running host
            os.makedirs(folder, mode=0o700)
        return folder
