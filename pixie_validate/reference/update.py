"""``--update-fixtures`` and ``--new-fixture NAME``: refresh fixtures from real runs, or record a new one.

``update_fixtures`` reruns each fixture's inputs and refreshes its ``expected_outputs`` with what
the tool returns now (declared outputs only: an undeclared key would make the fixture fail to
load). It is a dry run unless asked to write: each ``UpdatePlan`` carries the differences and a
unified diff of the file. Values that still match within tolerance are left alone, so a refresh
never churns a fixture over float noise. ``record_fixture`` writes ``reference/fixture_<NAME>.json``
from the sample run. Artefacts a run wrote are copied under ``reference/artefacts/<fixture>/`` and
the references point there (expected artefact paths are read relative to ``reference/``).
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pixie_sdk.manifest import ToolManifest
from pixie_sdk.samples import sample_inputs
from pixie_sdk.shapes import iter_artefact_refs
from pixie_sdk.types import JSON
from pixie_validate.reference.compare import MediaRoots, compare_output
from pixie_validate.reference.fixture import (
    FIXTURE_PREFIX,
    REFERENCE_DIR,
    FixtureError,
    discover_fixtures,
    filter_fixtures,
    load_fixture,
)
from pixie_validate.reference.runner import RunOutcome, run_inputs
from pixie_validate.reference.tolerance import (
    TOLERANCE_FILENAME,
    ToleranceError,
    ToleranceFile,
    load_tolerance,
    resolve_tolerance,
)

if TYPE_CHECKING:
    from pixie_validate.context import CheckContext

__all__ = [
    "ARTEFACTS_SUBDIR",
    "RECORDED_BY",
    "UpdateError",
    "UpdatePlan",
    "fixture_path_for",
    "record_fixture",
    "update_fixtures",
]

#: Where copied artefacts live inside ``reference/``.
ARTEFACTS_SUBDIR = "artefacts"
#: How ``source`` says a fixture was written by this tool.
RECORDED_BY = "recorded by pixie-validate"
_REFRESHED = "expected outputs refreshed by pixie-validate"
_REFRESHED_NOTE = re.compile(rf"(;\s*)?{re.escape(_REFRESHED)} \d{{4}}-\d{{2}}-\d{{2}}$")
#: A fixture name becomes a file name: letters, digits, `_`, `-` and `.`, not starting with a dot.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: Width a fixture file's lines are kept within, where a value allows (as hand-written fixtures are).
LINE_WIDTH = 100
#: Lines of a file diff kept in a plan's ``diff``; the rest are counted.
MAX_DIFF_LINES = 200

Status = Literal["update", "unchanged", "skipped", "error"]


class UpdateError(ValueError):
    """A fixture could not be recorded (a bad name, an existing file, a failed run)."""


@dataclass
class UpdatePlan:
    """What refreshing one fixture does (or would do)."""

    path: Path
    name: str
    status: Status
    changes: list[str] = field(default_factory=list)
    """``bmi: expected 22.9, got 23.1 (...)``, ``details: added``: old expected → new."""
    expected_outputs: dict[str, JSON] | None = None
    """The refreshed ``expected_outputs`` (None when skipped or failed)."""
    diff: str = ""
    """A unified diff of the file, old → new."""
    written: bool = False
    reason: str | None = None
    """Why it was skipped or failed."""
    request: str | None = None
    """The curl command of the run, when it failed."""

    def describe(self) -> str:
        """One line for the report."""
        where = f"{REFERENCE_DIR}/{self.path.name}"
        if self.status == "update":
            keys = ", ".join(dict.fromkeys(c.split(":", 1)[0] for c in self.changes))
            if self.written:
                return f"updated {where}: {keys}"
            return f"would update {where}: {keys} (dry run; --yes writes it)"
        if self.status == "unchanged":
            return f"{where} is up to date"
        if self.status == "skipped":
            return f"{where} not refreshed: skipped ({self.reason})"
        return f"could not refresh {where}: {self.reason}"


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _pretty(value: Any, column: int, depth: int) -> str:
    """JSON indented by two spaces, with any list or object that fits on its line kept on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or not value or column + len(flat) <= LINE_WIDTH:
        return flat
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, list):
        items = [inner + _pretty(v, len(inner), depth + 1) for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    fields = []
    for key, item in value.items():
        head = f"{inner}{json.dumps(str(key), ensure_ascii=False)}: "
        fields.append(head + _pretty(item, len(head), depth + 1))
    return "{\n" + ",\n".join(fields) + f"\n{pad}}}"


def _dump(data: Any) -> str:
    return _pretty(data, 0, 0) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_diff(path: Path, old: str, new: str) -> str:
    lines = list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), f"a/{path.name}", f"b/{path.name}", lineterm="")
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... and {len(lines) - MAX_DIFF_LINES} more lines"]
    return "\n".join(lines)


def _types(manifest: ToolManifest) -> dict[str, str]:
    return {o.key: o.type for o in manifest.outputs}


def _keep_artefacts(
    outputs: Mapping[str, JSON], types: Mapping[str, str], run_dir: Path | None, reference: Path, stem: str
) -> dict[str, JSON]:
    """A copy of ``outputs`` whose artefact files are copied under ``reference/artefacts/<stem>/``."""
    kept = copy.deepcopy(dict(outputs))
    if run_dir is None:
        return kept
    base = run_dir.resolve()
    for key, value in kept.items():
        for ref in iter_artefact_refs(types.get(key, ""), value):
            source = (base / str(ref["artefact"])).resolve()
            if not source.is_relative_to(base) or not source.is_file():
                continue
            relative = Path(ARTEFACTS_SUBDIR, stem, str(ref["artefact"]))
            target = reference / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            ref["artefact"] = relative.as_posix()
            ref.pop("url", None)
    return kept


def _has_artefacts(outputs: Mapping[str, JSON], types: Mapping[str, str]) -> bool:
    return any(True for k, v in outputs.items() for _ in iter_artefact_refs(types.get(k, ""), v))


def _run(
    ctx: CheckContext, manifest: ToolManifest, inputs: dict[str, Any], timeout: float, run_dir: Path
) -> RunOutcome:
    return run_inputs(ctx.require_client(), manifest, inputs, timeout=timeout, artefacts_dir=run_dir)


def _refreshed_source(source: str | None, today: str) -> str:
    note = f"{_REFRESHED} {today}"
    if not source:
        return note
    kept = _REFRESHED_NOTE.sub("", source).rstrip("; ")
    return f"{kept}; {note}" if kept else note


def _tolerances(ctx: CheckContext, manifest: ToolManifest) -> ToleranceFile:
    try:
        return load_tolerance(ctx.folder / REFERENCE_DIR / TOLERANCE_FILENAME, _types(manifest))[0]
    except ToleranceError:
        return ToleranceFile()  # check 12 reports the file; refreshing still works with the built-in tolerances


def update_fixtures(
    ctx: CheckContext, *, write: bool | None = None, tolerances: ToleranceFile | None = None
) -> list[UpdatePlan]:
    """Refresh each fixture (those ``ctx.options.fixtures`` names, else all) from a real run of its inputs.

    Writes only when ``write`` (default ``ctx.options.yes``); otherwise every plan says what would
    change. Fixtures with a ``skip_reason`` are left alone; a fixture's expected keys are kept (all
    declared outputs when it expects none), outputs still within tolerance are not rewritten.
    Needs the running tool (``ctx.client``) and its manifest.
    """
    manifest = ctx.require_manifest()
    write = ctx.options.yes if write is None else write
    tolerances = tolerances if tolerances is not None else _tolerances(ctx, manifest)
    types = _types(manifest)
    reference = ctx.folder / REFERENCE_DIR
    plans: list[UpdatePlan] = []
    for path in filter_fixtures(discover_fixtures(ctx.folder), ctx.options.fixtures):
        try:
            loaded = load_fixture(path, manifest)
        except FixtureError as exc:
            plans.append(UpdatePlan(path, path.stem, "error", reason=f"it does not load: {'; '.join(exc.problems)}"))
            continue
        fixture = loaded.fixture
        if fixture.skip_reason:
            plans.append(UpdatePlan(path, fixture.name, "skipped", reason=fixture.skip_reason))
            continue
        timeout = float(fixture.validator_timeout_override or ctx.run_timeout)
        with tempfile.TemporaryDirectory(prefix="pixie-fixture-") as tmp:
            run_dir = Path(tmp)
            outcome = _run(ctx, manifest, fixture.inputs, timeout, run_dir)
            if outcome.outputs is None:
                plans.append(
                    UpdatePlan(path, fixture.name, "error", reason=outcome.error, request=outcome.exchange.curl)
                )
                continue
            keys = [k for k in fixture.expected_outputs if k in types] or [k for k in types if k in outcome.outputs]
            changes: list[str] = []
            changed: set[str] = set()
            fresh: dict[str, JSON] = {}
            media = MediaRoots(expected=reference, actual=run_dir)
            for key in keys:
                if key not in outcome.outputs:
                    fresh[key] = fixture.expected_outputs[key]
                    changes.append(f"{key}: missing from the reply; the old value is kept")
                    continue
                new = outcome.outputs[key]
                if key not in fixture.expected_outputs:
                    fresh[key] = new
                    changed.add(key)
                    changes.append(f"{key}: added")
                    continue
                tolerance = resolve_tolerance(key, types[key], tolerances, fixture.tolerance)
                found = compare_output(types[key], fixture.expected_outputs[key], new, tolerance, media=media)
                fresh[key] = new if found.differences else fixture.expected_outputs[key]
                if found.differences:
                    changed.add(key)
                changes += [f"{key}: {d}" for d in found.differences]
            plan = UpdatePlan(path, fixture.name, "update" if changed else "unchanged", changes, fresh)
            if changed:
                old_text = path.read_text(encoding="utf-8")
                data = json.loads(old_text)
                data["source"] = _refreshed_source(fixture.source, _today())
                if write:
                    kept = _keep_artefacts({k: fresh[k] for k in changed}, types, run_dir, reference, path.stem)
                    fresh = {k: kept.get(k, fresh[k]) for k in fresh}
                data["expected_outputs"] = fresh
                new_text = _dump(data)
                plan.expected_outputs = fresh
                plan.diff = _file_diff(path, old_text, new_text)
                if write:
                    _write_atomically(path, new_text)
                    plan.written = True
            plans.append(plan)
    return plans


def fixture_path_for(folder: Path, name: str) -> Path:
    """``<folder>/reference/fixture_<name>.json`` for a ``--new-fixture`` name.

    Raises:
        UpdateError: the name cannot be a file name.
    """
    stem = name.strip().removesuffix(".json").removeprefix(FIXTURE_PREFIX)
    if not _NAME.match(stem):
        raise UpdateError(
            f"`{name}` cannot name a fixture file: use letters, digits, `_`, `-` and `.` "
            "(up to 64, not starting with `.`)"
        )
    return folder / REFERENCE_DIR / f"{FIXTURE_PREFIX}{stem}.json"


def record_fixture(ctx: CheckContext, name: str, *, overwrite: bool | None = None) -> Path:
    """Write ``reference/fixture_<name>.json`` from the sample run: its inputs and its declared outputs.

    Uses ``ctx.sample_inputs`` (generated from the manifest when check 8 has not run) and
    ``ctx.sample_output``; runs the inputs again when that output cannot be kept as it is (a
    streaming tool's placeholders, artefact references). Replaces an existing file only when
    ``overwrite`` (default ``ctx.options.yes``).

    Raises:
        UpdateError: a bad name, an existing file, or a failed run.
    """
    manifest = ctx.require_manifest()
    overwrite = ctx.options.yes if overwrite is None else overwrite
    path = fixture_path_for(ctx.folder, name)
    if path.exists() and not overwrite:
        raise UpdateError(f"{REFERENCE_DIR}/{path.name} exists already; --yes replaces it")
    types = _types(manifest)
    inputs = dict(ctx.sample_inputs) if ctx.sample_inputs is not None else sample_inputs(manifest)
    outputs = ctx.sample_output
    reference = ctx.folder / REFERENCE_DIR
    with tempfile.TemporaryDirectory(prefix="pixie-fixture-") as tmp:
        run_dir: Path | None = None
        usable = isinstance(outputs, dict) and not manifest.streams and not _has_artefacts(outputs, types)
        if not usable:
            run_dir = Path(tmp)
            outcome = _run(ctx, manifest, inputs, ctx.run_timeout, run_dir)
            if outcome.outputs is None:
                raise UpdateError(f"the sample run failed: {outcome.error}\n    reproduce: {outcome.exchange.curl}")
            outputs = outcome.outputs
        assert isinstance(outputs, dict)
        declared = {k: outputs[k] for k in types if k in outputs}
        expected = _keep_artefacts(declared, types, run_dir, reference, path.stem)
    data = {
        "name": path.stem.removeprefix(FIXTURE_PREFIX),
        "source": f"{RECORDED_BY} {_today()}",
        "inputs": inputs,
        "expected_outputs": expected,
    }
    _write_atomically(path, _dump(data))
    return path
