"""The engine: runs the selected checks in order with their gates and turns findings into a ``Report``.

A check that raises becomes a failed result with the traceback in its details; the run
goes on. The engine never prints: reporters do.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from pixie_validate.context import CheckContext, SkipCheck, ValidateOptions
from pixie_validate.findings import CheckResult, Finding, Report, worst
from pixie_validate.launcher import read_dotenv
from pixie_validate.registry import CheckSpec, Registry

__all__ = ["Progress", "execution_order", "mask_secrets", "run_checks", "run_one"]

#: Called as each check starts (the CLI shows a spinner with it); never required.
Progress = Callable[[CheckSpec], None]
#: Findings listed in a result's details before the rest are counted.
MAX_LISTED_FINDINGS = 30


def execution_order(registry: Registry, selected: list[CheckSpec]) -> list[CheckSpec]:
    """The selected checks plus everything they (transitively) require, in execution order."""
    numbers = {s.number for s in selected}
    frontier = list(numbers)
    while frontier:
        for req in registry.get(frontier.pop()).requires:
            if req not in numbers:
                numbers.add(req)
                frontier.append(req)
    specs = [registry.get(n) for n in numbers]
    return sorted(specs, key=lambda s: (s.runs_last, s.number))


def _result(spec: CheckSpec, findings: list[Finding], ms: float) -> CheckResult:
    level = worst(findings)
    status = {"error": "fail", "warning": "warn"}.get(level or "", "pass")
    notable = [f for f in findings if f.severity == level] or findings
    if notable:
        message = notable[0].message
        if len(notable) > 1 and level in ("error", "warning"):
            message += f" (and {len(notable) - 1} more)"
    else:
        message = "ok"
    lines = []
    for f in findings[:MAX_LISTED_FINDINGS]:
        lines.append(f"[{f.severity}] {f.message}")
        if f.details:
            lines.extend("    " + line for line in f.details.splitlines())
        if f.request:
            lines.append(f"    reproduce: {f.request}")
    if len(findings) > MAX_LISTED_FINDINGS:
        lines.append(f"... and {len(findings) - MAX_LISTED_FINDINGS} more")
    fix = next((f.fix for f in notable if f.fix), None) or spec.fix
    return CheckResult(
        number=spec.number, name=spec.name, status=status, severity=spec.severity, message=message,
        details="\n".join(lines) or None, fix=fix, findings=findings, duration_ms=round(ms, 2))  # fmt: skip


def _skipped(spec: CheckSpec, reason: str) -> CheckResult:
    return CheckResult(number=spec.number, name=spec.name, status="skip", severity=spec.severity,
                       message=f"skipped: {reason}", fix=spec.fix)  # fmt: skip


def run_checks(
    folder: Path, registry: Registry, options: ValidateOptions, *, progress: Progress | None = None
) -> tuple[Report, CheckContext]:
    """Validate one tool folder; the context is returned too (the conformance kit reuses its process)."""
    started = time.perf_counter()
    ctx = CheckContext(folder, options)
    selected = registry.select(options.select, options.ignore, opt_in=[16] if options.fuzz else [])
    shown = {s.number for s in selected}
    results: dict[int, CheckResult] = {}
    try:
        for spec in execution_order(registry, selected):
            results[spec.number] = run_one(ctx, spec, results, progress)
    finally:
        if ctx.process is not None and not ctx.stopped:
            ctx.process.stop()
        if ctx.client is not None:
            ctx.client.close()
        ctx.cleanup()
    tool_id = ctx.manifest.id if ctx.manifest else folder.name
    report = Report(
        tool_id=tool_id,
        tool_path=str(folder.resolve()),
        checks=[results[n] for n in sorted(results) if n in shown],
        sample_inputs=ctx.sample_inputs,
        sample_output=ctx.sample_output,
        spawn_log=ctx.output_tail(16_000) if ctx.process else None,
        time_to_ready_ms=round(ctx.ready_ms, 1) if ctx.ready_ms is not None else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return mask_secrets(report.finalise(strict=options.strict), folder), ctx


#: Shorter .env values are too common to mask without hiding ordinary words.
MIN_SECRET_CHARS = 4


def mask_secrets(report: Report, folder: Path) -> Report:
    """The report with every value of the tool's .env shown as ``***`` (outputs, logs, messages alike)."""
    values = sorted((v for v in read_dotenv(folder).values() if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True)
    if not values:
        return report
    text = report.model_dump_json()
    for value in values:
        text = text.replace(json.dumps(value)[1:-1], "***")
    return Report.model_validate_json(text)


def run_one(
    ctx: CheckContext, spec: CheckSpec, done: dict[int, CheckResult], progress: Progress | None = None
) -> CheckResult:
    """Run one check after its gates (``done`` holds the results so far), never raising for the check's own bugs."""
    reason = ctx.options.ignore_reasons.get(str(spec.number)) or ctx.options.ignore_reasons.get(spec.name)
    if reason is not None:
        return _skipped(spec, f"ignored in pyproject.toml: {reason}")
    for req in spec.requires:
        prior = done.get(req)
        if prior is None or prior.status in ("fail", "skip"):
            state = "failed" if prior is not None and prior.status == "fail" else "did not run"
            name = prior.name if prior is not None else str(req)
            return _skipped(spec, f"check {req} ({name}) {state}")
    if progress is not None:
        progress(spec)
    ctx.spec = spec
    t0 = time.perf_counter()
    assert spec.fn is not None
    try:
        findings = list(spec.fn(ctx))
    except SkipCheck as skip:
        return _skipped(spec, skip.reason)
    except Exception as exc:  # a bug in a check must not stop the validation
        findings = [Finding(severity="error", message=f"the check itself crashed: {type(exc).__name__}: {exc}",
                            details=traceback.format_exc(), fix="Report this as a bug in pixie-validate")]  # fmt: skip
    return _result(spec, findings, (time.perf_counter() - t0) * 1000)
