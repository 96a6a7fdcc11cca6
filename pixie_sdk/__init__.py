"""The Pixie SDK: what a tool author imports to write a Pixie tool.

Public surface (pinned by ``tests/test_public_api.py``). The shared contract modules
(``pixie_sdk.runbody``, ``shapes``, ``stream``, ``envelope``, ``samples``, ``contract``) are
public by path for the validator and the host; tool authors rarely need them.
"""

from __future__ import annotations

from pixie_sdk.errors import ManifestError, PixieError, ToolError
from pixie_sdk.files import InputFile
from pixie_sdk.manifest import ToolManifest, load_manifest
from pixie_sdk.run_input import RunInput

__version__ = "0.1.0"

__all__ = [
    "InputFile",
    "ManifestError",
    "PixieError",
    "RunInput",
    "ToolError",
    "ToolManifest",
    "__version__",
    "load_manifest",
]
