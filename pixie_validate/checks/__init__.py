"""The registry of the 20 numbered checks, built from an explicit list of modules (no import-order magic)."""

from __future__ import annotations

from pixie_validate.checks import fixtures, fuzz, portability, process, runs, static, streaming
from pixie_validate.registry import Registry

__all__ = ["CHECK_MODULES", "REGISTRY"]

#: Every module that defines checks; a test fails if a module under checks/ is missing here.
CHECK_MODULES = (static, process, runs, streaming, fixtures, fuzz, portability)
REGISTRY = Registry.from_modules(CHECK_MODULES)
