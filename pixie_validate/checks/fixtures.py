"""Check 12, reference fixtures: each ``reference/fixture_*.json`` run against the tool and compared within tolerance.

The models, the comparators and the update logic live in ``pixie_validate.reference``; this module
only runs them and turns the results into findings. With ``--update-fixtures`` it refreshes the
fixtures instead of judging them, and ``--new-fixture NAME`` records one from the sample run first.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from pixie_sdk.manifest import ToolManifest
from pixie_validate.checks._gates import SAMPLED
from pixie_validate.context import CheckContext
from pixie_validate.findings import Finding
from pixie_validate.reference.compare import MediaRoots, pillow_available
from pixie_validate.reference.fixture import (
    FIXTURE_GLOB,
    REFERENCE_DIR,
    FixtureError,
    LoadedFixture,
    discover_fixtures,
    filter_fixtures,
    load_fixture,
    short_name,
)
from pixie_validate.reference.runner import run_inputs
from pixie_validate.reference.tolerance import TOLERANCE_FILENAME, ToleranceError, ToleranceFile, load_tolerance
from pixie_validate.reference.update import UpdateError, UpdatePlan, record_fixture, update_fixtures
from pixie_validate.reference.verdict import FixtureVerdict, compare_fixture, render_table
from pixie_validate.registry import check

__all__ = ["reference_fixtures"]

_IMAGE_TYPES = frozenset({"image", "image_grid", "image_compare"})
_TABLE_HEADERS = ("fixture", "output", "comparator", "difference")


def _where(path: Path) -> str:
    return f"{REFERENCE_DIR}/{path.name}"


def _plan_findings(ctx: CheckContext, plans: list[UpdatePlan]) -> Iterator[Finding]:
    counts: dict[str, int] = {}
    for plan in plans:
        word = {"update": "updated" if plan.written else "to update", "unchanged": "up to date"}.get(plan.status)
        counts[word or plan.status] = counts.get(word or plan.status, 0) + 1
    tally = ", ".join(f"{n} {word}" for word, n in counts.items()) or "no fixtures"
    dry = any(p.status == "update" and not p.written for p in plans)
    summary = f"--update-fixtures: {tally}" + (" (dry run: --yes writes the changes)" if dry else "")
    yield ctx.finding(summary, severity="info")
    for plan in plans:
        if plan.status == "error":
            yield ctx.finding(
                plan.describe(), request=plan.request, fix="Fix the run (or the file), then refresh again"
            )
            continue
        details = None
        if plan.status == "update":
            details = "\n".join(plan.changes) + ("\n\n" + plan.diff if plan.diff else "")
        yield ctx.finding(plan.describe(), severity="info", details=details)


def _skipped_table(skipped: list[LoadedFixture]) -> str:
    return render_table(
        ("fixture", "reason"), [(f"{f.name} ({f.path.name})", f.fixture.skip_reason or "") for f in skipped]
    )


def _failure(ctx: CheckContext, loaded: LoadedFixture, verdict: FixtureVerdict, curl: str) -> Finding:
    rows = [(loaded.name, d.output, d.comparator, d.difference) for d in verdict.differences]
    details = render_table(_TABLE_HEADERS, rows)
    if loaded.fixture.source:
        details += f"\n\nsource of the expected values: {loaded.fixture.source}"
    outputs = ", ".join(f"`{k}`" for k in verdict.failing_outputs)
    return ctx.finding(
        f"fixture `{loaded.name}` ({loaded.path.name}) differs in {outputs}",
        details=details,
        request=curl,
        fix="Fix the tool, or if the new values are right refresh the fixture (--update-fixtures --yes)",
    )


def _run_fixture(
    ctx: CheckContext, manifest: ToolManifest, loaded: LoadedFixture, tolerances: ToleranceFile
) -> tuple[list[Finding], bool]:
    """The findings of one fixture, and whether it matched."""
    client = ctx.require_client()
    timeout = float(loaded.fixture.validator_timeout_override or ctx.run_timeout)
    with tempfile.TemporaryDirectory(prefix="pixie-fixture-") as tmp:
        outcome = run_inputs(client, manifest, loaded.fixture.inputs, timeout=timeout, artefacts_dir=Path(tmp))
        if outcome.outputs is None:
            message = f"fixture `{loaded.name}` ({loaded.path.name}) did not run: {outcome.error}"
            return [
                ctx.finding(message, request=outcome.exchange.curl, fix="Make the run succeed for these inputs")
            ], False
        media = MediaRoots(expected=ctx.folder / REFERENCE_DIR, actual=Path(tmp))
        verdict = compare_fixture(loaded, outcome.outputs, manifest, tolerances, media=media)
    findings = [
        ctx.finding(f"fixture `{loaded.name}`: {w}", severity="warning", request=outcome.exchange.curl)
        for w in verdict.warnings
    ]
    if verdict.failed:
        findings.insert(0, _failure(ctx, loaded, verdict, outcome.exchange.curl))
    return findings, not verdict.failed


@check(12, "reference-fixtures", severity="error", kind="runtime", requires=SAMPLED,
       summary="each reference/fixture_*.json run gives its expected outputs, within reference/tolerance.yaml",
       fix="Fix the tool or the fixture; `--update-fixtures --yes` refreshes fixtures from real runs")  # fmt: skip
def reference_fixtures(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: every `reference/fixture_*.json` (sorted; `--fixture NAME` picks by file name, stem,
    stem without `fixture_`, or glob) is run with its `inputs`, and each output in its `expected_outputs`
    is compared with what the tool returns, within the tolerance of `reference/tolerance.yaml` (`defaults`
    per output type < `overrides` per output key < the fixture's own `tolerance`). Numbers compare like
    `math.isclose` (`rtol` 1e-6 and `atol` 1e-9 by default); strings exactly (markdown and LaTeX with
    whitespace normalised); tables by columns and rows; charts, maps and graphs by their data; images by
    size and pixels with Pillow installed, else by the SHA-256 of their bytes; progress and video are not
    compared unless asked. A streaming tool's final outputs are read from `/stream`. A fixture with a
    `skip_reason` is reported, not run; all of them skipped is a warning.

    Why it matters: a fixture pins down what the tool computes for known inputs, so a refactor, a new
    dependency or a platform change that moves a result is caught before a user sees it.

    How to fix: the failure table names the fixture, the output, how it was compared and the difference
    (with its path: `series["Balance"].y[3]`), and the curl command replays the run. Fix the tool; or, if
    the new values are right, `pixie-validate --update-fixtures` shows what would change and `--yes`
    writes it. `--new-fixture NAME` records the sample run as `reference/fixture_NAME.json`. Widen a
    tolerance in `tolerance.yaml`, or set `compare: skip` for an output that is not reproducible.

    Example: `reference/tolerance.yaml` with `overrides: {bmi: {atol: 0.0001}}` and
    `defaults: {kv: {allow_extra: true}}`; a fixture `{"name": "adult", "inputs": {"weight_kg": 70,
    "height_m": 1.75}, "expected_outputs": {"bmi": 22.857}, "tolerance": {"bmi": {"atol": 0.001}}}`.
    """
    manifest = ctx.require_manifest()
    ctx.require_client()
    findings: list[Finding] = []
    if ctx.options.new_fixture:
        try:
            path = record_fixture(ctx, ctx.options.new_fixture)
        except UpdateError as exc:
            findings.append(ctx.finding(f"could not record fixture `{ctx.options.new_fixture}`: {exc}"))
        else:
            findings.append(ctx.finding(f"recorded {_where(path)} from the sample run", severity="info"))
    reference = ctx.folder / REFERENCE_DIR
    paths = discover_fixtures(ctx.folder)
    if not paths:
        yield from findings
        if not findings:
            where = f"no {REFERENCE_DIR}/ folder" if not reference.is_dir() else f"no {REFERENCE_DIR}/{FIXTURE_GLOB}"
            raise ctx.skip(f"{where}; `--new-fixture NAME` records one from the sample run")
        return
    chosen = filter_fixtures(paths, ctx.options.fixtures)
    if not chosen:
        yield from findings
        names = ", ".join(short_name(p) for p in paths)
        raise ctx.skip(f"no fixture matches --fixture {' '.join(ctx.options.fixtures)} (fixtures: {names})")
    types = {o.key: o.type for o in manifest.outputs}
    try:
        tolerances, notes = load_tolerance(reference / TOLERANCE_FILENAME, types)
    except ToleranceError as exc:
        message = f"{_where(exc.path)} is invalid; no fixture was run ({exc.problems[0]})"
        yield from findings
        yield ctx.finding(message, details="\n".join(exc.problems), fix="Correct tolerance.yaml at the line shown")
        return
    findings += [ctx.finding(f"{REFERENCE_DIR}/{TOLERANCE_FILENAME}: {n}", severity="warning") for n in notes]
    if ctx.options.update_fixtures:
        yield from findings
        yield from _plan_findings(ctx, update_fixtures(ctx, tolerances=tolerances))
        return

    matched: list[LoadedFixture] = []
    skipped: list[LoadedFixture] = []
    failed = 0
    images_compared = False
    for path in chosen:
        try:
            loaded = load_fixture(path, manifest)
        except FixtureError as exc:
            failed += 1
            findings.append(
                ctx.finding(
                    f"{_where(path)} does not load: {exc.problems[0]}",
                    details="\n".join(exc.problems) if len(exc.problems) > 1 else None,
                    fix="Correct the fixture file (contract §6 lists its fields)",
                )
            )
            continue
        findings += [ctx.finding(f"{_where(path)}: {w}", severity="warning") for w in loaded.warnings]
        if loaded.fixture.skip_reason:
            skipped.append(loaded)
            continue
        images_compared |= any(types.get(k) in _IMAGE_TYPES for k in loaded.fixture.expected_outputs)
        found, ok = _run_fixture(ctx, manifest, loaded, tolerances)
        findings += found
        if ok:
            matched.append(loaded)
        else:
            failed += 1

    total = len(chosen)
    if skipped and not matched and not failed:
        summary = ctx.finding(
            f"all {total} fixture(s) are skipped",
            severity="warning",
            details=_skipped_table(skipped),
            fix="Remove a `skip_reason` once its fixture can pass, or add a fixture that runs",
        )
    else:
        summary = ctx.finding(
            f"{len(matched)} of {total} fixture(s) matched"
            + (f", {failed} failed" if failed else "")
            + (f", {len(skipped)} skipped" if skipped else ""),
            severity="info",
            details=_skipped_table(skipped) if skipped else None,
        )
    yield summary
    if images_compared and not pillow_available():
        yield ctx.finding(
            "images were compared by the SHA-256 of their bytes: Pillow is not installed", severity="info",
            fix="Install Pillow (`pip install pillow`) to compare images by size and pixels",
        )  # fmt: skip
    yield from findings
