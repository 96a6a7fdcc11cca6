"""Reference fixture files (``reference/fixture_*.json``): the model, discovery, filtering and loading.

A fixture is one golden run (contract §6)::

    {"name": "adult 70 kg", "inputs": {"weight_kg": 70}, "expected_outputs": {"bmi": 22.86},
     "source": "computed by hand", "tolerance": {"bmi": {"atol": 0.01}},
     "skip_reason": null, "tags": ["regression"], "validator_timeout_override": 30}

Every key of ``expected_outputs`` (and of ``tolerance``) must be a declared output; a file that
breaks a rule fails to load with a message naming the file and the key, and the other fixtures
still run.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError

from pixie_sdk.manifest import ToolManifest
from pixie_validate.reference.tolerance import ToleranceSpec, spec_problems, validation_problems

__all__ = [
    "FIXTURE_GLOB",
    "FIXTURE_PREFIX",
    "REFERENCE_DIR",
    "Fixture",
    "FixtureError",
    "LoadedFixture",
    "discover_fixtures",
    "filter_fixtures",
    "fixture_matches",
    "load_fixture",
    "short_name",
]

REFERENCE_DIR = "reference"
FIXTURE_PREFIX = "fixture_"
FIXTURE_GLOB = f"{FIXTURE_PREFIX}*.json"


class Fixture(BaseModel):
    """The contents of one fixture file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Annotated[StrictStr, Field(min_length=1)]
    """What the report calls this fixture."""
    inputs: dict[str, Any]
    """The run's inputs, sent as the ``inputs`` of the canonical run request."""
    expected_outputs: dict[str, Any]
    """Output key → the value expected (in any shape the contract accepts for its type)."""
    source: StrictStr | None = None
    """Where the expected values come from (a paper, a hand calculation, a recording)."""
    tolerance: dict[str, ToleranceSpec] = {}
    """Output key → tolerance; wins over tolerance.yaml."""
    skip_reason: StrictStr | None = None
    """Set: the fixture is reported as skipped, never run."""
    tags: list[StrictStr] = []
    validator_timeout_override: Annotated[StrictInt | StrictFloat, Field(gt=0)] | None = None
    """Seconds this fixture's run may take (instead of the tool's run timeout)."""
    schema_: StrictStr | None = Field(default=None, alias="$schema")
    """An editor's JSON Schema pointer; ignored."""
    file_path: StrictStr | None = Field(default=None, exclude=True)
    """Written by the public project's loader; accepted and ignored."""


_FIELDS = [f.alias or name for name, f in Fixture.model_fields.items() if name != "file_path"]


class FixtureError(ValueError):
    """A fixture file that cannot be used; ``problems`` has one line per problem."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path.name}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


@dataclass
class LoadedFixture:
    """A fixture and where it came from."""

    path: Path
    fixture: Fixture
    warnings: list[str] = field(default_factory=list)
    """Things worth saying that do not stop it running (inputs no input declares, unused settings)."""

    @property
    def name(self) -> str:
        return self.fixture.name

    @property
    def short(self) -> str:
        return short_name(self.path)


def short_name(path: Path) -> str:
    """``fixture_normal.json`` → ``normal``."""
    return path.stem.removeprefix(FIXTURE_PREFIX)


def discover_fixtures(folder: Path) -> list[Path]:
    """``<folder>/reference/fixture_*.json``, sorted by name ([] if there is no reference folder)."""
    reference = folder / REFERENCE_DIR
    if not reference.is_dir():
        return []
    return sorted(p for p in reference.glob(FIXTURE_GLOB) if p.is_file())


def fixture_matches(path: Path, token: str) -> bool:
    """A ``--fixture`` token names this file: its name, its stem, its stem without ``fixture_``, or a glob of any."""
    names = (path.name, path.stem, short_name(path))
    token = token.strip()
    return token in names or any(fnmatch.fnmatchcase(n, token) for n in names)


def filter_fixtures(paths: Iterable[Path], tokens: Sequence[str]) -> list[Path]:
    """The paths any token names (all of them when there are no tokens)."""
    paths = list(paths)
    if not tokens:
        return paths
    return [p for p in paths if any(fixture_matches(p, t) for t in tokens)]


def _close(word: str, choices: Iterable[str]) -> str:
    near = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean `{near[0]}`?" if near else ""


def _json_problem(exc: json.JSONDecodeError) -> str:
    return f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"


def load_fixture(path: Path, manifest: ToolManifest) -> LoadedFixture:
    """Read and check one fixture file against the manifest.

    Raises:
        FixtureError: unreadable, invalid JSON, a wrong field, or an expected output no output declares.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(path, [f"cannot be read: {exc}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FixtureError(path, [_json_problem(exc)]) from None
    if not isinstance(data, dict):
        what = "a JSON object with `name`, `inputs` and `expected_outputs`"
        raise FixtureError(path, [f"must be {what}, got {type(data).__name__}"])
    try:
        fixture = Fixture.model_validate(data)
    except ValidationError as exc:
        raise FixtureError(path, validation_problems(exc, fields=_FIELDS)) from None
    outputs = {o.key: o.type for o in manifest.outputs}
    declared = ", ".join(outputs) or "none"
    problems: list[str] = []
    for key in fixture.expected_outputs:
        if key not in outputs:
            problems.append(
                f"`expected_outputs.{key}` is not a declared output{_close(key, outputs)} (outputs: {declared})"
            )
    warnings: list[str] = []
    for key, spec in fixture.tolerance.items():
        if key not in outputs:
            problems.append(f"`tolerance.{key}` is not a declared output{_close(key, outputs)} (outputs: {declared})")
            continue
        found, notes = spec_problems(f"tolerance.{key}", spec, outputs[key])
        problems += found
        warnings += notes
    if problems:
        raise FixtureError(path, problems)
    inputs = {i.key for i in manifest.inputs}
    for key in fixture.inputs:
        if key not in inputs:
            warnings.append(f"`inputs.{key}` is not a declared input (the tool may reject it){_close(key, inputs)}")
    return LoadedFixture(path, fixture, warnings)
