"""The --pixie-conformance plugin, driven through pytester: items, outcomes, baselines, xdist, JUnit, fixture."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
BAD = ROOT / "tests" / "fixtures" / "tools" / "bad"
#: Bad tools whose failures are runtime items (quick ones: no 5 s shutdown, no long timeouts).
RUNTIME_BAD = ["06-spawns", "07-schema-drift", "08-sample-run", "09-outputs-conform", "13-error-envelope",
               "17-loopback-only"]  # fmt: skip
INI = "[pytest]\naddopts = -p no:cacheprovider\n"


def add_tool(pytester: pytest.Pytester, source: Path) -> str:
    """Copy a tool into the pytester folder under its id; return the id."""
    tool_id = json.loads((source / "tool.json").read_text())["id"]
    target = pytester.path / tool_id
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("expected.txt", "options.json", "__pycache__"))
    if (target / "dot-env").exists():
        (target / "dot-env").rename(target / ".env")
    return tool_id


def expected_failures(source: Path) -> set[int]:
    lines = [line.strip() for line in (source / "expected.txt").read_text().splitlines() if line.strip()]
    return {int(line) for line in lines if ":" not in line}


def _tool_tests(pytester: pytest.Pytester, tool_id: str, code: str) -> None:
    (pytester.path / tool_id / "test_tool.py").write_text(code)


def _run_tool_tests(pytester: pytest.Pytester, tool_id: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(str(pytester.path / tool_id / "test_tool.py"))


def junit(path: Path) -> dict[str, str]:
    """JUnit test name -> outcome."""
    out: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = (
                    "xfailed" if "xfail" in (child.get("type") or "") + (child.get("message") or "") else "skipped"
                )
        out[f"{case.get('classname')}::{case.get('name')}"] = outcome  # classname: <folder>.tool.json.<tool-id>
    return out


def test_without_the_flag_nothing_is_collected(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    add_tool(pytester, EXAMPLES / "compound-interest")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_good_tool_passes_every_item(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    add_tool(pytester, EXAMPLES / "compound-interest")
    result = pytester.runpytest_subprocess("--pixie-conformance", "-v")
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and outcomes.get("failed", 0) == 0 and outcomes["passed"] >= 9
    result.stdout.fnmatch_lines(["*tool.json::compound-interest::06-spawns PASSED*",
                                 "*tool.json::compound-interest::11-clean-shutdown PASSED*"])  # fmt: skip


def test_each_bad_tool_fails_exactly_its_items_with_junit_names(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    ids = {case: add_tool(pytester, BAD / case) for case in RUNTIME_BAD}
    result = pytester.runpytest_subprocess(
        "--pixie-conformance", f"--junitxml={pytester.path / 'junit.xml'}", "-W", "default"
    )
    outcomes = junit(pytester.path / "junit.xml")
    for case, tool_id in ids.items():
        failed = {int(name.rsplit("::", 1)[1][:2]) for name, o in outcomes.items()
                  if name.split("::")[0].endswith(f".{tool_id}") and o == "failed"}  # fmt: skip
        if case == "06-spawns":  # nothing runs without a process: the spawn item fails, the rest skip
            assert failed == {6}
        else:
            assert failed == expected_failures(BAD / case), (case, failed)
    assert "sample-run.tool.json.sample-run::08-sample-run" in outcomes, sorted(outcomes)[:5]
    text = result.stdout.str()
    assert "reproduce: curl" in text and "fix:" in text


def test_warnings_become_pytest_warnings(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    add_tool(pytester, BAD / "07-schema-drift")
    result = pytester.runpytest_subprocess("--pixie-conformance", "-W", "default", "-k", "07-schema-drift")
    result.stdout.fnmatch_lines(["*PixieConformanceWarning*schema-drift*"])
    assert result.parseoutcomes()["passed"] == 1


def test_each_tools_own_validate_config_applies_under_the_command_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    tool_id = add_tool(pytester, BAD / "07-schema-drift")
    pyproject = pytester.path / tool_id / "pyproject.toml"
    base = pyproject.read_text()
    pyproject.write_text(base + '\n[tool.pixie.validate]\nstrict = true\nselect = ["schema-drift"]\n')
    strict = pytester.runpytest_subprocess("--pixie-conformance", "-v")
    # Check 7 (and the spawn it needs) only, and strict turns its warning into a failure.
    strict.assert_outcomes(passed=1, failed=1)
    strict.stdout.fnmatch_lines(["*::06-spawns PASSED*", "*::07-schema-drift FAILED*"])

    pyproject.write_text(base + '\n[tool.pixie.validate]\nselect = ["7", "8"]\nignore = {7 = "drift on purpose"}\n')
    ignored = pytester.runpytest_subprocess("--pixie-conformance", "-rs")
    ignored.assert_outcomes(passed=2, skipped=1)
    ignored.stdout.fnmatch_lines(["*ignored in pyproject.toml: drift on purpose*"])
    cli = pytester.runpytest_subprocess("--pixie-conformance", "--pixie-select", "8", "-v")
    cli.assert_outcomes(passed=2)  # the command line's selection wins over the tool's: 6 and 8, no 7
    assert "07-schema-drift" not in cli.stdout.str()

    pyproject.write_text(base + '\n[tool.pixie.validate]\nselect = ["no-such-check"]\n')
    bad = pytester.runpytest_subprocess("--pixie-conformance")
    bad.stdout.fnmatch_lines(["*pyproject.toml*tool.pixie.validate*no-such-check*"])
    assert bad.ret != 0


def test_k_selects_single_checks(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    add_tool(pytester, EXAMPLES / "compound-interest")
    result = pytester.runpytest_subprocess("--pixie-conformance", "-k", "compound-interest and 08-sample-run", "-v")
    result.assert_outcomes(passed=1, deselected=result.parseoutcomes()["deselected"])


def test_baseline_xfails_known_gaps_and_fails_stale_entries(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "pixie_conformance_xfail = 8 schema-drift\n")
    add_tool(pytester, BAD / "08-sample-run")
    add_tool(pytester, EXAMPLES / "compound-interest")
    result = pytester.runpytest_subprocess("--pixie-conformance", "-rxXf", "-W", "default")
    text = result.stdout.str()
    assert "known gap (pixie_conformance_xfail)" in text  # 08 of the bad tool
    assert "passes now: remove it from pixie_conformance_xfail (stale baseline)" in text  # 07 and 08 of the good one
    assert result.ret == 1


def test_baseline_from_a_file(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "pixie_conformance_xfail = known-gaps.txt\n")
    (pytester.path / "known-gaps.txt").write_text("8  # the sample run crashes on purpose\n")
    add_tool(pytester, BAD / "08-sample-run")
    result = pytester.runpytest_subprocess("--pixie-conformance", "-k", "08-sample-run", "-rx")
    result.assert_outcomes(xfailed=1, deselected=result.parseoutcomes()["deselected"])


def test_xdist_runs_one_tool_per_worker(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    add_tool(pytester, EXAMPLES / "compound-interest")
    add_tool(pytester, EXAMPLES / "bmi-fixtures")
    result = pytester.runpytest_subprocess("--pixie-conformance", "-n", "2", "--dist", "loadgroup")
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and outcomes["passed"] >= 14 and "failed" not in outcomes


def test_pixie_tool_fixture_in_three_lines(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    tool_id = add_tool(pytester, EXAMPLES / "compound-interest")
    _tool_tests(
        pytester,
        tool_id,
        "def test_grows(pixie_tool):\n"
        "    outputs = pixie_tool.run({'principal': 100, 'rate': 10, 'years': 1, 'compounding': 1})\n"
        "    assert round(outputs['final_value'], 2) == 110.0\n"
        "\n"
        "def test_refuses(pixie_tool):\n"
        "    import pytest\n"
        "    from pixie_validate.tool_client import RunFailed\n"
        "    with pytest.raises(RunFailed) as info:\n"
        "        pixie_tool.run({'principal': 'lots'})\n"
        "    assert info.value.status == 422 and 'curl' in str(info.value)\n"
        "    assert pixie_tool.schema()['id'] == 'compound-interest'\n",
    )
    _run_tool_tests(pytester, tool_id).assert_outcomes(passed=2)


def test_pixie_tool_run_of_a_streaming_tool_raises_when_its_stream_fails(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    tool_id = add_tool(pytester, EXAMPLES / "streaming-story")
    main = pytester.path / tool_id / "main.py"
    main.write_text(main.read_text().replace(
        '        ctx.progress(n / total, f"sentence {n} of {total}")',
        '        ctx.progress(n / total, f"sentence {n} of {total}")\n'
        '        if topic == "boom":\n'
        '            raise ToolError("the story fell apart")'))  # fmt: skip
    main.write_text(main.read_text().replace("import RunContext,", "import RunContext, ToolError,"))
    _tool_tests(
        pytester,
        tool_id,
        "import pytest\n"
        "from pixie_validate.tool_client import RunFailed\n"
        "\n"
        "def test_tells(pixie_tool):\n"
        "    outputs = pixie_tool.run({'topic': 'owls', 'sentences': 2, 'delay': 0})\n"
        "    assert outputs['story'].startswith('Once upon a time there was a owls') and outputs['progress'] == 1.0\n"
        "\n"
        "def test_fails(pixie_tool):\n"
        "    with pytest.raises(RunFailed) as info:\n"
        "        pixie_tool.run({'topic': 'boom', 'sentences': 3, 'delay': 0})\n"
        "    assert info.value.streamed is not None and info.value.streamed.status == 'error'\n"
        "    assert 'the story fell apart' in info.value.envelope.message()\n"
        "    assert 'the stream ended error' in str(info.value)\n",
    )
    _run_tool_tests(pytester, tool_id).assert_outcomes(passed=2)


def test_fuzz_failures_are_saved_for_replay(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    tool_id = add_tool(pytester, BAD / "16-fuzz")
    result = pytester.runpytest_subprocess("--pixie-conformance", "--pixie-fuzz", "-k", "16-fuzz")
    assert result.parseoutcomes()["failed"] == 1
    script = pytester.path / ".pixie" / "fuzz" / f"{tool_id}.sh"
    assert script.is_file() and "$PIXIE_TOOL_URL" in script.read_text() and "curl" in script.read_text()
    assert f"replay the failing requests: sh {script}" in result.stdout.str()
