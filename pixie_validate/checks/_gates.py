"""The contract's gates (§7): checks 1-6 gate everything after them; check 8 gates 9-16."""

from __future__ import annotations

__all__ = ["SAMPLED", "SPAWNED", "before"]


def before(number: int) -> tuple[int, ...]:
    """The gating checks among 1-6 that come before ``number``."""
    return tuple(range(1, min(number, 7)))


#: Needs a running tool.
SPAWNED = before(7)
#: Needs a running tool and a successful sample run.
SAMPLED = (*SPAWNED, 8)
