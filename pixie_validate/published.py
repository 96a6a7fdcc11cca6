"""Files generated from the code and shipped with it: ``docs/checks.md`` and ``report.schema.json``.

``python -m pixie_validate.published`` rewrites both; tests fail while either is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pixie_validate.checks import REGISTRY
from pixie_validate.findings import Report

__all__ = ["CHECKS_MD", "REPORT_SCHEMA_FILE", "render_checks_md", "render_report_schema", "write_all"]

REPORT_SCHEMA_FILE = Path(__file__).with_name("schema") / "report.schema.json"
#: docs/ lives at the repository root, beside the packages.
CHECKS_MD = Path(__file__).resolve().parent.parent / "docs" / "checks.md"


def render_checks_md() -> str:
    """docs/checks.md: a table of every check, then one section each (the ``--explain`` text)."""
    from pixie_validate.cli import explain_text  # the CLI owns the wording of --explain

    lines = [
        "# The checks of `pixie-validate`",
        "",
        "Generated from the check registry by `python -m pixie_validate.published`; do not edit by hand.",
        "Numbers are stable public identifiers (1-12 keep the public Pixie project's numbering).",
        "Checks 1-6 gate everything after them; check 8 gates 9-16. Overall: fail if any check fails,",
        "else warn if any warns, else pass (`--strict` makes warnings fail).",
        "",
        "| # | name | severity | kind | what it checks |",
        "|---|---|---|---|---|",
    ]
    for spec in REGISTRY:
        kind = spec.kind + (", opt-in" if spec.opt_in else "")
        lines.append(f"| [{spec.number}](#{spec.slug}) | `{spec.name}` | {spec.severity} | {kind} | {spec.summary} |")
    lines.append("")
    for spec in REGISTRY:
        lines.append(f'<a id="{spec.slug}"></a>')
        lines.append("")
        lines.append(explain_text(spec))
    return "\n".join(lines).rstrip() + "\n"


def render_report_schema() -> str:
    """The JSON Schema of the ``--json`` report."""
    schema = Report.model_json_schema(mode="serialization")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_all() -> None:
    """Rewrite every generated file."""
    CHECKS_MD.write_text(render_checks_md(), encoding="utf-8")
    REPORT_SCHEMA_FILE.write_text(render_report_schema(), encoding="utf-8")
    sys.stdout.write(f"wrote {CHECKS_MD} and {REPORT_SCHEMA_FILE}\n")


if __name__ == "__main__":
    write_all()
