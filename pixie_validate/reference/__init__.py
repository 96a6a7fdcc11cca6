"""Reference fixtures (contract §6, validator check 12): golden runs, their tolerances, the comparators.

- ``fixture``: the ``reference/fixture_*.json`` model, discovery, ``--fixture`` filtering, loading;
- ``tolerance``: the ``reference/tolerance.yaml`` model, its loader and the per-output resolution;
- ``compare``: one comparator per output type, reading values through the SDK's canonical shapes;
- ``runner``: one run of a fixture's inputs (following ``/stream`` for streaming tools);
- ``verdict``: one fixture's comparison and the failure table;
- ``update``: ``--update-fixtures`` and ``--new-fixture``.
"""

from __future__ import annotations

from pixie_validate.reference.compare import COMPARATORS, Comparison, MediaRoots, compare_output
from pixie_validate.reference.fixture import Fixture, FixtureError, LoadedFixture, discover_fixtures, load_fixture
from pixie_validate.reference.runner import RunOutcome, run_inputs
from pixie_validate.reference.tolerance import (
    Tolerance,
    ToleranceError,
    ToleranceFile,
    load_tolerance,
    resolve_tolerance,
)
from pixie_validate.reference.update import UpdateError, UpdatePlan, record_fixture, update_fixtures
from pixie_validate.reference.verdict import FixtureVerdict, compare_fixture, render_table

__all__ = [
    "COMPARATORS",
    "Comparison",
    "Fixture",
    "FixtureError",
    "FixtureVerdict",
    "LoadedFixture",
    "MediaRoots",
    "RunOutcome",
    "Tolerance",
    "ToleranceError",
    "ToleranceFile",
    "UpdateError",
    "UpdatePlan",
    "compare_fixture",
    "compare_output",
    "discover_fixtures",
    "load_fixture",
    "load_tolerance",
    "record_fixture",
    "render_table",
    "resolve_tolerance",
    "run_inputs",
    "update_fixtures",
]
