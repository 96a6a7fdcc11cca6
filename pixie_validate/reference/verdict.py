"""One fixture's verdict: each expected output compared with its tolerance, and the table a failure shows.

The table is plain text (it lands in a finding's ``details``)::

    fixture       output  comparator                        difference
    adult, obese  bmi     number (rtol 1e-06, atol 0.0001)  expected 38.0623, got 38.5 (off by 0.4377; ...)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pixie_sdk.manifest import ToolManifest
from pixie_sdk.types import JSON
from pixie_validate.reference.compare import MediaRoots, compare_output
from pixie_validate.reference.fixture import LoadedFixture
from pixie_validate.reference.tolerance import ToleranceFile, resolve_tolerance

__all__ = ["ECHOED_KEYS", "FixtureVerdict", "OutputDifference", "compare_fixture", "render_table"]

#: Reply keys that are never "extra outputs" (the contract lets a tool echo its run id).
ECHOED_KEYS = frozenset({"run_id"})
#: Widest cell of a table column other than the last; longer text is cut with an ellipsis.
MAX_CELL_CHARS = 48


@dataclass(frozen=True, slots=True)
class OutputDifference:
    """One row of the failure table."""

    output: str
    comparator: str
    difference: str


@dataclass
class FixtureVerdict:
    """How one fixture's run compared."""

    differences: list[OutputDifference] = field(default_factory=list)
    """Failing rows: differences, missing outputs (``on_missing_expected_key: fail``), extra keys (``fail``)."""
    warnings: list[str] = field(default_factory=list)
    """Missing outputs or extra keys under ``warn``."""
    compared: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Outputs with ``compare: skip`` (or missing under ``ignore``): not compared, not failed."""
    comparators: dict[str, str] = field(default_factory=dict)
    """Output key → how it was compared."""

    @property
    def failed(self) -> bool:
        return bool(self.differences)

    @property
    def failing_outputs(self) -> list[str]:
        return list(dict.fromkeys(d.output for d in self.differences))


def compare_fixture(
    loaded: LoadedFixture,
    outputs: Mapping[str, JSON],
    manifest: ToolManifest,
    tolerances: ToleranceFile | None = None,
    *,
    media: MediaRoots | None = None,
) -> FixtureVerdict:
    """Compare a run's outputs with a fixture's ``expected_outputs``, each with its resolved tolerance."""
    fixture = loaded.fixture
    options = (tolerances or ToleranceFile()).options
    types = {o.key: o.type for o in manifest.outputs}
    verdict = FixtureVerdict()
    for key, expected in fixture.expected_outputs.items():
        output_type = types.get(key, "")
        tolerance = resolve_tolerance(key, output_type, tolerances, fixture.tolerance)
        if key not in outputs:
            if tolerance.skip or options.on_missing_expected_key == "ignore":
                verdict.skipped.append(key)
            elif options.on_missing_expected_key == "warn":
                verdict.warnings.append(f"output `{key}` is expected but missing from the reply")
            else:
                verdict.differences.append(OutputDifference(key, output_type, "missing from the reply"))
            continue
        comparison = compare_output(output_type, expected, outputs[key], tolerance, media=media)
        verdict.comparators[key] = comparison.comparator
        if comparison.skipped:
            verdict.skipped.append(key)
            continue
        verdict.compared.append(key)
        verdict.differences += [OutputDifference(key, comparison.comparator, d) for d in comparison.differences]
    extra = [k for k in outputs if k not in fixture.expected_outputs and k not in ECHOED_KEYS]
    if extra and options.on_extra_output_key != "ignore":
        names = ", ".join(f"`{k}`" for k in extra)
        if options.on_extra_output_key == "warn":
            verdict.warnings.append(f"the reply has outputs the fixture does not expect: {names}")
        else:
            for key in extra:
                verdict.differences.append(
                    OutputDifference(key, types.get(key, "undeclared"), "not expected (on_extra_output_key: fail)")
                )
    return verdict


def _cell(text: str, width: int | None) -> str:
    text = " ".join(text.split())  # one line per row, whatever a difference holds
    if width is not None and len(text) > width:
        return text[: width - 1] + "…"
    return text


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: columns padded to their widest cell (all but the last capped at ``MAX_CELL_CHARS``)."""
    last = len(headers) - 1
    cells = [[_cell(c, None if i == last else MAX_CELL_CHARS) for i, c in enumerate(row)] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = []
    for row in [list(headers), ["-" * w for w in widths], *cells]:
        lines.append("  ".join(c.ljust(widths[i]) if i < last else c for i, c in enumerate(row)).rstrip())
    return "\n".join(lines)
