"""``tool.schema.json``: the JSON Schema of tool.json, generated from ``ToolManifest`` and shipped.

Regenerate with ``python -m pixie_sdk.schema`` after changing a manifest model; a test fails
while the shipped file is stale. A tool.json opts into editor validation with
``"$schema": "<path or URL of tool.schema.json>"``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pixie_sdk.manifest import ToolManifest

__all__ = ["SCHEMA_FILE", "manifest_json_schema", "render_schema"]

SCHEMA_FILE = Path(__file__).with_name("tool.schema.json")
SCHEMA_ID = "https://pixie.tools/schema/tool.schema.json"


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a tool.json."""
    schema = ToolManifest.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def render_schema() -> str:
    """The text of tool.schema.json, as shipped."""
    return json.dumps(manifest_json_schema(), indent=2, sort_keys=True) + "\n"
