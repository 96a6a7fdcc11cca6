"""The ``pixie-validate`` command line."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Console-script entry point."""
    sys.stderr.write("pixie-validate: the validator is not built yet (issue 3)\n")
    raise SystemExit(2)
