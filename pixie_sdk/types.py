"""Type aliases shared by every Pixie package: what a JSON value looks like in Python."""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["JSON", "JSONObject"]

#: Any value that JSON can carry. Kept as ``Any`` on purpose: a precise recursive alias
#: makes every caller cast, and the shapes are checked at run time by ``pixie_sdk.shapes``.
JSON: TypeAlias = Any
#: A JSON object, as ``json.loads`` returns it.
JSONObject: TypeAlias = dict[str, Any]
