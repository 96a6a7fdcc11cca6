"""Tool folders appearing, changing and disappearing under the served paths, while the host runs.

A ``Reloader`` rescans the paths the host was started with every ``RESCAN_SECONDS``: the
folders ``pixie_host.catalog.discover`` finds and one ``stat`` of each ``tool.json``, in a
worker thread. A new folder becomes a catalog entry and a supervisor slot; a folder that is
gone, or no longer holds a ``tool.json``, is dropped and its process stopped at once; a
``tool.json`` that changed is read again and the tool replaced, once no run is using it.
Subscribers (the MCP endpoint's tool-list-changed notification) hear of every change.

Polling, not inotify: it works the same on every platform and filesystem (network mounts,
containers), and a scan of a few dozen folders is a handful of syscalls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pixie_host.catalog import ToolEntry, discover, load_entry
from pixie_host.host import Host

__all__ = ["RESCAN_SECONDS", "CatalogChange", "Reloader", "reloader_for"]

#: How often the served paths are rescanned: a person who drops a tool folder in sees it within
#: this, and an idle host spends a few hundred microseconds of a worker thread per scan.
RESCAN_SECONDS = 2.0

_log = logging.getLogger("pixie.host.reload")

#: What identifies a version of a tool.json without reading it: (mtime_ns, size, inode).
Stamp = tuple[int, int, int]
#: A subscriber: awaited after each scan that changed the catalog.
Listener = Callable[["CatalogChange"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CatalogChange:
    """Tool ids added, dropped and replaced (tool.json changed) by one scan."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reloaded: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.reloaded)


def _stamp(folder: Path) -> Stamp | None:
    try:
        st = (folder / "tool.json").stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _scan(paths: list[Path]) -> dict[Path, Stamp]:
    """Every tool folder under ``paths`` (resolved, as catalog entries hold them) and its tool.json's stamp."""
    found: dict[Path, Stamp] = {}
    for folder in discover(p for p in paths if p.exists()):
        stamp = _stamp(folder)
        if stamp is not None:
            found[folder.resolve()] = stamp
    return found


def _read(folders: list[Path]) -> list[ToolEntry]:
    return [load_entry(folder) for folder in folders]


class Reloader:
    """Keeps a host's catalog and supervisor in step with its served folders; ``start()``/``stop()`` in the loop."""

    def __init__(self, host: Host, *, interval: float = RESCAN_SECONDS) -> None:
        self.host = host
        self.interval = interval
        self._listeners: list[Listener] = []
        self._known: dict[Path, Stamp] | None = None
        self._task: asyncio.Task[None] | None = None
        self._users = 0
        self._lock = asyncio.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear of every change; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def start(self) -> None:
        """Begin rescanning (counted: the MCP endpoint and a future caller may both start it)."""
        self._users += 1
        if self._task is None:
            if self._known is None:
                self._known = await asyncio.to_thread(self._baseline)
            self._task = asyncio.create_task(self._loop(), name="pixie-reload")

    async def stop(self) -> None:
        self._users = max(0, self._users - 1)
        if self._users or self._task is None:
            return
        task, self._task = self._task, None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _baseline(self) -> dict[Path, Stamp]:
        # What the catalog was loaded from, so the first scan reports only what changed since.
        known: dict[Path, Stamp] = {}
        for entry in self.host.catalog:
            stamp = _stamp(entry.folder)
            if stamp is not None:
                known[entry.folder] = stamp
        return known

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.scan()
            except Exception:  # a bad scan must not end rescanning for the life of the host
                _log.exception("rescanning the served tool folders failed")

    async def scan(self) -> CatalogChange:
        """One rescan: apply what changed on disk to the catalog and the supervisor, tell the subscribers."""
        async with self._lock:
            change = await self._apply(await asyncio.to_thread(_scan, list(self.host.settings.paths)))
        if change:
            _log.info("tools added %s, removed %s, reloaded %s", change.added, change.removed, change.reloaded)
            for listener in list(self._listeners):
                try:
                    await listener(change)
                except Exception:
                    _log.exception("a catalog change subscriber failed")
        return change

    async def _apply(self, found: dict[Path, Stamp]) -> CatalogChange:
        if self._known is None:
            self._known = self._baseline()
        known = self._known
        catalog, supervisor = self.host.catalog, self.host.supervisor
        by_folder = {entry.folder: entry for entry in catalog}
        removed: list[str] = []
        for folder in [f for f in known if f not in found]:
            del known[folder]
            entry = by_folder.pop(folder, None)
            if entry is not None:
                # New runs are refused before the process goes, so none can start on it in between.
                catalog.remove(entry.id)
                await supervisor.remove(entry.id)
                removed.append(entry.id)
        # Changed folders whose tool is busy wait for a later scan: a run keeps the manifest it started with.
        changed = [f for f, stamp in found.items() if known.get(f) != stamp and not self._busy(by_folder.get(f))]
        # A folder refused for a taken id is tried again once something was dropped (the id may be free now).
        retry = [f for f in known if f in found and f not in by_folder and f not in changed] if removed else []
        added: list[str] = []
        reloaded: list[str] = []
        for entry in await asyncio.to_thread(_read, changed + retry):
            known[entry.folder] = found[entry.folder]
            old = by_folder.get(entry.folder)
            if old is not None:
                catalog.remove(old.id)
                await supervisor.remove(old.id)
            if catalog.add(entry):
                supervisor.add(entry)
                (reloaded if old is not None and old.id == entry.id else added).append(entry.id)
                if old is not None and old.id != entry.id:
                    removed.append(old.id)
            elif old is not None:
                removed.append(old.id)
        return CatalogChange(tuple(added), tuple(removed), tuple(reloaded))

    def _busy(self, entry: ToolEntry | None) -> bool:
        if entry is None:
            return False
        slot = self.host.supervisor.slot(entry.id)
        if slot is None:
            return False
        starting = slot.spawn is not None and not slot.spawn.done()
        return bool(slot.inflight or slot.queue or slot.active_serial or starting)


_RELOADERS: weakref.WeakKeyDictionary[Host, Reloader] = weakref.WeakKeyDictionary()


def reloader_for(host: Host) -> Reloader:
    """The one reloader of a host (made on first use), so every part that needs rescans shares one."""
    found = _RELOADERS.get(host)
    if found is None:
        found = _RELOADERS[host] = Reloader(host)
    return found
