"""Type aliases shared by every Pixie package: what a JSON value looks like in Python."""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["JSON", "JSONObject", "json_kind"]

#: Any value that JSON can carry. Kept as ``Any`` on purpose: a precise recursive alias
#: makes every caller cast, and the shapes are checked at run time by ``pixie_sdk.shapes``.
JSON: TypeAlias = Any
#: A JSON object, as ``json.loads`` returns it.
JSONObject: TypeAlias = dict[str, Any]


def json_kind(value: Any) -> str:
    """What a value is, in the words of a message about JSON: ``a number``, ``a list``, ``null``...

    Tuples count as lists (they are once serialised); anything that is not JSON at all says so.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__} (not JSON)"
