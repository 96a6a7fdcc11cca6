"""What a validation produces: findings, per-check results, the report, and the exit codes.

These are pydantic models because they cross boundaries: the ``--json`` report, the
host's UI, the pytest plugin. The engine builds them; reporters only read them.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["REPORT_SCHEMA_VERSION", "CheckResult", "ExitCode", "Finding", "Report", "Severity", "Status", "worst"]

#: Version of the ``--json`` report format; bumped on any incompatible change.
REPORT_SCHEMA_VERSION = "1"

Severity = Literal["error", "warning", "info"]
Status = Literal["pass", "warn", "fail", "skip"]


class ExitCode(enum.IntEnum):
    """Exit codes shared by every Pixie command."""

    #: Every check passed, or only warnings (without ``--strict``).
    OK = 0
    #: A check failed (or a warning under ``--strict``); for ``pixie run``, a run failed.
    CHECKS_FAILED = 1
    #: Bad command line: unknown option, unknown check, missing argument.
    USAGE = 2
    #: The tool could not be found or started.
    TOOL_ERROR = 3
    #: The address the command should listen on is in use.
    ADDRESS_IN_USE = 4


class Finding(BaseModel):
    """One problem (or note) a check found."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    """``error`` fails the check, ``warning`` makes it warn, ``info`` is a note."""
    message: str
    """What is wrong, in plain words, naming the key or the request."""
    details: str | None = None
    """Longer evidence: a diff, a stderr tail, a table of mismatches."""
    fix: str | None = None
    """How to fix this one, when more specific than the check's own fix hint."""
    request: str | None = None
    """A curl command that reproduces the failing request, for runtime checks."""


class CheckResult(BaseModel):
    """The outcome of one numbered check."""

    number: int
    name: str
    status: Status
    severity: Severity
    """The check's own severity (the worst it can report)."""
    message: str
    details: str | None = None
    fix: str
    findings: list[Finding] = []
    duration_ms: float = 0.0


class Report(BaseModel):
    """The whole validation of one tool (the ``--json`` output)."""

    schema_version: str = REPORT_SCHEMA_VERSION
    tool_id: str
    tool_path: str
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    overall: Literal["pass", "warn", "fail"] = "pass"
    counts: dict[str, int] = {}
    checks: list[CheckResult] = []
    sample_inputs: dict[str, Any] | None = None
    sample_output: Any = None
    spawn_log: str | None = None
    time_to_ready_ms: float | None = None
    duration_ms: float = 0.0

    def finalise(self, *, strict: bool = False) -> Report:
        """Fill ``overall`` and ``counts`` from the checks (warnings fail under ``strict``)."""
        counts = dict.fromkeys(("pass", "warn", "fail", "skip"), 0)
        for c in self.checks:
            counts[c.status] += 1
        self.counts = counts
        if counts["fail"] or (strict and counts["warn"]):
            self.overall = "fail"
        elif counts["warn"]:
            self.overall = "warn"
        else:
            self.overall = "pass"
        return self

    def check(self, number: int) -> CheckResult | None:
        """The result of check ``number``, if it ran."""
        return next((c for c in self.checks if c.number == number), None)


_RANK = {"info": 0, "warning": 1, "error": 2}


def worst(findings: list[Finding]) -> Severity | None:
    """The most severe finding's severity, or None for no findings."""
    if not findings:
        return None
    return max((f.severity for f in findings), key=_RANK.__getitem__)
