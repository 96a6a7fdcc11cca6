"""The ``pixie`` command line."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Console-script entry point."""
    sys.stderr.write("pixie: the host is not built yet (issue 5)\n")
    raise SystemExit(2)
