"""Check 20 (portability): vendor rules as data, judged on pixie_sdk.json_schema's schemas; findings are info only."""

from __future__ import annotations

import inspect
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pixie_sdk.manifest import ToolManifest, load_manifest, parse_manifest
from pixie_validate.checks import REGISTRY
from pixie_validate.checks.portability import RULES, judge, portability
from pixie_validate.context import CheckContext, ValidateOptions
from pixie_validate.engine import run_checks
from pixie_validate.findings import Finding

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
BAD = ROOT / "tests" / "fixtures" / "tools" / "bad" / "20-portability"


def manifest_of(*inputs: dict[str, Any], tool_id: str = "t") -> ToolManifest:
    return parse_manifest(
        {"id": tool_id, "name": "T", "inputs": list(inputs), "outputs": [{"key": "o", "type": "text", "label": "O"}]}
    )


def broken(manifest: ToolManifest) -> set[tuple[str, str | None]]:
    return {(v.rule.id, v.key) for v in judge(manifest)}


def run_check(folder: Path) -> list[Finding]:
    ctx = CheckContext(folder, ValidateOptions())
    ctx.manifest = load_manifest(folder)
    ctx.spec = REGISTRY.get(20)
    return list(portability(ctx))


def test_the_check_is_registered_as_an_info_static_check() -> None:
    spec = REGISTRY.get(20)
    assert (spec.name, spec.severity, spec.kind, spec.requires) == ("portability", "info", "static", (1, 2, 3, 4, 5, 6))
    for section in ("What it checks", "Why it matters", "How to fix"):
        assert section in spec.docs
    assert spec.fix.split()[0] == "Rename"


def test_rules_are_data_with_a_source_and_a_verb_first_fix() -> None:
    assert len(RULES) == len({r.id for r in RULES.values()})
    for rule in RULES.values():
        assert rule.vendor in ("OpenAI strict", "Gemini", "MCP"), rule.id
        assert rule.source and rule.says, rule.id
        first = rule.fix.split()[0]
        assert first[0].isupper() and not first.endswith(("ed", "ing")), rule.id


def test_what_the_kit_generates_fits_every_vendor() -> None:
    """Only author choices are reported: kitchen-sink's int options (Gemini) and its json schema's optional key."""
    assert broken(load_manifest(EXAMPLES / "kitchen-sink")) == {
        ("openai-all-required", "json"),
        ("gemini-enum-strings", "size"),
    }
    assert broken(load_manifest(EXAMPLES / "compound-interest")) == {("gemini-enum-strings", "compounding")}
    assert broken(load_manifest(EXAMPLES / "streaming-story")) == set()


def test_input_keys_are_judged_per_vendor() -> None:
    found = broken(
        manifest_of(
            {"key": "unit-price", "type": "number", "label": "A"},  # MCP yes, Gemini no
            {"key": "rate (%)", "type": "number", "label": "B"},  # neither
            {"key": "x" * 65, "type": "number", "label": "C"},  # too long for both
            {"key": "ok_key", "type": "number", "label": "D"},
        )
    )
    assert found == {
        ("gemini-property-name", "unit-price"),
        ("gemini-property-name", "rate (%)"),
        ("mcp-property-key", "rate (%)"),
        ("gemini-property-name", "x" * 65),
        ("mcp-property-key", "x" * 65),
    }


def test_json_input_schemas_are_judged_deeply() -> None:
    kids = {"type": "array", "items": {"$ref": "#/$defs/node"}}
    found = judge(
        manifest_of(
            {"key": "tree", "type": "json", "label": "T",
             "schema": {"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {"kids": kids}}}}},
            {"key": "pick", "type": "json", "label": "P",
             "schema": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
            {"key": "kind", "type": "json", "label": "K", "schema": {"const": "a"}},
            {"key": "map", "type": "json", "label": "M",
             "schema": {"type": "object", "additionalProperties": {"type": "number"}}},
            {"key": "any", "type": "json", "label": "A"},
            {"key": "rows", "type": "table", "label": "R", "columns": [{"key": "unit price", "label": "Unit price"}]},
            {"key": "when", "type": "json", "label": "W",
             "schema": {"type": "string", "format": "uri", "minLength": 1}},
        )
    )  # fmt: skip
    ids = {(v.rule.id, v.key) for v in found}
    assert {("gemini-ref", "tree"), ("openai-closed-objects", "tree")} <= ids
    assert {("gemini-composition", "pick"), ("openai-keyword", "pick")} <= ids
    assert ("gemini-const", "kind") in ids
    assert {("gemini-map", "map"), ("openai-closed-objects", "map")} <= ids
    assert {("openai-no-type", "any"), ("gemini-no-type", "any")} <= ids
    assert ("gemini-property-name", "rows") in ids  # a column key, nested in the row objects
    assert {("openai-format", "when"), ("openai-keyword", "when")} <= ids
    pick = next(v for v in found if v.rule.id == "openai-keyword" and v.key == "pick")
    assert "`oneOf` (only anyOf is supported)" in pick.detail
    when = next(v for v in found if v.rule.id == "openai-keyword" and v.key == "when")
    assert "`minLength`" in when.detail


def test_option_types_and_limits() -> None:
    mixed = manifest_of(
        {
            "key": "m",
            "type": "select",
            "label": "M",
            "options": [{"value": "a", "label": "A"}, {"value": 1, "label": "B"}],
        }
    )
    assert {("gemini-type-union", "m"), ("gemini-enum-strings", "m")} <= broken(mixed)
    many = [{"value": f"v{i}", "label": str(i)} for i in range(600)]
    big = manifest_of(
        {"key": "a", "type": "select", "label": "A", "options": many},
        {"key": "b", "type": "select", "label": "B", "options": many},
    )
    limits = [v for v in judge(big) if v.rule.id == "openai-limits"]
    assert [v.detail for v in limits] == ["1200 enum values, over 1000"]
    assert broken(manifest_of(tool_id="a" * 64)) == set()  # the id pattern keeps names inside every vendor's rule


def test_the_bad_tool_gets_info_findings_naming_key_and_rule() -> None:
    findings = run_check(BAD)
    assert findings and {f.severity for f in findings} == {"info"}
    messages = [f.message for f in findings]
    assert "input `scale (%)` is not a Gemini parameter name" in "\n".join(messages)
    assert any(m.startswith("input `scale (%)` is not a key MCP clients") for m in messages)
    assert any(m.startswith("input `shape` uses oneOf/allOf/not/if") and m.endswith("(Gemini)") for m in messages)
    oneof = next(f for f in findings if "outside the strict subset" in f.message)
    assert "`oneOf` (only anyOf is supported)" in (oneof.details or "")
    assert "rule source: https://platform.openai.com/docs/guides/structured-outputs" in (oneof.details or "")
    assert all(f.fix and f.fix[0].isupper() for f in findings)


def test_examples_pass_with_at_most_notes() -> None:
    for folder in sorted(p for p in EXAMPLES.iterdir() if (p / "tool.json").exists()):
        assert {f.severity for f in run_check(folder)} <= {"info"}, folder.name


@pytest.mark.subprocess
def test_expected_txt_through_the_engine(tmp_path: Path) -> None:
    """expected.txt says `info: 20`: check 20 passes (info never fails) with at least one info finding."""
    assert (BAD / "expected.txt").read_text().split() == ["info:", "20"]
    tool_id = json.loads((BAD / "tool.json").read_text())["id"]
    folder = tmp_path / tool_id
    shutil.copytree(BAD, folder, ignore=shutil.ignore_patterns("expected.txt", "__pycache__"))
    report, _ = run_checks(folder, REGISTRY, ValidateOptions(select=["20"]))
    result = report.check(20)
    assert result is not None and result.status == "pass", result
    assert result.findings and {f.severity for f in result.findings} == {"info"}
    assert report.overall == "pass"


def test_docs_sections_follow_the_convention() -> None:
    doc = inspect.getdoc(portability) or ""
    assert doc.index("What it checks") < doc.index("Why it matters") < doc.index("How to fix")
