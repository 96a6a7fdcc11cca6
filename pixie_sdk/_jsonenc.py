"""The SDK's one JSON encoder for replies and stream events: strict JSON (no NaN), tolerant of library types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

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
    """Compact JSON bytes; raises ``ValueError`` for NaN/Infinity and ``TypeError`` for unknown objects.

    pydantic-core's encoder is several times faster than the stdlib's on the hot path. It writes
    NaN/Infinity as bare tokens; when those bytes show up, encoding again with NaN as ``null``
    tells a real float (an error) from the same letters inside a string (fine).
    """
    try:
        out = to_json(value, fallback=_default, inf_nan_mode="constants")
    except PydanticSerializationError:
        out = b""
    if not out:
        return json.dumps(value, default=_default, allow_nan=False, separators=(",", ":")).encode()
    if (b"NaN" in out or b"Infinity" in out) and to_json(value, fallback=_default, inf_nan_mode="null") != out:
        # The tokens came from floats, not from text such as "NaN" inside a string: that is not JSON.
        raise ValueError("Out of range float values are not JSON compliant: NaN or Infinity in the value")
    return out
