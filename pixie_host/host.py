"""The host: a catalog of tools, their supervisor, the run store and the one run path, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pixie_host.artefacts import ArtefactFolders
from pixie_host.catalog import Catalog
from pixie_host.lifecycle import EventBus
from pixie_host.runs import RunService
from pixie_host.store import RunStore, database_path, default_data_dir
from pixie_host.supervisor import DEFAULT_QUEUE_LIMIT, DEFAULT_WARM_CAP, Supervisor

__all__ = ["DEFAULT_PORT", "SHUTDOWN_RUNS_WAIT_SECONDS", "Host", "HostSettings", "is_loopback"]

_log = logging.getLogger("pixie.host")

#: The seed's port.
DEFAULT_PORT = 7860
#: Host-wide cap on a request body; a tool's own file inputs' max_size_mb can lower it per route.
DEFAULT_MAX_BODY_MB = 100.0
#: A background job's handle answers this long after the job ended; then it is history only.
DEFAULT_JOB_TTL_SECONDS = 24 * 3600
#: The validator's checks that read files only (check 20 needs check 6, which spawns the tool).
STATIC_CHECKS = (1, 2, 3, 4, 5)
#: Static checks of many tools take seconds; past this the validator is stuck.
STATIC_VALIDATION_TIMEOUT_SECONDS = 120.0
#: At shutdown, after the tools are stopped, how long runs get to write their final record.
SHUTDOWN_RUNS_WAIT_SECONDS = 3.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HostSettings(BaseModel):
    """How a host is configured (the CLI's flags)."""

    model_config = ConfigDict(frozen=True)

    paths: list[Path]
    host: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    prefix: str = ""
    data_dir: Path = Field(default_factory=default_data_dir)
    python: str | None = None
    sync: bool = False
    warm_cap: int = Field(default=DEFAULT_WARM_CAP, ge=1)
    queue_limit: int = Field(default=DEFAULT_QUEUE_LIMIT, ge=1)
    token: str | None = None
    """Required as a bearer token on every request but /healthz (always set beyond loopback)."""
    token_given: bool = True
    """False when the host generated the token (it is printed once at start-up)."""
    allowed_hosts: list[str] = []
    """Host-header names accepted besides loopback and the bound address."""
    max_body_mb: float = Field(default=DEFAULT_MAX_BODY_MB, gt=0)
    job_ttl_seconds: int = Field(default=DEFAULT_JOB_TTL_SECONDS, ge=1)

    @property
    def clean_prefix(self) -> str:
        p = self.prefix.strip().strip("/")
        return f"/{p}" if p else ""


class Host:
    """Everything a running host holds; ``start()`` inside the event loop, ``stop()`` before it ends."""

    def __init__(self, settings: HostSettings, catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.catalog = catalog if catalog is not None else Catalog.load(settings.paths)
        self.events = EventBus()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = RunStore(database_path(settings.data_dir))
        self.supervisor = Supervisor(
            self.catalog,
            data_dir=settings.data_dir,
            events=self.events,
            python=settings.python,
            sync=settings.sync,
            warm_cap=settings.warm_cap,
            queue_limit=settings.queue_limit,
        )
        self.folders = ArtefactFolders(self.supervisor.artefacts_root)
        self.store.recycle_folder = self.folders.recycle
        self.runs = RunService(self.catalog, self.supervisor, self.store, self.events, self.folders)
        self.interrupted_at_start = 0
        self._validation: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Runs a previous host left running died with it: say so before anything new is recorded.
        self.interrupted_at_start = await asyncio.to_thread(self.store.mark_interrupted)
        # Before any run takes a folder: what no recorded run owns is left over from a killed host.
        await asyncio.to_thread(lambda: self.folders.sweep(self.store.artefact_dirs()))
        await self.supervisor.start()
        self._validation = asyncio.create_task(self._validate_static(), name="pixie-validate")

    async def _validate_static(self) -> None:
        """The validator's static checks for every tool, recorded as each tool's last validation.

        In a child process: the validator's imports would stay in the host's memory for good, and
        nothing here may spawn a tool (checks 1-5 read files only; check 20 needs a running tool).
        """
        folders = {str(e.folder): e for e in self.catalog}
        if not folders:
            return
        select = [arg for n in STATIC_CHECKS for arg in ("--select", str(n))]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pixie_validate", *folders, *select, "--json",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), STATIC_VALIDATION_TIMEOUT_SECONDS)
        except (TimeoutError, asyncio.CancelledError):
            proc.kill()
            await proc.wait()
            raise
        try:
            document = json.loads(out)
            reports = document.get("reports", [document])  # one tool: the report itself
        except ValueError:
            _log.warning("static validation gave no report (status %s)", proc.returncode)
            return
        for report in reports:
            entry = folders.get(str(report.get("tool_path")))
            if entry is None:
                continue
            checks = report.get("checks", [])
            failed = [f"{c['number']:02d}-{c['name']}" for c in checks if c.get("status") == "fail"]
            warned = [f"{c['number']:02d}-{c['name']}" for c in checks if c.get("status") == "warn"]
            summary = {"overall": report.get("overall"), "counts": report.get("counts", {}), "failed": failed,
                       "warned": warned, "scope": "static"}  # fmt: skip
            await self.store.arecord_validation(entry.id, report.get("overall") != "fail", summary)

    async def stop(self) -> None:
        await self.supervisor.shutdown()
        if self._validation is not None:
            self._validation.cancel()
            with contextlib.suppress(BaseException):
                await self._validation
        pending = self.runs.pending_tasks()
        if pending:
            for task in pending:
                if not task.done():
                    task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait(pending, timeout=SHUTDOWN_RUNS_WAIT_SECONDS)
        await asyncio.to_thread(self.store.close)
        self.folders.close()  # after the store's last prunes, which may hand it folders
