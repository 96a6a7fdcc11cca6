"""pixie-validate's command line: exit codes, formats, eager options."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pixie_validate.cli import app
from pixie_validate.findings import Report

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "compound-interest"
BAD = ROOT / "tests" / "fixtures" / "tools" / "bad"
STATIC = ["--select", "1", "--select", "2", "--select", "3", "--select", "4", "--select", "5"]
runner = CliRunner()


def test_json_report_parses_back(tmp_path: Path) -> None:
    result = runner.invoke(app, [str(EXAMPLE), *STATIC, "--json"])
    assert result.exit_code == 0, result.output
    report = Report.model_validate_json(result.stdout)
    assert report.tool_id == "compound-interest" and report.overall == "pass"
    assert [c.number for c in report.checks] == [1, 2, 3, 4, 5]


def test_a_failing_check_exits_1(tmp_path: Path) -> None:
    target = tmp_path / "folder-structure"
    shutil.copytree(BAD / "01-folder-structure", target)
    result = runner.invoke(app, [str(target), "--format", "json"])
    assert result.exit_code == 1
    assert Report.model_validate_json(result.stdout).check(1).status == "fail"  # type: ignore[union-attr]


def test_usage_errors_exit_2() -> None:
    result = runner.invoke(app, [str(EXAMPLE), "--select", "schema-drfit"])
    assert result.exit_code == 2 and "did you mean schema-drift" in result.output
    assert runner.invoke(app, [str(EXAMPLE), "--format", "xml"]).exit_code == 2


def test_missing_tool_exits_3_with_json_error_on_stderr(tmp_path: Path) -> None:
    result = runner.invoke(app, [str(tmp_path / "nope"), "--json"])
    assert result.exit_code == 3
    error = json.loads(result.stderr)
    assert error["status"] == "error" and "does not exist" in error["message"]
    assert result.stdout == ""


def test_rich_output_has_one_line_per_check_and_a_fix_line(tmp_path: Path) -> None:
    target = tmp_path / "pyproject"
    shutil.copytree(BAD / "04-pyproject", target)
    result = runner.invoke(app, [str(target), *STATIC])
    out = result.stdout
    assert "04 pyproject error" in out and "fix: List the tool's dependencies" in out
    assert "05 interpreter" in out and "skipped: check 4 (pyproject) failed" in out
    assert "FAIL" in out


def test_github_format_annotates_failures(tmp_path: Path) -> None:
    target = tmp_path / "pyproject"
    shutil.copytree(BAD / "04-pyproject", target)
    result = runner.invoke(app, [str(target), *STATIC, "--format", "github"])
    assert result.stdout.startswith("::error file=") and "title=04 pyproject" in result.stdout


def test_a_folder_of_tools_sums_its_reports() -> None:
    result = runner.invoke(app, [str(ROOT / "examples"), *STATIC, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["tools"] == len(body["reports"]) >= 6 and body["overall"] == "pass"


def test_list_and_explain() -> None:
    listing = runner.invoke(app, ["--list-checks"])
    assert listing.exit_code == 0 and "schema-drift" in listing.stdout and "portability" in listing.stdout
    explain = runner.invoke(app, ["--explain", "7"])
    assert explain.exit_code == 0 and "schema-drift" in explain.stdout and "Why it matters" in explain.stdout
    assert runner.invoke(app, ["--explain", "99"]).exit_code == 2


def test_pyproject_config_ignores_with_a_reason(tmp_path: Path) -> None:
    target = tmp_path / "compound-interest"
    shutil.copytree(EXAMPLE, target)
    with (target / "pyproject.toml").open("a") as f:
        f.write('\n[tool.pixie.validate]\nignore = {"4" = "we vendor our deps"}\n')
    result = runner.invoke(app, [str(target), *STATIC, "--json"])
    check4 = Report.model_validate_json(result.stdout).check(4)
    assert check4 is not None and check4.status == "skip" and "we vendor our deps" in check4.message


@pytest.mark.subprocess
def test_installed_script_runs() -> None:
    proc = subprocess.run([Path(sys.executable).parent / "pixie-validate", str(EXAMPLE), *STATIC, "--json"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["overall"] == "pass"
