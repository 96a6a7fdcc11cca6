"""The base model every tool.json model shares: strict, closed, immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["PixieModel"]


class PixieModel(BaseModel):
    """Strict (no silent coercion), closed (unknown keys are errors) and frozen."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        use_attribute_docstrings=True,
        populate_by_name=True,
        serialize_by_alias=True,
    )
