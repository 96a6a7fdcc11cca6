"""``python -m pixie_validate``."""

from __future__ import annotations

from pixie_validate.cli import main

main()
