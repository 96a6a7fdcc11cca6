"""The SDK's one JSON encoder for replies and stream events: strict JSON (no NaN), tolerant of library types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["dumps"]


def _default(value: Any) -> Any:
    # Handlers hand back what their libraries make: numpy scalars and arrays, dates, paths.
    for attr in ("tolist", "item", "isoformat"):
        fn = getattr(value, attr, None)
        if callable(fn):
            return fn()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"a {type(value).__name__} is not JSON")


def dumps(value: Any) -> bytes:
    """Compact JSON bytes; raises ``ValueError`` for NaN/Infinity and ``TypeError`` for unknown objects."""
    return json.dumps(value, default=_default, allow_nan=False, separators=(",", ":")).encode()
