"""``python -m pixie_host`` is the ``pixie`` command."""

from __future__ import annotations

from pixie_host.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
