"""Finish the generated tool: drop the reference fixture if it was not wanted, point ``$schema`` at a local file.

Runs in the new tool's folder, under the interpreter that ran cookiecutter (``pixie new``
uses the kit's own). When that interpreter can import ``pixie_sdk``, tool.json's
``$schema`` becomes the ``file://`` URI of the ``tool.schema.json`` shipped with it, so an
editor validates tool.json offline; otherwise it stays the stable URL from cookiecutter.json.
``$schema`` is only read by editors, never by the kit.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

SCHEMA_URL = {{ cookiecutter._schema_url | json_string }}
INCLUDE_FIXTURES = {{ "True" if cookiecutter.include_fixtures else "False" }}
MANIFEST = Path("tool.json")


def local_schema() -> Path | None:
    """The ``tool.schema.json`` of the ``pixie_sdk`` this interpreter would import, if there is one."""
    spec = importlib.util.find_spec("pixie_sdk")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).resolve().parent / "schema" / "tool.schema.json"
    return path if path.is_file() else None


def point_schema_at(path: Path) -> None:
    """Replace the placeholder URL in tool.json, keeping the file's layout as written."""
    text = MANIFEST.read_text(encoding="utf-8")
    MANIFEST.write_text(text.replace(f'"$schema": "{SCHEMA_URL}"', f'"$schema": "{path.as_uri()}"', 1), encoding="utf-8")


def main() -> int:
    if not INCLUDE_FIXTURES:
        shutil.rmtree("reference", ignore_errors=True)
    schema = local_schema()
    if schema is not None:
        point_schema_at(schema)
    return 0


if __name__ == "__main__":
    sys.exit(main())
