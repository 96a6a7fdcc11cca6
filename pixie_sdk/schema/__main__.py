"""Write ``tool.schema.json`` next to this package."""

from __future__ import annotations

from pixie_sdk.schema import SCHEMA_FILE, render_schema

SCHEMA_FILE.write_text(render_schema(), encoding="utf-8")
print(f"wrote {SCHEMA_FILE}")
