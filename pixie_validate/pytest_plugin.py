"""The ``--pixie-conformance`` pytest plugin (registered through the ``pytest11`` entry point).

Until the conformance issue lands it only declares its option group, so installing the
kit never changes how an unrelated test suite runs.
"""

from __future__ import annotations

import pytest

__all__ = ["pytest_addoption"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pixie", "Pixie tool conformance")
    group.addoption(
        "--pixie-conformance", action="store_true", default=False, help="run the Pixie contract checks on tools"
    )
