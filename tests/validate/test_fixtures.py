"""Check 12, reference fixtures: tolerance.yaml (resolution, errors with lines), fixture files, the verdict, the
check against real tool processes, --update-fixtures / --new-fixture, and the whole engine on the examples."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pixie_sdk.manifest import ToolManifest, load_manifest
from pixie_validate.checks import REGISTRY
from pixie_validate.checks.fixtures import reference_fixtures
from pixie_validate.client import ContractClient
from pixie_validate.context import CheckContext, SkipCheck, ValidateOptions
from pixie_validate.engine import run_checks
from pixie_validate.findings import Finding, worst
from pixie_validate.reference.fixture import FixtureError, discover_fixtures, filter_fixtures, load_fixture
from pixie_validate.reference.tolerance import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    ToleranceError,
    load_tolerance,
    parse_tolerance,
    resolve_tolerance,
)
from pixie_validate.reference.update import UpdateError, fixture_path_for, record_fixture, update_fixtures
from pixie_validate.reference.verdict import compare_fixture, render_table
from tests.conftest import RunningTool, start_tool

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
BMI = EXAMPLES / "bmi-fixtures"
BAD = ROOT / "tests" / "fixtures" / "tools" / "bad" / "12-reference-fixtures"
OUTPUTS = {"bmi": "number", "category": "text", "details": "kv", "chart": "image", "story": "stream_text"}


# --- helpers ---------------------------------------------------------------------------------------------------


def tolerance_of(text: str, tmp_path: Path, outputs: dict[str, str] | None = None) -> Any:
    path = tmp_path / "tolerance.yaml"
    path.write_text(text)
    return load_tolerance(path, outputs or OUTPUTS)


def tolerance_problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(ToleranceError) as caught:
        tolerance_of(text, tmp_path)
    return caught.value.problems


def copy_tool(source: Path, tmp_path: Path, name: str | None = None) -> Path:
    target = tmp_path / (name or source.name)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("expected.txt", "__pycache__"))
    return target


def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


#: Clients made by ``make_ctx`` in the current test, closed after it.
_CLIENTS: list[ContractClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def make_ctx(folder: Path, tool: RunningTool, **options: Any) -> CheckContext:
    """A context as the engine leaves it for check 12: manifest parsed, tool running, the check's spec set."""
    ctx = CheckContext(folder, ValidateOptions(**options))
    ctx.manifest = load_manifest(folder)
    ctx.client = ContractClient(tool.url)
    _CLIENTS.append(ctx.client)
    ctx.spec = REGISTRY.get(12)
    return ctx


class Outcome:
    """What one run of the check gave: its status (as the engine would say), findings, or a skip reason."""

    def __init__(self, ctx: CheckContext) -> None:
        self.skipped: str | None = None
        self.findings: list[Finding] = []
        try:
            self.findings = list(reference_fixtures(ctx))
        except SkipCheck as skip:
            self.skipped = skip.reason

    @property
    def status(self) -> str:
        if self.skipped is not None:
            return "skip"
        return {"error": "fail", "warning": "warn"}.get(worst(self.findings) or "", "pass")

    def of(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def text(self) -> str:
        return "\n".join(f"{f.message}\n{f.details or ''}" for f in self.findings)


def check(folder: Path, tool: RunningTool, **options: Any) -> Outcome:
    return Outcome(make_ctx(folder, tool, **options))


@pytest.fixture(scope="module")
def bmi_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningTool]:
    """One bmi-fixtures process for the module; each test points the check at its own copy of the folder."""
    tool = start_tool(copy_tool(BMI, tmp_path_factory.mktemp("bmi-process")))
    yield tool
    tool.stop()


@pytest.fixture
def bmi(tmp_path: Path) -> Path:
    return copy_tool(BMI, tmp_path)


@pytest.fixture
def manifest() -> ToolManifest:
    return load_manifest(BMI)


# --- tolerance.yaml --------------------------------------------------------------------------------------------


def test_resolution_order_fixture_over_overrides_over_defaults_over_builtin(tmp_path: Path) -> None:
    text = "defaults:\n  number: {rtol: 0.1, atol: 0.2}\noverrides:\n  bmi: {atol: 0.3}\n"
    file, notes = tolerance_of(text, tmp_path)
    assert notes == []
    builtin = resolve_tolerance("bmi", "number")
    assert (builtin.rtol, builtin.atol, builtin.compare) == (DEFAULT_RTOL, DEFAULT_ATOL, "numeric")
    other = resolve_tolerance("other", "number", file)
    assert (other.rtol, other.atol) == (0.1, 0.2)
    overridden = resolve_tolerance("bmi", "number", file)
    assert (overridden.rtol, overridden.atol) == (0.1, 0.3)
    fixture = {"bmi": parse_tolerance({"bmi": {"rtol": 0.4}}, OUTPUTS)[0].overrides["bmi"]}
    own = resolve_tolerance("bmi", "number", file, fixture)
    assert (own.rtol, own.atol) == (0.4, 0.3)


def test_the_example_tolerance_file_loads_with_numbers_as_strings() -> None:
    manifest = load_manifest(BMI)
    file, notes = load_tolerance(BMI / "reference" / "tolerance.yaml", {o.key: o.type for o in manifest.outputs})
    assert notes == []
    assert yaml.safe_load("x: 1e-6")["x"] == "1e-6"  # why the strings must be accepted
    assert file.defaults["number"].rtol == 1e-6
    assert resolve_tolerance("details", "kv", file).compare == "pairs"  # `dict_per_value` is the public name
    assert resolve_tolerance("bmi", "number", file).atol == 1e-6
    assert file.options.on_extra_output_key == "warn"


def test_aliases_flat_form_and_shorthands(tmp_path: Path) -> None:
    text = "bmi: {float_rtol: '0.5', abs: 2}\ndetails: {float_atol: 1.0e-3, allow_extra: true}\nchart: skip\n"
    file, _ = tolerance_of(text, tmp_path)
    bmi = resolve_tolerance("bmi", "number", file)
    assert (bmi.rtol, bmi.atol) == (0.5, 2.0)
    details = resolve_tolerance("details", "kv", file)
    assert details.atol == 1e-3 and details.allow_extra
    assert resolve_tolerance("chart", "image", file).skip


def test_a_missing_file_is_an_empty_one(tmp_path: Path) -> None:
    file, notes = load_tolerance(tmp_path / "nope.yaml", OUTPUTS)
    assert file.defaults == {} and file.overrides == {} and notes == []
    assert tolerance_of("# nothing yet\n", tmp_path)[0].overrides == {}


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    [problem] = tolerance_problems("defaults:\n  number: {rtol: 1e-6\noverrides: {}\n", tmp_path)
    assert problem.startswith("line 3, column ")
    assert "invalid YAML" in problem


def test_missing_space_after_colon_is_explained(tmp_path: Path) -> None:
    [problem] = tolerance_problems("# tolerances\nbmi:{atol: 0.1}\n", tmp_path)
    assert problem.startswith("line 2: `bmi:{atol` is not a declared output")
    assert "there is no space after `bmi:`" in problem
    [inner] = tolerance_problems("overrides:\n  bmi: {atol:0.1}\n", tmp_path)
    assert inner.startswith("line 2: `overrides.bmi.atol:0.1`:")
    assert "no space after a `:`" in inner
    [typed] = tolerance_problems("defaults:\n  number:{rtol: 1}\n", tmp_path)
    assert typed.startswith("line 2: `defaults.number:{rtol` is not an output type")
    assert "no space after `number:`" in typed


def test_settings_and_keys_are_checked_with_lines_and_suggestions(tmp_path: Path) -> None:
    text = "defaults:\n  numbr: {rtol: 1}\n  text: {compare: fuzzy}\noverrides:\n  bmii: {atol: 1}\n  bmi: {rtoll: 1}\n"
    problems = tolerance_problems(text, tmp_path)
    assert "line 6: `overrides.bmi.rtoll`: `rtoll` is not a setting here; did you mean `rtol`?" in problems
    assert "line 2: `defaults.numbr` is not an output type; did you mean `number`?" in problems
    assert (
        "line 3: `defaults.text.compare`: `compare: fuzzy` is not a mode of text; use one of exact, whitespace, "
        "json, skip" in problems
    )
    assert any(p.startswith("line 5: `overrides.bmii` is not a declared output; did you mean `bmi`?") for p in problems)


def test_bad_numbers_and_options(tmp_path: Path) -> None:
    problems = tolerance_problems(
        "overrides:\n  bmi: {rtol: lots, atol: -1}\noptions:\n  on_missing_expected_key: maybe\n", tmp_path
    )
    assert "line 2: `overrides.bmi.rtol`: must be a number, got the string 'lots'" in problems
    assert "line 2: `overrides.bmi.atol`: must be a finite number of at least 0, got -1" in problems
    assert any(p.startswith("line 4: `options.on_missing_expected_key`: must be 'warn', 'fail'") for p in problems)
    [twice] = tolerance_problems("bmi: {rtol: 1, float_rtol: 2}\n", tmp_path)
    assert "`float_rtol` and `rtol` are the same setting" in twice


def test_public_format_settings_are_accepted_with_a_note(tmp_path: Path) -> None:
    text = (
        "defaults:\n  image: {compare: ssim, min_ssim: 0.9}\n"
        "  map_points: {compare: set_equal_after_round_coords_4dp}\n"
    )
    file, notes = tolerance_of(text, tmp_path)
    assert resolve_tolerance("chart", "image", file).compare == "pixels"
    points = resolve_tolerance("where", "map_points", file)
    assert (points.compare, points.round_digits) == ("unordered", 4)
    assert any("`min_ssim` is not used" in n for n in notes)
    assert any(n.startswith("line 2: `defaults.image.compare: ssim`: SSIM is not computed") for n in notes)


# --- fixture files ---------------------------------------------------------------------------------------------


def test_the_example_fixtures_load(manifest: ToolManifest) -> None:
    paths = discover_fixtures(BMI)
    assert [p.name for p in paths] == ["fixture_normal.json", "fixture_obese.json", "fixture_skipped.json"]
    loaded = [load_fixture(p, manifest) for p in paths]
    assert [f.fixture.skip_reason is not None for f in loaded] == [False, False, True]
    assert loaded[1].fixture.tolerance["bmi"].atol == 0.0001
    assert all(f.warnings == [] for f in loaded)


def test_filters_by_name_stem_short_name_or_glob() -> None:
    paths = discover_fixtures(BMI)
    for token in ("fixture_obese.json", "fixture_obese", "obese", "ob*", "fixture_o*"):
        assert [p.name for p in filter_fixtures(paths, [token])] == ["fixture_obese.json"], token
    assert len(filter_fixtures(paths, [])) == 3
    assert [p.name for p in filter_fixtures(paths, ["normal", "skipped"])] == [
        "fixture_normal.json",
        "fixture_skipped.json",
    ]
    assert filter_fixtures(paths, ["nothing"]) == []


def fixture_problems(tmp_path: Path, manifest: ToolManifest, content: str) -> list[str]:
    path = tmp_path / "fixture_x.json"
    path.write_text(content)
    with pytest.raises(FixtureError) as caught:
        load_fixture(path, manifest)
    assert caught.value.path == path and "fixture_x.json" in str(caught.value)
    return caught.value.problems


def test_fixture_load_errors_name_the_key(tmp_path: Path, manifest: ToolManifest) -> None:
    assert fixture_problems(tmp_path, manifest, '{"name": "x",\n "inputs": {}\n "expected_outputs": {}}') == [
        "line 3, column 2: invalid JSON: Expecting ',' delimiter"
    ]
    base = {"name": "x", "inputs": {}, "expected_outputs": {"bmi": 1}}
    assert fixture_problems(tmp_path, manifest, json.dumps({**base, "expected_output": {}})) == [
        "`expected_output`: `expected_output` is not a setting here; did you mean `expected_outputs`?"
    ]
    assert fixture_problems(tmp_path, manifest, json.dumps({**base, "expected_outputs": {"bmii": 1}})) == [
        "`expected_outputs.bmii` is not a declared output; did you mean `bmi`? (outputs: bmi, category, details)"
    ]
    assert fixture_problems(tmp_path, manifest, json.dumps({"inputs": {}, "expected_outputs": {}})) == [
        "`name`: Field required"
    ]
    bad_tolerance = {**base, "tolerance": {"bmi": {"compare": "roughly"}, "colour": {"atol": 1}}}
    assert fixture_problems(tmp_path, manifest, json.dumps(bad_tolerance)) == [
        "`tolerance.bmi.compare`: `compare: roughly` is not a mode of number; use one of numeric, exact, skip",
        "`tolerance.colour` is not a declared output (outputs: bmi, category, details)",
    ]
    assert fixture_problems(tmp_path, manifest, "[1, 2]") == [
        "must be a JSON object with `name`, `inputs` and `expected_outputs`, got list"
    ]


def test_fixture_warnings_for_unknown_inputs(tmp_path: Path, manifest: ToolManifest) -> None:
    path = tmp_path / "fixture_x.json"
    path.write_text(json.dumps({"name": "x", "inputs": {"weight": 1}, "expected_outputs": {}, "$schema": "s.json"}))
    loaded = load_fixture(path, manifest)
    assert loaded.warnings == [
        "`inputs.weight` is not a declared input (the tool may reject it); did you mean `weight_kg`?"
    ]


# --- the verdict -----------------------------------------------------------------------------------------------


def loaded_with(tmp_path: Path, manifest: ToolManifest, expected: dict[str, Any], tolerance: str = "") -> Any:
    path = tmp_path / "fixture_v.json"
    path.write_text(json.dumps({"name": "v", "inputs": {}, "expected_outputs": expected}))
    file = tolerance_of(tolerance, tmp_path, {o.key: o.type for o in manifest.outputs})[0]
    return load_fixture(path, manifest), file


def test_missing_and_extra_outputs_follow_the_options(tmp_path: Path, manifest: ToolManifest) -> None:
    reply = {"bmi": 22.0, "details": {"a": 1}, "run_id": "r1"}
    loaded, file = loaded_with(tmp_path, manifest, {"bmi": 22.0, "category": "Normal weight"})
    verdict = compare_fixture(loaded, reply, manifest, file)
    assert [(d.output, d.difference) for d in verdict.differences] == [("category", "missing from the reply")]
    assert verdict.warnings == [] and verdict.compared == ["bmi"]
    text = "options: {on_missing_expected_key: warn, on_extra_output_key: warn}\n"
    loaded, file = loaded_with(tmp_path, manifest, {"bmi": 22.0, "category": "Normal weight"}, text)
    verdict = compare_fixture(loaded, reply, manifest, file)
    assert not verdict.failed
    assert verdict.warnings == [
        "output `category` is expected but missing from the reply",
        "the reply has outputs the fixture does not expect: `details`",
    ]
    loaded, file = loaded_with(tmp_path, manifest, {"bmi": 22.0}, "options: {on_extra_output_key: fail}\n")
    verdict = compare_fixture(loaded, reply, manifest, file)
    assert [d.output for d in verdict.differences] == ["details"]
    loaded, file = loaded_with(tmp_path, manifest, {"category": "x"}, "category: skip\n")
    verdict = compare_fixture(loaded, reply, manifest, file)
    assert not verdict.failed and verdict.skipped == ["category"]


def test_render_table_aligns_columns() -> None:
    table = render_table(("a", "bb", "last"), [("x" * 60, "y", "a long\nlast cell"), ("1", "2", "3")])
    lines = table.splitlines()
    assert lines[0].startswith("a ") and lines[1].startswith("---")
    assert lines[2].startswith("x" * 47 + "…  y ")
    assert lines[2].endswith("a long last cell")
    assert lines[3].index("2") == lines[2].index("y")


# --- the check on a real process -------------------------------------------------------------------------------

pytestmark_subprocess = pytest.mark.subprocess


@pytestmark_subprocess
def test_the_example_passes_and_reports_its_skipped_fixture(bmi: Path, bmi_tool: RunningTool) -> None:
    outcome = check(bmi, bmi_tool)
    assert outcome.status == "pass", outcome.text
    summary = outcome.findings[0]
    assert summary.message == "2 of 3 fixture(s) matched, 1 skipped"
    assert summary.details is not None and "child (30 kg, 1.20 m) (fixture_skipped.json)" in summary.details
    assert "BMI-for-age percentiles" in summary.details


@pytestmark_subprocess
def test_a_wrong_expected_value_fails_with_a_table_and_a_curl(bmi: Path, bmi_tool: RunningTool) -> None:
    def wrong(data: dict[str, Any]) -> None:
        data["expected_outputs"]["bmi"] = 38.5
        data["expected_outputs"]["details"]["bmi"] = 38.0

    edit_json(bmi / "reference" / "fixture_obese.json", wrong)
    outcome = check(bmi, bmi_tool)
    assert outcome.status == "fail"
    [error] = outcome.of("error")
    assert error.message == "fixture `adult, obese (110 kg, 1.70 m)` (fixture_obese.json) differs in `bmi`, `details`"
    assert error.details is not None
    header, rule, *rows = error.details.split("\n\n")[0].splitlines()
    assert header.split() == ["fixture", "output", "comparator", "difference"]
    assert set(rule) <= {"-", " "}
    assert " bmi      number (rtol 1e-09, atol 0.0001)  expected 38.5, got 38.062283737024224 (off by" in rows[0]
    assert " details  kv (rtol 1e-06, atol 1e-09)" in rows[1] and "pairs.bmi: expected 38.0, got 38.1" in rows[1]
    assert "source of the expected values: computed by hand" in error.details
    assert error.request is not None and error.request.startswith("curl ") and error.request.endswith("/run")
    assert '"inputs":{"weight_kg":110,"height_m":1.7}' in error.request
    assert outcome.findings[0].message == "1 of 3 fixture(s) matched, 1 failed, 1 skipped"


@pytestmark_subprocess
def test_a_broken_fixture_is_an_error_and_the_others_still_run(bmi: Path, bmi_tool: RunningTool) -> None:
    (bmi / "reference" / "fixture_broken.json").write_text('{"name": "b", "inputs": {}, "expected_outputs": {"x": 1}}')
    outcome = check(bmi, bmi_tool)
    assert outcome.status == "fail"
    [error] = outcome.of("error")
    assert error.message.startswith(
        "reference/fixture_broken.json does not load: `expected_outputs.x` is not a declared"
    )
    assert outcome.findings[0].message == "2 of 4 fixture(s) matched, 1 failed, 1 skipped"


@pytestmark_subprocess
def test_a_broken_tolerance_file_is_an_error_with_its_line(bmi: Path, bmi_tool: RunningTool) -> None:
    (bmi / "reference" / "tolerance.yaml").write_text("overrides:\n  bmi:{atol: 1}\n")
    outcome = check(bmi, bmi_tool)
    assert outcome.status == "fail"
    [error] = outcome.findings
    assert error.message.startswith("reference/tolerance.yaml is invalid; no fixture was run (line 2: ")
    assert error.details is not None and "no space after `bmi:`" in error.details


@pytestmark_subprocess
def test_all_fixtures_skipped_is_a_warning(bmi: Path, bmi_tool: RunningTool) -> None:
    outcome = check(bmi, bmi_tool, fixtures=["skipped"])
    assert outcome.status == "warn"
    assert outcome.findings[0].message == "all 1 fixture(s) are skipped"


@pytestmark_subprocess
def test_filters_and_missing_folders_skip(bmi: Path, bmi_tool: RunningTool, tmp_path: Path) -> None:
    assert check(bmi, bmi_tool, fixtures=["norm*"]).findings[0].message == "1 of 1 fixture(s) matched"
    outcome = check(bmi, bmi_tool, fixtures=["nope"])
    assert outcome.skipped == "no fixture matches --fixture nope (fixtures: normal, obese, skipped)"
    shutil.rmtree(bmi / "reference")
    reason = check(bmi, bmi_tool).skipped
    assert reason is not None and reason.startswith("no reference/ folder")
    (bmi / "reference").mkdir()
    reason = check(bmi, bmi_tool).skipped
    assert reason is not None and reason.startswith("no reference/fixture_*.json")


@pytestmark_subprocess
def test_a_fixture_whose_run_fails(bmi: Path, bmi_tool: RunningTool) -> None:
    edit_json(bmi / "reference" / "fixture_normal.json", lambda d: d["inputs"].update(weight_kg="heavy"))
    outcome = check(bmi, bmi_tool)
    [error] = outcome.of("error")
    assert error.message.startswith(
        "fixture `adult, normal weight (70 kg, 1.75 m)` (fixture_normal.json) did not run: "
    )
    assert "/run answered 422" in error.message
    assert error.request is not None and '"weight_kg":"heavy"' in error.request


@pytestmark_subprocess
def test_missing_output_under_warn_is_a_warning(bmi: Path, bmi_tool: RunningTool) -> None:
    path = bmi / "reference" / "tolerance.yaml"
    path.write_text(path.read_text().replace("on_missing_expected_key: fail", "on_missing_expected_key: warn"))

    def rename(data: dict[str, Any]) -> None:
        data["expected_outputs"]["category"] = "Normal weight"

    edit_json(bmi / "reference" / "fixture_normal.json", rename)
    outcome = check(bmi, bmi_tool)
    assert outcome.status == "pass"


@pytestmark_subprocess
def test_update_fixtures_is_a_dry_run_unless_yes(bmi: Path, bmi_tool: RunningTool) -> None:
    obese = bmi / "reference" / "fixture_obese.json"
    skipped = bmi / "reference" / "fixture_skipped.json"
    edit_json(obese, lambda d: d["expected_outputs"].update(bmi=40.0, category="Overweight"))
    before, before_skipped = obese.read_text(), skipped.read_text()
    dry = check(bmi, bmi_tool, update_fixtures=True)
    assert dry.status == "pass"
    assert dry.findings[0].message == (
        "--update-fixtures: 1 up to date, 1 to update, 1 skipped (dry run: --yes writes the changes)"
    )
    [plan] = [f for f in dry.findings if f.message.startswith("would update")]
    assert plan.message == "would update reference/fixture_obese.json: bmi, category (dry run; --yes writes it)"
    assert plan.details is not None and '-    "bmi": 40.0,' in plan.details and "+    " in plan.details
    assert obese.read_text() == before

    wet = check(bmi, bmi_tool, update_fixtures=True, yes=True)
    assert any(f.message == "updated reference/fixture_obese.json: bmi, category" for f in wet.findings)
    data = json.loads(obese.read_text())
    assert data["expected_outputs"]["category"] == "Obese"
    assert data["expected_outputs"]["bmi"] == pytest.approx(38.0623, abs=1e-4)
    assert data["expected_outputs"]["details"]["bmi"] == 38.1  # unchanged: within tolerance, kept as written
    assert data["source"].endswith(" >= 30; expected outputs refreshed by pixie-validate " + data["source"][-10:])
    assert data["tolerance"] == {"bmi": {"atol": 0.0001}} and data["tags"] == ["adult"]
    assert skipped.read_text() == before_skipped
    assert check(bmi, bmi_tool).status == "pass"
    again = update_fixtures(make_ctx(bmi, bmi_tool, yes=True))
    assert [p.status for p in again] == ["unchanged", "unchanged", "skipped"]
    assert json.loads(obese.read_text())["source"].count("refreshed") == 1


@pytestmark_subprocess
def test_update_keeps_only_declared_outputs(bmi: Path, bmi_tool: RunningTool) -> None:
    empty = bmi / "reference" / "fixture_empty.json"
    empty.write_text(
        json.dumps({"name": "empty", "inputs": {"weight_kg": 50, "height_m": 1.6}, "expected_outputs": {}})
    )
    [plan] = update_fixtures(make_ctx(bmi, bmi_tool, fixtures=["empty"]), write=True)
    assert plan.status == "update" and plan.written
    assert list(json.loads(empty.read_text())["expected_outputs"]) == ["bmi", "category", "details"]


@pytestmark_subprocess
def test_new_fixture_records_the_sample_run(bmi: Path, bmi_tool: RunningTool) -> None:
    ctx = make_ctx(bmi, bmi_tool, new_fixture="sample")
    outcome = Outcome(ctx)
    assert outcome.status == "pass"
    assert "recorded reference/fixture_sample.json from the sample run" in [f.message for f in outcome.findings]
    assert outcome.findings[0].message == "3 of 4 fixture(s) matched, 1 skipped"
    data = json.loads((bmi / "reference" / "fixture_sample.json").read_text())
    assert data["name"] == "sample" and data["source"].startswith("recorded by pixie-validate 20")
    assert data["inputs"] == {"weight_kg": 70, "height_m": 1.75}
    assert set(data["expected_outputs"]) == {"bmi", "category", "details"}
    again = check(bmi, bmi_tool, new_fixture="sample")
    assert again.status == "fail"
    assert again.of("error")[0].message == (
        "could not record fixture `sample`: reference/fixture_sample.json exists already; --yes replaces it"
    )
    ctx = make_ctx(bmi, bmi_tool)
    ctx.sample_inputs, ctx.sample_output = {"weight_kg": 80, "height_m": 2.0}, {"bmi": 20.0, "extra": 1}
    path = record_fixture(ctx, "fixture_given.json")
    assert path.name == "fixture_given.json"
    assert json.loads(path.read_text())["expected_outputs"] == {"bmi": 20.0}  # only declared outputs
    with pytest.raises(UpdateError, match="cannot name a fixture file"):
        fixture_path_for(bmi, "../escape")


@pytestmark_subprocess
def test_streaming_tool_round_trip(tmp_path: Path, spawn: Callable[..., RunningTool]) -> None:
    folder = copy_tool(EXAMPLES / "streaming-story", tmp_path)
    tool = spawn(folder)
    ctx = make_ctx(folder, tool, new_fixture="story")
    ctx.sample_inputs = {"topic": "kettle", "sentences": 3, "delay": 0}
    outcome = Outcome(ctx)
    assert outcome.status == "pass", outcome.text
    path = folder / "reference" / "fixture_story.json"
    recorded = json.loads(path.read_text())["expected_outputs"]
    assert recorded["story"].startswith("Once upon a time there was a kettle")  # the streamed text, not a placeholder
    assert recorded["words"]["series"][0]["name"] == "Words"
    edit_json(path, lambda d: d["expected_outputs"]["words"]["series"][0]["y"].__setitem__(2, 1))
    failed = check(folder, tool)
    assert failed.status == "fail"
    assert 'series["Words"].y[2]: expected 1, got ' in failed.text


@pytestmark_subprocess
def test_artefacts_are_kept_with_the_fixture(tmp_path: Path, spawn: Callable[..., RunningTool]) -> None:
    folder = copy_tool(EXAMPLES / "artefact-writer", tmp_path)
    tool = spawn(folder)
    outcome = check(folder, tool, new_fixture="sample")
    assert outcome.status == "pass", outcome.text
    data = json.loads((folder / "reference" / "fixture_sample.json").read_text())
    chart = data["expected_outputs"]["chart"]
    assert chart["artefact"] == "artefacts/fixture_sample/charts/sin-cos.png"
    csv_ref = data["expected_outputs"]["table_file"]["data"]["artefact"]
    copied = folder / "reference" / csv_ref
    assert copied.read_bytes().startswith(b"n,degrees,sin,cos")
    copied.write_bytes(copied.read_bytes().replace(b"0.017452", b"0.017999"))
    failed = check(folder, tool)
    assert failed.status == "fail"
    assert "table_file" in failed.of("error")[0].message
    assert "data[2][2]: expected 0.017999, got 0.017452" in failed.text


@pytestmark_subprocess
def test_every_output_type_round_trips(tmp_path: Path, spawn: Callable[..., RunningTool]) -> None:
    folder = copy_tool(EXAMPLES / "kitchen-sink", tmp_path)
    tool = spawn(folder)
    outcome = check(folder, tool, new_fixture="everything")
    assert outcome.status == "pass", outcome.text
    recorded = json.loads((folder / "reference" / "fixture_everything.json").read_text())["expected_outputs"]
    assert len(recorded) == 39


# --- the whole validator ---------------------------------------------------------------------------------------


@pytestmark_subprocess
def test_engine_passes_the_example(tmp_path: Path) -> None:
    report, _ = run_checks(copy_tool(BMI, tmp_path), REGISTRY, ValidateOptions(select=["12"]))
    result = report.check(12)
    assert result is not None and result.status == "pass", result
    assert result.message == "2 of 3 fixture(s) matched, 1 skipped"
    assert result.details is not None and "fixture_skipped.json" in result.details


@pytestmark_subprocess
def test_engine_fails_the_bad_tool_on_check_12_only(tmp_path: Path) -> None:
    assert (BAD / "expected.txt").read_text().split() == ["12"]
    folder = copy_tool(BAD, tmp_path, json.loads((BAD / "tool.json").read_text())["id"])
    report, _ = run_checks(folder, REGISTRY, ValidateOptions())
    failing = [c.number for c in report.checks if c.status == "fail"]
    assert failing == [12], [(c.number, c.message) for c in report.checks if c.status == "fail"]
    result = report.check(12)
    assert result is not None
    assert result.message == "fixture `radius 2, area off` (fixture_wrong-area.json) differs in `area`"
    assert "area    number (rtol 1e-09, atol 1e-12)  expected 6.283185307179586, got 12.566370614359172" in (
        result.details or ""
    )
