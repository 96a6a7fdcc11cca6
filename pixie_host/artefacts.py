"""Each run's fresh 0700 artefacts folder, ready before the run asks for it.

On this kind of machine (ext4 on a virtual disk) a ``mkdir`` costs 0.1-0.3 ms and a ``rmdir``
about 0.07 ms: together as much as all the rest of the host's work for a run. So a few
folders per tool are kept ready, each already named after the run id it will carry, and
taking one costs no system call. They come from two places: the store hands over the empty
folders of runs it prunes (``recycle``: one rename, where removing and making would be two
dearer calls), and the run path makes one (``top_up``) right after sending a request, while
the event loop would otherwise wait for the tool, when none is left. Ready folders never used
are removed at ``close()``; ``sweep()`` at start-up removes any a killed host left behind,
with the folders of runs never recorded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from pixie_sdk.runbody import new_run_id

__all__ = ["READY_AHEAD", "SWEEP_MIN_AGE_SECONDS", "TOP_UP_BELOW", "ArtefactFolders"]

#: Pruned folders kept ready per tool: a burst of this many runs starts without a mkdir before its request.
READY_AHEAD = 8
#: A folder no recorded run owns is swept only when older than this: another host on the same data dir may
#: have just made it for a run whose record is still on its way to the database.
SWEEP_MIN_AGE_SECONDS = 60.0
#: The run path makes a folder only when fewer than this are ready: pruning refills the rest more cheaply.
TOP_UP_BELOW = 1


class ArtefactFolders:
    """Run ids with their fresh folders under ``root/<tool id>/``.

    ``take`` and ``top_up`` belong to the event loop's thread, ``recycle`` to the store's worker:
    they share only deques, whose appends and pops are atomic.
    """

    def __init__(self, root: Path, *, ahead: int = READY_AHEAD) -> None:
        self.root = root
        self._root = str(root)  # plain strings on the run path: building Paths costs more than the rest of take()
        self._ahead = ahead
        self._ready: dict[str, deque[tuple[str, str]]] = {}

    def take(self, tool_id: str) -> tuple[str, str]:
        """A new run id and its empty 0700 folder (made now if none is ready)."""
        ready = self._ready.setdefault(tool_id, deque())
        while ready:
            run_id, folder = ready.popleft()
            # Another host on the same data dir may have swept it as unowned: a stat (~2 us) makes sure.
            if os.path.isdir(folder):
                return run_id, folder
        run_id = new_run_id()
        return run_id, self._make(tool_id, run_id)

    def top_up(self, tool_id: str) -> None:
        """Make a ready folder for the tool's next run, unless one is ready already."""
        ready = self._ready.setdefault(tool_id, deque())
        if len(ready) < TOP_UP_BELOW:
            run_id = new_run_id()
            ready.append((run_id, self._make(tool_id, run_id)))

    def recycle(self, folder: str) -> bool:
        """Take a pruned run's folder as a ready one, renamed after a new run id; False to leave it be.

        Only an empty folder of a tool that wants one is kept; one holding files is removed here
        (True all the same: it is gone either way).
        """
        parent, _name = os.path.split(folder)
        root, tool_id = os.path.split(parent)
        ready = self._ready.get(tool_id)
        if ready is None or len(ready) >= self._ahead or root != self._root:
            return False
        run_id = new_run_id()
        target = os.path.join(parent, run_id)
        try:
            os.rename(folder, target)
        except OSError:
            return False
        with os.scandir(target) as entries:
            empty = next(entries, None) is None
        if empty:
            ready.append((run_id, target))
        else:
            shutil.rmtree(target, ignore_errors=True)
        return True

    def sweep(self, owned: Iterable[str], *, min_age_seconds: float = SWEEP_MIN_AGE_SECONDS) -> int:
        """Remove every folder under ``root/<tool>/`` that no recorded run owns (``owned``: their paths).

        Call once at start-up, before any run: such folders belong to runs a killed host never
        recorded, or were made ready and never used. Only folders untouched for ``min_age_seconds``
        go, so a second host on the same data dir leaves the first one's newest runs alone.
        Returns how many were removed.
        """
        keep = {os.path.normpath(p) for p in owned}
        cutoff = time.time() - min_age_seconds
        removed = 0
        if not self.root.is_dir():
            return 0
        for tool in self.root.iterdir():
            if tool.is_symlink() or not tool.is_dir():
                continue
            for folder in tool.iterdir():
                if os.path.normpath(folder) in keep or folder.is_symlink() or not folder.is_dir():
                    continue
                with contextlib.suppress(OSError):
                    if folder.stat().st_mtime > cutoff:
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

    def _make(self, tool_id: str, run_id: str) -> str:
        folder = os.path.join(self._root, tool_id, run_id)
        try:
            os.mkdir(folder, 0o700)
        except FileNotFoundError:  # the tool's first run, or its folder was removed under a running host
            os.makedirs(folder, mode=0o700)
        return folder
