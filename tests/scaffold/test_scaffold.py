"""The cookiecutter-tool template and ``pixie new``: every shape passes everything as soon as it is made.

Each shape is rendered with cookiecutter's own API, then checked the three ways a tool author
would: ``pixie-validate --strict`` (zero warnings), the tool's own ``pytest`` (its tests and the
conformance items), and one run through a real ``pixie run`` host.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from typer.testing import CliRunner

from pixie_host import scaffold
from pixie_host.cli import app
from pixie_sdk.manifest import ID_PATTERN, load_manifest
from pixie_sdk.schema import SCHEMA_FILE, SCHEMA_ID
from tests.host.conftest import HostProcess
from tests.scaffold.conftest import cookiecutter_config

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "cookiecutter-tool"
SHAPES = ["form", "streaming", "file"]
#: Every file a generated tool has (with fixtures).
FILES = {".gitignore", "README.md", "handler.py", "main.py", "pyproject.toml", "reference/fixture_basic.json",
         "tests/test_tool.py", "tool.json"}  # fmt: skip
#: The kit's dev plugins a tool's own environment (pixie-toolkit and pytest) lacks: off, as there (and faster).
TOOL_ENV_ONLY = ["-p", "no:xdist", "-p", "no:hypothesispytest", "-p", "no:schemathesis", "-p", "no:timeout"]
#: Bound for a validator or pytest subprocess; each takes a few seconds.
SUBPROCESS_TIMEOUT_SECONDS = 120

runner = CliRunner()


def render(output_dir: Path, config_file: Path | None = None, template: Path = TEMPLATE, **answers: Any) -> Path:
    """The template rendered with cookiecutter's API and these answers, without prompts."""
    made = cookiecutter(
        str(template),
        no_input=True,
        extra_context=answers,
        output_dir=str(output_dir),
        config_file=str(config_file) if config_file else None,
    )
    return Path(made)


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative POSIX path -> bytes), caches left out."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def clean_env() -> dict[str, str]:
    """This process's environment without pytest's and the kit's variables, for a tool author's own commands."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PIXIE_"))}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tool per shape, rendered once per module (and per xdist worker)."""
    base = tmp_path_factory.mktemp("rendered")
    config = cookiecutter_config(base / "cookiecutter-home")
    return {shape: render(base, config, tool_name=f"Sample {shape} tool", shape=shape) for shape in SHAPES}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_has_the_promised_files(rendered: dict[str, Path], shape: str) -> None:
    folder = rendered[shape]
    assert folder.name == f"sample-{shape}-tool"
    assert set(files_of(folder)) == FILES
    manifest = json.loads((folder / "tool.json").read_text())
    assert manifest["$schema"] == SCHEMA_FILE.resolve().as_uri()  # the post-gen hook found the kit's schema
    assert manifest["id"] == folder.name and manifest["name"] == f"Sample {shape} tool"
    load_manifest(folder)  # parses and is coherent
    assert any(o.get("streaming") for o in manifest["outputs"]) is (shape == "streaming")
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    assert project["name"] == folder.name and any(d.startswith("pixie-toolkit") for d in project["dependencies"])
    assert "make_tool_app(__file__, run)" in (folder / "main.py").read_text()
    assert "def run(" in (folder / "handler.py").read_text()
    assert "pixie_tool" in (folder / "tests" / "test_tool.py").read_text()
    assert {".venv/", ".env"} <= set((folder / ".gitignore").read_text().split())
    readme = (folder / "README.md").read_text()
    assert all(command in readme for command in ("pixie run .", "pixie-validate . --strict", "pytest"))
    fixture = json.loads((folder / "reference" / "fixture_basic.json").read_text())
    assert set(fixture["expected_outputs"]) <= {o["key"] for o in manifest["outputs"]}


@pytest.mark.subprocess
@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_passes_validate_strict_with_no_warning(rendered: dict[str, Path], shape: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pixie_validate", str(rendered[shape]), "--strict", "--json"],
        capture_output=True, text=True, env=clean_env(), timeout=SUBPROCESS_TIMEOUT_SECONDS,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["overall"] == "pass" and report["counts"]["warn"] == 0 and report["counts"]["fail"] == 0
    status = {c["number"]: c["status"] for c in report["checks"]}
    assert status[12] == "pass"  # the reference fixture ran and matched
    assert status[10] == ("pass" if shape == "streaming" else "skip")


@pytest.mark.subprocess
@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_passes_its_own_tests_and_the_conformance_items(rendered: dict[str, Path], shape: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TOOL_ENV_ONLY, "--pixie-conformance"],
        cwd=rendered[shape], capture_output=True, text=True, env=clean_env(), timeout=SUBPROCESS_TIMEOUT_SECONDS,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None and int(passed.group(1)) >= 12, summary  # 3 own tests and the runtime checks
    assert "failed" not in summary and "warning" not in summary and "error" not in summary, summary


@pytest.mark.subprocess
@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_runs_in_the_host(rendered: dict[str, Path], shape: str, hosts: Callable[..., HostProcess]) -> None:
    folder = rendered[shape]
    fixture = json.loads((folder / "reference" / "fixture_basic.json").read_text())
    host = hosts([folder], command="run")
    reply = host.run(folder.name, fixture["inputs"])
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["status"] == "ok" and result["error"] is None, result
    for key, expected in fixture["expected_outputs"].items():
        got = result["outputs"][key]
        assert (got["rows"] if key == "columns" else got) == (expected["rows"] if key == "columns" else expected)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_is_lint_clean_under_its_own_ruff_settings(rendered: dict[str, Path], shape: str) -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.is_file():
        pytest.skip("ruff is not installed beside this interpreter (the dev extra installs it)")
    for command in (["check", "--extend-select", "E,F,I,B,UP,SIM,C4"], ["format", "--check"]):
        done = subprocess.run([str(ruff), *command, "--no-cache", "."], cwd=rendered[shape], capture_output=True,
                              text=True, timeout=SUBPROCESS_TIMEOUT_SECONDS)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_bad_id_is_refused_by_the_hook_with_a_readable_message(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FailedHookException):
        render(tmp_path, tool_name="My tool", tool_id="My_Tool")
    err = capfd.readouterr().err
    assert "error: tool_id `My_Tool` is not a valid Pixie tool id: use lowercase letters, digits and dashes" in err
    assert "Try `my-tool`" in err
    assert not (tmp_path / "My_Tool").exists()  # cookiecutter removed the half-made folder


def test_an_id_derived_from_a_name_starting_with_a_digit_is_refused_with_a_fix(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FailedHookException):
        render(tmp_path / "out", tool_name="3D viewer")
    err = capfd.readouterr().err
    assert "tool_id `3d-viewer` is not a valid Pixie tool id" in err and "tool_id=tool-3d-viewer" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_the_hook_checks_the_contracts_id_rule() -> None:
    hook = (TEMPLATE / "hooks" / "pre_gen_project.py").read_text()
    found = re.search(r'^ID_PATTERN = r"(.+)"$', hook, re.MULTILINE)
    assert found is not None and found.group(1) == ID_PATTERN


def test_a_cookiecutter_without_the_kit_keeps_the_stable_schema_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hooks run under sys.executable; `-S` leaves site-packages out, so pixie_sdk cannot be imported there.
    bare = tmp_path / "python-without-site-packages"
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    bare.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bare))
    folder = render(tmp_path / "out", tool_name="Elsewhere")  # the hooks need nothing but the standard library
    stable = json.loads((TEMPLATE / "cookiecutter.json").read_text())["_schema_url"]
    assert json.loads((folder / "tool.json").read_text())["$schema"] == stable
    assert stable == SCHEMA_ID  # the schema's own $id


def test_without_fixtures_there_is_no_reference_folder(tmp_path: Path) -> None:
    folder = render(tmp_path, tool_name="Bare", include_fixtures=False)
    assert set(files_of(folder)) == FILES - {"reference/fixture_basic.json"}
    readme = (folder / "README.md").read_text()
    assert "| `reference/` |" not in readme and "--new-fixture basic" in readme


def test_quotes_backslashes_and_accents_in_answers_keep_every_file_valid(tmp_path: Path) -> None:
    name, description = 'Café "Ledger" \\ tool', 'Adds up "it\'s" and \\n, for the café.'
    for shape in SHAPES:
        folder = render(tmp_path / shape, tool_name=name, tool_id="ledger", description=description, shape=shape,
                        category="finance/café")  # fmt: skip
        manifest = json.loads((folder / "tool.json").read_text(encoding="utf-8"))
        assert (manifest["name"], manifest["description"], manifest["category"]) == (name, description, "finance/café")
        assert tomllib.loads((folder / "pyproject.toml").read_text())["project"]["description"] == description
        for source in ("main.py", "handler.py", "tests/test_tool.py"):
            compile((folder / source).read_text(), source, "exec")  # no SyntaxError, no SyntaxWarning
        assert name in (folder / "README.md").read_text()


@pytest.mark.subprocess
def test_pixie_new_gives_the_same_files_as_cookiecutter(tmp_path: Path, isolated_cookiecutter: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pixie_host", "new", "loan-calculator", "--shape", "file", "--no-input", "--json",
         "-o", str(tmp_path / "by-pixie-new")],
        capture_output=True, text=True, env=clean_env() | {"COOKIECUTTER_CONFIG": str(isolated_cookiecutter)},
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "ok" and result["tool_id"] == "loan-calculator"
    assert Path(result["template"]) == TEMPLATE
    by_cookiecutter = render(tmp_path / "by-cookiecutter", tool_name="Loan calculator", shape="file")
    assert files_of(Path(result["path"])) == files_of(by_cookiecutter)


def test_pixie_new_refuses_a_bad_id_and_an_existing_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    bad = runner.invoke(app, ["new", "Loan calculator", "--id", "Loans/2", "--no-input", "-o", str(out)])
    assert bad.exit_code == 2
    assert "tool id `Loans/2` is not a valid Pixie tool id" in bad.stderr and "--id loans-2" in bad.stderr
    assert not out.exists()
    (out / "loans").mkdir(parents=True)
    taken = runner.invoke(app, ["new", "loans", "--no-input", "--json", "-o", str(out)])
    assert taken.exit_code == 2 and "already exists" in json.loads(taken.stderr)["message"]


def test_pixie_new_names_and_ids() -> None:
    assert scaffold.tool_identity("loan-calculator") == ("Loan calculator", "loan-calculator")
    assert scaffold.tool_identity("Loan calculator") == ("Loan calculator", None)
    assert scaffold.tool_identity("Loans", "my-loans") == ("Loans", "my-loans")
    assert scaffold.id_problem("loans") is None
    assert scaffold.suggest_id("3D viewer") == "tool-3d-viewer"


def test_the_template_is_found_in_the_package_first_then_at_the_repo_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged, repo = scaffold.template_candidates()
    assert packaged == ROOT / "pixie_host" / "_template" and repo == TEMPLATE
    assert scaffold.find_template() == TEMPLATE  # a checkout has no packaged copy
    # An installed wheel: the template force-included next to the module, and no repository around it.
    installed = tmp_path / "site-packages" / "pixie_host"
    shutil.copytree(TEMPLATE, installed / "_template", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(scaffold, "__file__", str(installed / "scaffold.py"))
    assert scaffold.find_template() == installed / "_template"
    folder = scaffold.render_tool(tmp_path / "out", name="From the wheel", shape="streaming")
    assert files_of(folder) == files_of(render(tmp_path / "again", tool_name="From the wheel", shape="streaming"))
    with pytest.raises(scaffold.TemplateNotFound, match="no cookiecutter template"):
        scaffold.find_template(tmp_path / "nowhere")
