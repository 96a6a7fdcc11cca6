"""A Pixie tool as an MCP tool: its name, title, description, ``inputSchema`` and ``outputSchema``.

The schemas come from ``pixie_sdk.json_schema``, the one manifest → JSON Schema module:
``inputSchema`` is ``input_schema(manifest)`` in the standard dialect, which validator check 20
judges against MCP's rules (and whose property descriptions already fold in each input's label,
description, unit, range and rules), and ``outputSchema`` is ``output_schema(manifest)``, the
canonical shapes a result's ``structuredContent`` holds. A tool's definition is built once per
catalog entry: entries are never edited in place (a changed tool.json is a new entry).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import mcp_types as types

from pixie_host.catalog import Catalog, ToolEntry
from pixie_host.mcp.summary import OUTPUT_NOUNS
from pixie_sdk.json_schema import input_schema, output_schema
from pixie_sdk.manifest import ToolManifest

__all__ = ["TOOL_NAME", "ToolIndex", "describe_tool", "mcp_tool", "tool_name"]

#: MCP tool names as the big clients' model APIs accept them (OpenAI and Anthropic function names); the
#: MCP spec itself allows more (dots, up to 128), and validator check 20 judges ids against this one.
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: Outputs named in a tool's description; a tool with more lists the rest as a count.
MAX_DESCRIBED_OUTPUTS = 12


def tool_name(tool_id: str) -> str:
    """The MCP name of a tool: its id, which the manifest already limits to ``^[a-z][a-z0-9-]{0,63}$``.

    Anything else (a foreign catalog) is mapped onto the allowed characters rather than refused.
    """
    if TOOL_NAME.match(tool_id):
        return tool_id
    return (re.sub(r"[^a-zA-Z0-9_-]", "_", tool_id) or "tool")[:64]


def _output_words(manifest: ToolManifest) -> str:
    parts = []
    for spec in manifest.outputs[:MAX_DESCRIBED_OUTPUTS]:
        what = OUTPUT_NOUNS.get(spec.type, spec.type)
        unit = f", {spec.unit}" if spec.unit else ""
        parts.append(f"{spec.label.rstrip('.')} ({what}{unit})")
    rest = len(manifest.outputs) - MAX_DESCRIBED_OUTPUTS
    return "; ".join(parts) + (f"; and {rest} more" if rest > 0 else "")


def describe_tool(manifest: ToolManifest) -> str:
    """What a model reads to decide whether to call the tool: what it does, what it returns, how long it may take."""
    parts = [(manifest.description or manifest.name).rstrip(".") + "."]
    parts.append(f"Returns: {_output_words(manifest)}.")
    if any(spec.default is not None or not spec.required for spec in manifest.inputs):
        parts.append("Inputs with a default may be left out.")
    parts.append(f"A run takes at most {manifest.max_runtime_seconds} s.")
    return " ".join(parts)


def mcp_tool(entry: ToolEntry) -> types.Tool:
    """The MCP definition of a loadable tool."""
    manifest = entry.manifest
    assert manifest is not None
    return types.Tool(
        name=tool_name(entry.id),
        title=manifest.name,
        description=describe_tool(manifest),
        input_schema=input_schema(manifest),
        output_schema=output_schema(manifest),
    )


class ToolIndex:
    """The MCP definitions of a catalog's loadable tools, built once per entry and looked up by MCP name."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._built: dict[str, tuple[ToolEntry, types.Tool]] = {}

    def _tool(self, entry: ToolEntry) -> types.Tool:
        cached = self._built.get(entry.id)
        if cached is not None and cached[0] is entry:
            return cached[1]
        tool = mcp_tool(entry)
        self._built[entry.id] = (entry, tool)
        return tool

    def _loadable(self) -> Iterable[ToolEntry]:
        return (entry for entry in self.catalog if entry.manifest is not None)

    def tools(self) -> list[types.Tool]:
        """Every loadable tool's definition (tools whose tool.json does not load are left out)."""
        listed = [self._tool(entry) for entry in self._loadable()]
        for gone in set(self._built) - {entry.id for entry in self.catalog}:
            del self._built[gone]
        return listed

    def find(self, name: str) -> ToolEntry | None:
        """The loadable tool an MCP name stands for."""
        entry = self.catalog.get(name)
        if entry is not None and entry.manifest is not None and tool_name(entry.id) == name:
            return entry
        return next((e for e in self._loadable() if tool_name(e.id) == name), None)

    def names(self) -> list[str]:
        return [tool_name(entry.id) for entry in self._loadable()]

    def input_schema(self, name: str) -> Mapping[str, Any] | None:
        """A tool's ``inputSchema`` by name, for the SDK's header checks (so they need not list every tool)."""
        entry = self.find(name)
        return self._tool(entry).input_schema if entry is not None else None
