"""``RunContext``: what a handler gets besides its inputs (run id, artefacts folder, cancel flag, streaming)."""

from __future__ import annotations

import asyncio
import inspect
import mimetypes
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from pixie_sdk._jsonenc import dumps
from pixie_sdk.errors import PixieError
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.types import JSON, JSONObject

__all__ = ["RunCancelled", "RunContext"]


class RunCancelled(PixieError):
    """Raised by ``RunContext.check_cancelled()`` (and ``sleep``) once the run has been cancelled."""


class RunContext:
    """The run a handler is serving.

    ``emit`` and ``progress`` may be called from a sync handler's worker thread or from an
    async handler; both are safe.
    """

    def __init__(
        self,
        *,
        run_id: str,
        manifest: ToolManifest,
        artefacts_dir: str | None,
        publish: Callable[[str, JSON], None],
    ) -> None:
        self.run_id = run_id
        """This run's id (the host's, or a fresh one when the tool is called by hand)."""
        self.manifest = manifest
        """The tool's manifest."""
        self._artefacts_dir = Path(artefacts_dir) if artefacts_dir else None
        # Weak when it is a bound method (the run's own publish): a run and its context must not form
        # a reference cycle, or every finished run waits for the cyclic garbage collector.
        self._publish_ref: Callable[[], Callable[[str, JSON], None] | None] = (
            weakref.WeakMethod(publish) if inspect.ismethod(publish) else (lambda: publish)
        )
        self._cancelled = threading.Event()
        self._progress_key = next((o.key for o in manifest.outputs if o.type == "progress"), None)
        self._types = {o.key: o.type for o in manifest.outputs}
        self.started = time.monotonic()

    @property
    def artefacts_dir(self) -> Path:
        """A folder for this run's files (the host's per-run folder, else a fresh private temp folder)."""
        if self._artefacts_dir is None:
            # Made on first use only: most runs write no files, and a mkdtemp per run is measurable.
            self._artefacts_dir = Path(tempfile.mkdtemp(prefix=f"pixie-{self.manifest.id}-{self.run_id[:8]}-"))
        self._artefacts_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self._artefacts_dir

    @property
    def cancelled(self) -> bool:
        """True once ``/cancel`` was called for this run; a long handler should check it and stop."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Mark the run cancelled (the SDK calls this on ``/cancel``)."""
        self._cancelled.set()

    def check_cancelled(self) -> None:
        """Raise ``RunCancelled`` if the run was cancelled."""
        if self._cancelled.is_set():
            raise RunCancelled(f"run {self.run_id} was cancelled")

    def sleep_sync(self, seconds: float) -> None:
        """Sleep in a sync handler, waking at once (with ``RunCancelled``) when the run is cancelled."""
        if self._cancelled.wait(seconds):
            self.check_cancelled()

    async def sleep(self, seconds: float) -> None:
        """Sleep in an async handler; raises ``RunCancelled`` when the run is cancelled meanwhile."""
        deadline = time.monotonic() + seconds
        while not self._cancelled.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.05))
        self.check_cancelled()

    def _send(self, output_key: str, value: JSON) -> None:
        publish = self._publish_ref()
        if publish is not None:
            publish(output_key, value)

    def emit(self, output_key: str, value: JSON) -> None:
        """Stream a value for an output: text is appended to ``stream_text``, lines to ``log``,
        points to series charts; any other type is replaced (contract §4.5)."""
        if output_key not in self._types:
            declared = ", ".join(self._types)
            raise ValueError(f"emit(): `{output_key}` is not a declared output (declared: {declared})")
        try:
            dumps(value)  # fail in the handler, where the bug is, not later in the stream
        except (TypeError, ValueError) as exc:
            raise ValueError(f"emit(): the value for `{output_key}` cannot be sent as JSON: {exc}") from None
        self._send(output_key, value)

    def progress(self, fraction: float | None, label: str | None = None) -> None:
        """Report progress in [0, 1] (None = indeterminate) to the tool's ``progress`` output, if it has one."""
        if self._progress_key is not None:
            value: JSONObject = {"value": fraction}
            if label is not None:
                value["label"] = label
            self._send(self._progress_key, value)

    def artefact(self, name: str, data: bytes | str | Path, mime_type: str | None = None) -> JSONObject:
        """Write a file into the run's artefacts folder and return its artefact reference for an output value."""
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"artefact name `{name}` must be a relative path inside the artefacts folder")
        target = self.artefacts_dir / rel
        for parent in reversed(target.relative_to(self.artefacts_dir).parents[:-1]):
            (self.artefacts_dir / parent).mkdir(mode=0o700, exist_ok=True)  # private, like the run folder
        if isinstance(data, Path):
            target.write_bytes(data.read_bytes())
        elif isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            target.write_bytes(data)
        mime = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return {"artefact": str(rel), "mime_type": mime}
