"""Refuse answers that would give a broken tool, before any file is written.

Cookiecutter renders this file with the answers, then runs it; a non-zero exit stops the
generation and removes the half-made folder. It runs under the interpreter that runs
cookiecutter, which may not have the Pixie kit installed, so it imports nothing from it:
``ID_PATTERN`` repeats ``pixie_sdk.manifest.ID_PATTERN`` (a test keeps the two equal).
"""

from __future__ import annotations

import re
import sys
import unicodedata

#: The contract's id rule: kebab-case, starting with a letter, at most 64 characters.
ID_PATTERN = r"^[a-z][a-z0-9-]{0,63}$"
ID_RULE = "lowercase letters, digits and dashes, starting with a letter, at most 64 characters"
#: The longest id the contract allows.
ID_MAX = 64

TOOL_ID = {{ cookiecutter.tool_id | json_string }}
TEXT_ANSWERS = {
    "tool_name": {{ cookiecutter.tool_name | json_string }},
    "description": {{ cookiecutter.description | json_string }},
    "category": {{ cookiecutter.category | json_string }},
}


def suggest_id(value: str) -> str:
    """A valid id close to ``value``: lower case, other characters as dashes, a letter first."""
    ascii_only = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-") or "tool"
    if not slug[0].isalpha():
        slug = f"tool-{slug}"
    return slug[:ID_MAX].rstrip("-")


def problems() -> list[str]:
    """What is wrong with the answers, one sentence each."""
    found = []
    if not re.match(ID_PATTERN, TOOL_ID):
        better = suggest_id(TOOL_ID or TEXT_ANSWERS["tool_name"])
        found.append(
            f"tool_id `{TOOL_ID}` is not a valid Pixie tool id: use {ID_RULE}.\n"
            f"  Try `{better}`: cookiecutter cookiecutter-tool tool_id={better}"
            f"  (or: pixie new NAME --id {better})"
        )
    if not TEXT_ANSWERS["tool_name"].strip():
        found.append("tool_name is empty: give the tool a name people will recognise, e.g. `Loan calculator`.")
    for key, value in TEXT_ANSWERS.items():
        if any(unicodedata.category(c) == "Cc" for c in value):
            found.append(f"{key} holds a control character (a line break or a tab, say): keep it on one line.")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        sys.stderr.write(f"error: {problem}\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
