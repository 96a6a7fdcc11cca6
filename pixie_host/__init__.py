"""The Pixie host: runs tools, proxies runs, records history (filled in by the host issue)."""

from __future__ import annotations

__all__: list[str] = []
