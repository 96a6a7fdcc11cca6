"""Static checks 1-5 against the bad tools of tests/fixtures/tools/bad/0N-*, and the examples (which pass)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pixie_validate.checks import REGISTRY
from pixie_validate.context import ValidateOptions
from pixie_validate.engine import run_checks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tools"
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
STATIC = ["1", "2", "3", "4", "5"]
STATIC_BAD = sorted(p.name for p in (FIXTURES / "bad").iterdir() if p.name[:2] in {"01", "02", "03", "04", "05"})


def copy_as_id(folder: Path, tmp_path: Path) -> Path:
    """Copy a fixture tool to a folder named by its id (so check 3's id-vs-folder rule holds)."""
    try:
        tool_id = json.loads((folder / "tool.json").read_text())["id"]
    except (OSError, ValueError, KeyError, TypeError):
        tool_id = folder.name
    target = tmp_path / tool_id
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("expected.txt", "options.json"))
    return target


def expectations(folder: Path) -> dict[int, str]:
    out: dict[int, str] = {}
    for line in (folder / "expected.txt").read_text().splitlines():
        line = line.strip()
        if line:
            status, _, number = line.rpartition(":")
            out[int(number)] = status.strip() or "fail"
    return out


def test_there_is_a_bad_tool_for_each_static_check() -> None:
    assert [name[:2] for name in STATIC_BAD] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("case", STATIC_BAD)
def test_bad_tool_fails_exactly_its_check(case: str, tmp_path: Path) -> None:
    source = FIXTURES / "bad" / case
    options = json.loads((source / "options.json").read_text()) if (source / "options.json").exists() else {}
    report, _ = run_checks(copy_as_id(source, tmp_path), REGISTRY, ValidateOptions(select=STATIC, **options))
    statuses = {c.number: c.status for c in report.checks}
    for number, status in expectations(source).items():
        assert statuses[number] == status, report.check(number)
    failed = {n for n, s in statuses.items() if s == "fail"}
    assert failed == {n for n, s in expectations(source).items() if s == "fail"}
    assert report.overall == "fail"
    # gated: everything after the first failure is skipped, naming why
    first = min(failed)
    for c in report.checks:
        if c.number > first:
            assert c.status == "skip" and f"check {first}" in c.message


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "tool.json").exists()))
def test_examples_pass_the_static_checks(example: str) -> None:
    report, _ = run_checks(EXAMPLES / example, REGISTRY, ValidateOptions(select=STATIC))
    assert [c.status for c in report.checks] == ["pass"] * 5, [(c.number, c.message) for c in report.checks]


def test_messages_name_the_problem(tmp_path: Path) -> None:
    def message(case: str, number: int, **options: object) -> str:
        target = tmp_path / case
        folder = next(target.iterdir()) if target.exists() else copy_as_id(FIXTURES / "bad" / case, target)
        report, _ = run_checks(folder, REGISTRY, ValidateOptions(select=STATIC, **options))
        result = report.check(number)
        assert result is not None
        return result.message + "\n" + (result.details or "")

    assert "`pyproject.toml` is missing" in message("01-folder-structure", 1)
    assert "`main.py` is missing" in message("01-folder-structure", 1)
    assert "input `rate`" in message("02-manifest-parses", 2) and "did you mean `number`" in message(
        "02-manifest-parses", 2)  # fmt: skip
    assert "duplicate input key" in message("03-manifest-coherent", 3)
    text = message("04-pyproject", 4)
    assert "lack fastapi and uvicorn" in text and "does not come from a package index" in text
    assert "/nonexistent/bin/python3" in message("05-interpreter", 5, python="/nonexistent/bin/python3")


def test_id_differing_from_folder_is_only_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "some-other-name"
    shutil.copytree(EXAMPLES / "compound-interest", target)
    report, _ = run_checks(target, REGISTRY, ValidateOptions(select=STATIC))
    check3 = report.check(3)
    assert check3 is not None and check3.status == "warn" and "differs from the folder name" in check3.message
    assert report.overall == "warn"
    strict, _ = run_checks(target, REGISTRY, ValidateOptions(select=STATIC, strict=True))
    assert strict.overall == "fail"


def test_a_crashing_check_becomes_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pixie_validate.checks.static as static

    def boom(_ctx: object) -> object:
        raise RuntimeError("kaboom")

    spec = REGISTRY.get(4)  # specs are frozen: swap the registry entry for a crashing copy
    patched = type(spec)(**{**{f: getattr(spec, f) for f in spec.__dataclass_fields__}, "fn": boom})
    monkeypatch.setitem(REGISTRY._by_number, 4, patched)
    report, _ = run_checks(EXAMPLES / "compound-interest", REGISTRY, ValidateOptions(select=STATIC))
    check4 = report.check(4)
    assert check4 is not None and check4.status == "fail" and "kaboom" in check4.message
    assert "Traceback" in (check4.details or "")
    assert report.check(5) is not None and report.check(5).status == "skip"  # type: ignore[union-attr]
    assert static.pyproject.__pixie_check__.number == 4  # type: ignore[attr-defined]
