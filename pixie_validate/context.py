"""``CheckContext``: what a check can see — the tool folder, its parsed files, the running process, shared results.

Static checks read files only; runtime checks also use ``process`` and ``client``, which
check 6 fills in. Results one check produces for later ones (the sample run of check 8)
are kept here, so nothing is done twice.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pixie_sdk.manifest import ToolManifest, iter_tool_folders
from pixie_validate.client import ContractClient, Exchange
from pixie_validate.findings import Finding, Severity
from pixie_validate.launcher import DEFAULT_READY_DEADLINE_SECONDS, Interpreter, ToolProcess
from pixie_validate.registry import CheckSpec

__all__ = ["CheckContext", "SkipCheck", "ValidateOptions", "iter_tool_folders"]

#: Extra seconds a run may take beyond the tool's own max_runtime_seconds (the host kills at +5 s too).
RUN_TIMEOUT_MARGIN_SECONDS = 5
#: Default cold-start budget of check 19.
COLD_START_BUDGET_SECONDS = 10.0


class ValidateOptions(BaseModel):
    """How to validate: what the CLI flags and ``[tool.pixie.validate]`` say."""

    select: list[str] = []
    ignore: list[str] = []
    strict: bool = False
    fuzz: bool = False
    fuzz_examples: int = 50
    timeout: float | None = None
    """``--timeout``: the start-up deadline, and a floor for the runtime checks' run timeouts."""
    python: str | None = None
    cold_start_budget: float = COLD_START_BUDGET_SECONDS
    update_fixtures: bool = False
    yes: bool = False
    new_fixture: str | None = None
    fixtures: list[str] = []
    ignore_reasons: dict[str, str] = {}
    """Checks the tool's pyproject ignores, with the reason given there."""


class SkipCheck(Exception):
    """Raised inside a check to report it as skipped, with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CheckContext:
    """Shared state of one validation."""

    def __init__(self, folder: Path, options: ValidateOptions) -> None:
        self.folder = folder
        self.options = options
        self.spec: CheckSpec | None = None
        self.raw_manifest: Any = None
        self.manifest: ToolManifest | None = None
        self.pyproject: dict[str, Any] | None = None
        self.interpreter: Interpreter | None = None
        self.process: ToolProcess | None = None
        self.client: ContractClient | None = None
        self.ready_ms: float | None = None
        self.sample_inputs: dict[str, Any] | None = None
        self.sample_exchange: Exchange | None = None
        self.sample_output: Any = None
        self.stopped = False
        """Check 11 ran: the process is gone."""
        self._artefacts_root: tempfile.TemporaryDirectory[str] | None = None

    # -- derived settings -------------------------------------------------------------------

    @property
    def manifest_file(self) -> Path:
        return self.folder / "tool.json"

    @property
    def is_sdk_tool(self) -> bool:
        """Built with this kit's SDK (its entrypoint calls make_tool_app): held to the stricter rules."""
        entry = self.folder / (self.manifest.entrypoint if self.manifest else "main.py")
        try:
            return "make_tool_app" in entry.read_text(errors="replace")
        except OSError:
            return False

    @property
    def startup_deadline(self) -> float:
        """``--timeout``, else the tool's ``validator_timeout_override``, else 30 s."""
        if self.options.timeout is not None:
            return self.options.timeout
        override = self.manifest.validator_timeout_override if self.manifest else None
        return float(override) if override else DEFAULT_READY_DEADLINE_SECONDS

    @property
    def run_timeout(self) -> float:
        """Per-run timeout of the runtime checks: ``max_runtime_seconds + 5``, unless ``--timeout`` is larger."""
        base = float((self.manifest.max_runtime_seconds if self.manifest else 60) + RUN_TIMEOUT_MARGIN_SECONDS)
        if self.manifest and self.manifest.validator_timeout_override:
            base = max(base, float(self.manifest.validator_timeout_override))
        return max(base, self.options.timeout or 0.0)

    def read_pyproject(self) -> dict[str, Any] | None:
        """The tool's pyproject.toml as data (None if missing; raises ``tomllib.TOMLDecodeError`` if invalid)."""
        path = self.folder / "pyproject.toml"
        if not path.is_file():
            return None
        with path.open("rb") as f:
            return tomllib.load(f)

    # -- helpers for checks ------------------------------------------------------------------

    def finding(
        self,
        message: str,
        *,
        severity: Severity | None = None,
        details: str | None = None,
        fix: str | None = None,
        request: str | None = None,
    ) -> Finding:
        """A finding of the current check (its own severity unless told otherwise)."""
        assert self.spec is not None
        return Finding(
            severity=severity or self.spec.severity, message=message, details=details, fix=fix, request=request
        )

    def skip(self, reason: str) -> SkipCheck:
        """``raise ctx.skip("why")`` reports the current check as skipped."""
        return SkipCheck(reason)

    def require_client(self) -> ContractClient:
        """The running tool's client (runtime checks only run once check 6 made one)."""
        if self.client is None or self.stopped or (self.process is not None and not self.process.alive):
            raise SkipCheck("the tool is not running")
        return self.client

    def require_manifest(self) -> ToolManifest:
        if self.manifest is None:
            raise SkipCheck("tool.json did not parse")
        return self.manifest

    def new_artefacts_dir(self) -> Path:
        """A fresh private folder for one run's artefacts, removed when the validation ends."""
        if self._artefacts_root is None:
            self._artefacts_root = tempfile.TemporaryDirectory(prefix="pixie-validate-")
        return Path(tempfile.mkdtemp(dir=self._artefacts_root.name))

    def cleanup(self) -> None:
        """Remove what the validation created on disk."""
        if self._artefacts_root is not None:
            self._artefacts_root.cleanup()
            self._artefacts_root = None

    def output_tail(self, limit: int = 4000) -> str:
        return self.process.output.text(limit) if self.process else ""
