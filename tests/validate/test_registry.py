"""Meta-tests: the registry is complete, documented, gated as the contract says, and its published files are current."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest

import pixie_validate.checks as checks_pkg
from pixie_validate.checks import CHECK_MODULES, REGISTRY
from pixie_validate.checks._gates import before
from pixie_validate.published import CHECKS_MD, REPORT_SCHEMA_FILE, render_checks_md, render_report_schema

BAD = Path(__file__).resolve().parent.parent / "fixtures" / "tools" / "bad"
NAMES = {
    1: "folder-structure", 2: "manifest-parses", 3: "manifest-coherent", 4: "pyproject", 5: "interpreter",
    6: "spawns", 7: "schema-drift", 8: "sample-run", 9: "outputs-conform", 10: "streaming", 11: "clean-shutdown",
    12: "reference-fixtures", 13: "error-envelope", 14: "cancel", 15: "concurrency", 16: "fuzz",
    17: "loopback-only", 18: "secrets", 19: "cold-start", 20: "portability",
}  # fmt: skip


def test_the_twenty_checks_have_the_contracts_numbers_and_names() -> None:
    assert {s.number: s.name for s in REGISTRY} == NAMES


@pytest.mark.parametrize("number", sorted(NAMES))
def test_each_check_is_documented(number: int) -> None:
    spec = REGISTRY.get(number)
    for section in ("What it checks", "Why it matters", "How to fix"):
        assert section in spec.docs, f"check {number} docstring lacks {section!r}"
    assert spec.fix[0].isupper() and not spec.fix.endswith(".")
    assert spec.summary and spec.severity in ("error", "warning", "info")


@pytest.mark.parametrize("number", sorted(NAMES))
def test_each_check_is_gated_as_the_contract_says(number: int) -> None:
    requires = set(REGISTRY.get(number).requires)
    assert set(before(number)) <= requires
    if 9 <= number <= 16:
        assert 8 in requires


@pytest.mark.parametrize("number", sorted(NAMES))
def test_each_check_has_a_bad_example_tool(number: int) -> None:
    folder = BAD / f"{number:02d}-{NAMES[number]}"
    assert (folder / "expected.txt").is_file(), f"add {folder.relative_to(BAD.parent.parent.parent)}"


def test_every_check_module_is_registered() -> None:
    found = {m.name for m in pkgutil.iter_modules(checks_pkg.__path__) if not m.name.startswith("_")}
    assert found == {m.__name__.rsplit(".", 1)[1] for m in CHECK_MODULES}


def test_docs_checks_md_is_current() -> None:
    assert CHECKS_MD.read_text() == render_checks_md(), "run `python -m pixie_validate.published`"


def test_report_schema_is_current() -> None:
    assert REPORT_SCHEMA_FILE.read_text() == render_report_schema(), "run `python -m pixie_validate.published`"


def test_selection_by_number_name_and_prefix() -> None:
    assert [s.number for s in REGISTRY.select(["7"])] == [7]
    assert [s.number for s in REGISTRY.select(["07-schema-drift"])] == [7]
    assert [s.number for s in REGISTRY.select(["schema-drift"])] == [7]
    assert {s.number for s in REGISTRY.select(["manifest"])} == {2, 3}
    assert 16 not in {s.number for s in REGISTRY.select()}  # fuzz is opt-in
    assert 16 in {s.number for s in REGISTRY.select(opt_in=[16])}
    assert 7 not in {s.number for s in REGISTRY.select(ignore=["schema-drift"])}
    with pytest.raises(KeyError, match="did you mean"):
        REGISTRY.resolve("schema-drfit")
