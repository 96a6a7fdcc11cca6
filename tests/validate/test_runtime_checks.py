"""Runtime checks 6-11, 13-15, 17-19 against real tool processes: the examples, a hand-written foreign tool, and
one bad tool per check (tests/fixtures/tools/bad/NN-*, each with an expected.txt of the statuses it must get)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pixie_validate.checks import REGISTRY
from pixie_validate.checks.process import parse_importtime, spawn_hint
from pixie_validate.checks.runs import schema_diff
from pixie_validate.context import ValidateOptions
from pixie_validate.engine import run_checks
from pixie_validate.errors import ToolStartError
from pixie_validate.findings import Report

pytestmark = pytest.mark.subprocess

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tools"
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
#: The checks this file covers (the others have their own tests).
RUNTIME = (6, 7, 8, 9, 10, 11, 13, 14, 15, 17, 18, 19)
RUNTIME_BAD = sorted(
    p.name for p in (FIXTURES / "bad").iterdir() if p.name[:2].isdigit() and int(p.name[:2]) in RUNTIME
)
#: Example inputs whose default makes the sample run too slow for a unit test (slow-cancellable waits 30 s by
#: default; each runtime check that runs it again would wait as long). The tool's code is validated unchanged.

#: Something each bad tool's report must say about its own check (message or details).
SAYS = {
    "06-spawns": "missing module `pixie_not_installed_anywhere`",
    "07-schema-drift": "/inputs/0/required: tool.json true, /schema 1",
    "08-sample-run": "POST /run answered 500: the database is unavailable",
    "09-outputs-conform": "output `rows` (table) is missing",
    "10-streaming": "no terminal done event within 6 s",
    "11-clean-shutdown": "it had to be killed (SIGKILL)",
    "13-error-envelope": "gave 500 (text/plain), not a 4xx",
    "14-cancel": "ran to completion",
    "15-concurrency": "differs from the sequential reply in `total`",
    "17-loopback-only": "listens on 0.0.0.0:",
    "18-secrets": "the value of secret `API_TOKEN` appears in the sample run's outputs",
    "19-cold-start": "import pixie_sdk",
}


def copy_as_id(folder: Path, tmp_path: Path) -> Path:
    """Copy a fixture tool to a folder named by its id (check 3 wants them equal); ``dot-env`` becomes ``.env``."""
    target = tmp_path / str(json.loads((folder / "tool.json").read_text())["id"])
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("expected.txt", "options.json", "__pycache__"))
    if (target / "dot-env").exists():
        (target / "dot-env").rename(target / ".env")
    return target


def expectations(folder: Path) -> dict[int, str]:
    """``expected.txt``: one check per line, ``7`` (must fail) or ``warn: 7``."""
    out: dict[int, str] = {}
    for line in (folder / "expected.txt").read_text().splitlines():
        if line.strip():
            status, _, number = line.strip().rpartition(":")
            out[int(number)] = status.strip() or "fail"
    return out


def validate(folder: Path, **options: object) -> Report:
    report, _ = run_checks(folder, REGISTRY, ValidateOptions(select=[str(n) for n in RUNTIME], **options))
    return report


def statuses(report: Report) -> dict[int, str]:
    return {c.number: c.status for c in report.checks}


def text_of(report: Report, number: int) -> str:
    result = report.check(number)
    assert result is not None
    return result.message + "\n" + (result.details or "")


# --- real processes -------------------------------------------------------------------------------------------


def test_there_is_a_bad_tool_for_each_runtime_check() -> None:
    assert [int(name[:2]) for name in RUNTIME_BAD] == list(RUNTIME)
    assert set(SAYS) == set(RUNTIME_BAD)


@pytest.mark.parametrize("case", RUNTIME_BAD)
def test_bad_tool_gets_exactly_its_status(case: str, tmp_path: Path) -> None:
    source = FIXTURES / "bad" / case
    options = json.loads((source / "options.json").read_text()) if (source / "options.json").exists() else {}
    report = validate(copy_as_id(source, tmp_path), **options)
    expected = expectations(source)
    got = statuses(report)
    assert set(got) == set(RUNTIME)
    for number, status in got.items():
        want = expected.get(number, "pass or skip")
        assert status in want.split(" or "), (number, status, text_of(report, number))
    number = int(case[:2])
    assert SAYS[case] in text_of(report, number)
    assert report.overall == ("fail" if "fail" in expected.values() else "warn")
    if case == "06-spawns":  # a failed start gates every later check, and says how to fix it
        assert all(c.status == "skip" and "check 6" in c.message for c in report.checks if c.number != 6)
        result = report.check(6)
        assert result is not None and result.fix.startswith("Install `pixie_not_installed_anywhere`")
        assert report.spawn_log and "ModuleNotFoundError" in report.spawn_log
    if case == "07-schema-drift":  # 2 vs 2.0 is not drift
        assert "/inputs/0/default" not in text_of(report, 7)
    if case == "18-secrets":  # a missing required secret is named; a secret's value never is
        assert "required secret `BACKUP_TOKEN` is not set" in text_of(report, 18)
        assert "tok-7f3a9c2e51" not in report.model_dump_json()


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "tool.json").exists()))
def test_example_passes_the_runtime_checks(example: str) -> None:
    report = validate(EXAMPLES / example)
    # No warnings either: the examples are what the docs point tool authors at.
    assert report.overall == "pass", [(c.number, c.status, c.message) for c in report.checks if c.status != "pass"]
    assert report.time_to_ready_ms is not None and report.sample_output is not None


def test_foreign_tool_gets_warnings_at_most(tmp_path: Path) -> None:
    """A plain FastAPI tool with the habits of §9 is accepted: flat raw scalars, kv without pairs, `chunk` frames,
    204 from /cancel, 200 from /stream for any id, a text/plain 500 for a wrongly typed input."""
    report = validate(copy_as_id(FIXTURES / "good" / "foreign-tool", tmp_path))
    got = statuses(report)
    assert report.overall == "warn", got
    assert got == {
        6: "pass",
        7: "pass",
        8: "pass",
        9: "pass",
        10: "warn",
        11: "pass",
        13: "warn",
        14: "pass",
        15: "skip",
        17: "pass",
        18: "skip",
        19: "pass",
    }
    assert "legacy frame" in text_of(report, 10)
    assert "gave 500 (text/plain)" in text_of(report, 13)
    assert report.sample_output is not None and report.sample_output["story"].startswith("Once upon a time")


# --- pure helpers ---------------------------------------------------------------------------------------------


def test_schema_diff_is_semantic() -> None:
    disk = {"b": [1, {"x": True}], "a": 1}
    assert schema_diff(disk, {"a": 1.0, "b": [1.0, {"x": True}]}) == []
    assert schema_diff(disk, {"a": 1, "b": [1, {"x": 1}]}) == ["/b/1/x: tool.json true, /schema 1"]
    assert schema_diff(disk, {"a": 2, "b": [1, {"x": False}], "c": None}) == [
        "/a: tool.json 1, /schema 2",
        "/b/1/x: tool.json true, /schema false",
        "/c: only in /schema (null)",
    ]
    assert schema_diff(disk, {"b": [1]}) == [
        "/a: missing from /schema (tool.json 1)",
        '/b/1: missing from /schema (tool.json {"x": true})',
    ]


def test_spawn_hints() -> None:
    def hint(returncode: int | None, output: str, elapsed: float = 0.3) -> tuple[str | None, str | None]:
        error = ToolStartError("x", returncode=returncode, output=output, elapsed=elapsed)
        return spawn_hint(error, port=8123, has_venv=True)

    assert hint(0, "") == (
        "the entrypoint never starts a server",
        "Call serve(app) under if __name__ == '__main__' (or uvicorn.run(app, host='127.0.0.1', port=args.port))",
    )
    message, fix = hint(1, "Traceback...\nModuleNotFoundError: No module named 'scipy.optimize'\n")
    assert message == "missing module `scipy.optimize`" and fix is not None and "`scipy`" in fix and ".venv" in fix
    message, _ = hint(None, "INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)")
    assert message == "it listens on port 8000, not on the --port 8123 it was given"
    message, fix = hint(2, "usage: main.py [-h]\nmain.py: error: unrecognized arguments: --port 8123")
    assert message == "it rejected its command line" and fix is not None and "--port N" in fix
    assert (
        hint(None, "", elapsed=0.0)[1]
        == "Point --python at a working interpreter, or build the tool's .venv with `uv sync`"
    )
    assert hint(1, "some other crash") == (None, None)


def test_parse_importtime_keeps_top_level_imports_after_start_up() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      5096 |       6663 | encodings",
            "import time:       184 |      11994 | runpy",
            "import time:       614 |        614 | __future__",
            "import time:      3000 |    1500000 |   numpy.core",
            "import time:      1121 |    2065492 | numpy",
            "import time:       200 |      23000 | pkgutil",
            "import time:       500 |      90000 | json",
        ]
    )
    assert [(c.module, c.cumulative_us) for c in parse_importtime(stderr)] == [
        ("numpy", 2065492),
        ("json", 90000),
        ("__future__", 614),
    ]
