"""Check 16 (fuzz, opt-in): schemathesis against real tool processes, with a hand-built CheckContext."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pixie_sdk.manifest import load_manifest
from pixie_validate.checks import REGISTRY, fuzz as fuzz_module
from pixie_validate.checks._gates import SAMPLED
from pixie_validate.checks.fuzz import edge_inputs, fuzz
from pixie_validate.client import ContractClient
from pixie_validate.context import CheckContext, ValidateOptions
from pixie_validate.engine import run_checks
from pixie_validate.findings import Finding
from tests.conftest import RunningTool, start_tool

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
BAD = ROOT / "tests" / "fixtures" / "tools" / "bad" / "16-fuzz"
#: Enough to find the bad tool's crash and to exercise a good tool, small enough to stay quick.
EXAMPLES_PER_RUN = 30


def run_fuzz(folder: Path, url: str, examples: int = EXAMPLES_PER_RUN) -> list[Finding]:
    ctx = CheckContext(folder, ValidateOptions(fuzz=True, fuzz_examples=examples))
    ctx.manifest = load_manifest(folder)
    ctx.client = ContractClient(url)
    ctx.spec = REGISTRY.get(16)
    try:
        return list(fuzz(ctx))
    finally:
        ctx.client.close()


def replay(curl: str) -> httpx.Response:
    """Send the request a finding's curl command describes."""
    words = shlex.split(curl)
    headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
    body = words[words.index("--data") + 1]
    return httpx.post(words[-1], content=body, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def bad_tool() -> Iterator[RunningTool]:
    tool = start_tool(BAD)
    yield tool
    tool.stop()


def test_the_check_is_registered_opt_in() -> None:
    spec = REGISTRY.get(16)
    assert (spec.name, spec.severity, spec.kind, spec.opt_in, spec.requires) == (
        "fuzz", "error", "runtime", True, SAMPLED)  # fmt: skip
    for section in ("What it checks", "Why it matters", "How to fix"):
        assert section in spec.docs
    assert REGISTRY.select() == [s for s in REGISTRY.select() if s.number != 16]  # not run unless asked
    assert 16 in {s.number for s in REGISTRY.select(opt_in=[16])}


def test_edges_are_bounds_and_options() -> None:
    manifest = load_manifest(EXAMPLES / "compound-interest")
    defaults = {"principal": 10000, "rate": 5, "years": 10, "compounding": 12}
    moved = [{k: v for k, v in e.items() if v != defaults[k]} for e in edge_inputs(manifest)]
    assert moved == [{"principal": 0}, {"principal": 1000000000}, {"rate": 0}, {"rate": 20}, {"years": 1},
                     {"years": 100}, {"compounding": 1}, {"compounding": 4}]  # fmt: skip


def test_without_schemathesis_it_says_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "schemathesis", None)  # makes `import schemathesis` raise ImportError
    findings = run_fuzz(BAD, "http://127.0.0.1:9")
    assert len(findings) == 1 and findings[0].severity == "error"
    assert "schemathesis is not installed" in findings[0].message
    assert findings[0].fix is not None and findings[0].fix.startswith("Install schemathesis")


@pytest.mark.subprocess
def test_a_crash_on_an_allowed_input_fails_with_a_request_to_reproduce(bad_tool: RunningTool) -> None:
    findings = run_fuzz(BAD, bad_tool.url)
    errors = [f for f in findings if f.severity == "error"]
    assert len(errors) == 1, findings  # one kind of failure, however many runs hit it
    error = errors[0]
    assert error.message.startswith("POST /run answered 500 to inputs tool.json allows")
    assert "ZeroDivisionError" in error.message
    assert error.details is not None and error.details.startswith(f"sent {EXAMPLES_PER_RUN} generated runs")
    assert error.request is not None and error.request.startswith("curl ")
    words = shlex.split(error.request)
    assert json.loads(words[words.index("--data") + 1])["inputs"]["hours"] == 0
    again = replay(error.request)
    assert again.status_code == 500 and "ZeroDivisionError" in again.json()["detail"]
    assert error.fix is not None and error.fix.startswith("Handle this input")


@pytest.mark.subprocess
def test_the_run_is_bounded_in_time(bad_tool: RunningTool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fuzz_module, "MAX_FUZZ_SECONDS", 0.0)
    findings = run_fuzz(BAD, bad_tool.url)
    assert [(f.severity, f.message) for f in findings] == [("info", "sent 0 generated runs; stopped after 0 s")]


@pytest.mark.subprocess
def test_a_correct_tool_passes(spawn: Any, tmp_path: Path) -> None:
    """compound-interest with a bounded deposit: 30 generated runs, all answered by the contract."""
    folder = tmp_path / "compound-interest"
    shutil.copytree(EXAMPLES / "compound-interest", folder)
    manifest = json.loads((folder / "tool.json").read_text())
    manifest["inputs"][0]["max"] = 1e9
    (folder / "tool.json").write_text(json.dumps(manifest))
    findings = run_fuzz(folder, spawn(folder).url)
    assert [f.severity for f in findings] == ["info"], findings
    assert findings[0].message.startswith(f"sent {EXAMPLES_PER_RUN} generated runs (")


@pytest.mark.subprocess
def test_the_compound_interest_example_passes(spawn: Any) -> None:
    findings = run_fuzz(EXAMPLES / "compound-interest", spawn(EXAMPLES / "compound-interest").url)
    assert [f.severity for f in findings] == ["info"], [f.message for f in findings]


@pytest.mark.subprocess
def test_expected_txt_through_the_engine(tmp_path: Path) -> None:
    """expected.txt says `16`: with --fuzz, check 16 fails and everything it needs (1-8) passes."""
    assert (BAD / "expected.txt").read_text().split() == ["16"]
    folder = tmp_path / json.loads((BAD / "tool.json").read_text())["id"]
    shutil.copytree(BAD, folder, ignore=shutil.ignore_patterns("expected.txt", "__pycache__"))
    report, _ = run_checks(folder, REGISTRY, ValidateOptions(select=["16"], fuzz=True, fuzz_examples=10))
    result = report.check(16)
    assert result is not None and result.status == "fail", result
    assert "reproduce: curl" in (result.details or "")
    assert report.overall == "fail"


@pytest.mark.subprocess
def test_a_schema_the_fuzzer_cannot_use_is_a_warning_not_the_tools_fault(
    bad_tool: RunningTool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> list[object]:
        raise RuntimeError("cannot read this response schema")

    monkeypatch.setattr(fuzz_module, "_validate", broken)
    findings = run_fuzz(BAD, bad_tool.url, examples=3)
    assert [f.severity for f in findings] == ["warning"]
    assert "could not use the schema derived from tool.json: RuntimeError" in findings[0].message
    assert findings[0].fix is not None and findings[0].fix.startswith("Report this as a bug")
