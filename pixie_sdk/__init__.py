"""The Pixie SDK: what a tool author imports to write a Pixie tool.

    from pixie_sdk import RunContext, RunInput, make_tool_app, outputs, serve

    app = make_tool_app(__file__)

    @app.handler
    def run(inputs: RunInput, ctx: RunContext) -> dict[str, object]:
        return {"greeting": f"Hello, {inputs.name}!"}

    if __name__ == "__main__":
        serve(app)

The names below are the public surface (pinned by ``tests/test_public_api.py``). The
shared contract modules (``pixie_sdk.runbody``, ``shapes``, ``stream``, ``envelope``,
``samples``, ``contract``, ``manifest``) are public by path for the validator and the host.
"""

from __future__ import annotations

from pixie_sdk import outputs
from pixie_sdk._app import Handler, ToolApp, make_tool_app
from pixie_sdk.context import RunCancelled, RunContext
from pixie_sdk.errors import ManifestError, PixieError, ToolError
from pixie_sdk.files import InputFile
from pixie_sdk.manifest import ToolManifest, load_manifest
from pixie_sdk.run_input import RunInput
from pixie_sdk.serve import serve

__version__ = "0.1.0"

__all__ = [
    "Handler",
    "InputFile",
    "ManifestError",
    "PixieError",
    "RunCancelled",
    "RunContext",
    "RunInput",
    "ToolApp",
    "ToolError",
    "ToolManifest",
    "__version__",
    "load_manifest",
    "make_tool_app",
    "outputs",
    "serve",
]
