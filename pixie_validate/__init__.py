"""``pixie-validate``: the numbered checks of a Pixie tool (filled in by the validator issue)."""

from __future__ import annotations

__all__: list[str] = []
