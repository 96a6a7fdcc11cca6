"""The files of a run as MCP resources: ``pixie://runs/{run_id}/artefacts/{name}`` and ``.../outputs/{key}``.

A tool result links its files and media instead of pasting them into the context. The links
use the ``pixie://`` scheme on every transport, and ``resources/read`` on the same MCP
connection returns their bytes, so they work over stdio, where there is no HTTP server. Over
HTTP a link to an artefact also carries the host's own URL for it (``GET
<prefix>/api/runs/{run_id}/artefacts/{name}``) in its ``_meta``.

- ``artefacts/{name}`` is a file the run wrote into its artefacts folder (contract §4).
- ``outputs/{key}`` (and ``outputs/{key}/{n}``, ``outputs/{key}/before|after`` for image grids
  and comparisons) is media the tool returned inline, as a data URL, decoded from the run record.
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import mcp_types as types
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from pixie_host.host import Host
from pixie_host.store import artefact_file
from pixie_sdk.files import parse_data_url
from pixie_sdk.shapes import is_artefact_ref, unwrap_scalar
from pixie_sdk.types import JSON

__all__ = [
    "ARTEFACT_TEMPLATE",
    "MAX_READ_BYTES",
    "OUTPUT_TEMPLATE",
    "RESOURCE_NOT_FOUND",
    "SCHEME",
    "TEMPLATES",
    "ResourceRef",
    "artefact_uri",
    "media_part",
    "output_uri",
    "parse_uri",
    "read_resource",
]

SCHEME = "pixie"
ARTEFACT_TEMPLATE = "pixie://runs/{run_id}/artefacts/{name}"
OUTPUT_TEMPLATE = "pixie://runs/{run_id}/outputs/{key}"
#: The MCP spec's error code for a resource that does not exist (it has no constant in the SDK).
RESOURCE_NOT_FOUND = -32002
#: Largest file one ``resources/read`` returns: the reply is one JSON-RPC message held whole in memory
#: on both sides, a third bigger again as base64. Bigger files are fetched over HTTP from ``pixie serve``.
MAX_READ_BYTES = 16 * 1024 * 1024
#: MIME types read back as text rather than base64.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "image/svg+xml", "application/csv")

TEMPLATES = [
    types.ResourceTemplate(
        name="artefact",
        title="A file a run wrote",
        uri_template=ARTEFACT_TEMPLATE,
        description="A file in a run's artefacts folder; tool results link the ones their outputs name.",
    ),
    types.ResourceTemplate(
        name="output",
        title="Media a run returned",
        uri_template=OUTPUT_TEMPLATE,
        description="Media or a file a run returned inline (a data URL), decoded; image grids add /<n>, "
        "image comparisons /before or /after.",
    ),
]


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A parsed ``pixie://`` URI: the run, and either an artefact path or an output key (and part)."""

    run_id: str
    kind: str
    """``artefacts`` or ``outputs``."""
    path: str
    """The artefact's relative path, or the output key."""
    part: str | None = None
    """For outputs: the image's index in a grid, or ``before``/``after``."""


def _quote(text: str, safe: str = "") -> str:
    return urllib.parse.quote(text, safe=safe)


def artefact_uri(run_id: str, name: str) -> str:
    return f"{SCHEME}://runs/{_quote(run_id)}/artefacts/{_quote(name, safe='/')}"


def output_uri(run_id: str, key: str, part: str | None = None) -> str:
    return f"{SCHEME}://runs/{_quote(run_id)}/outputs/{_quote(key)}" + (f"/{_quote(part)}" if part else "")


def parse_uri(uri: str) -> ResourceRef | None:
    """The run and file a ``pixie://`` URI names, or None when it is not one of ours."""
    split = urllib.parse.urlsplit(uri)
    if split.scheme != SCHEME or split.netloc != "runs":
        return None
    parts = split.path.split("/")[1:]
    if len(parts) < 3 or not parts[0] or parts[1] not in ("artefacts", "outputs"):
        return None
    run_id, kind = urllib.parse.unquote(parts[0]), parts[1]
    if kind == "artefacts":
        return ResourceRef(run_id, kind, urllib.parse.unquote("/".join(parts[2:])))
    if len(parts) > 4:
        return None
    part = urllib.parse.unquote(parts[3]) if len(parts) == 4 else None
    return ResourceRef(run_id, kind, urllib.parse.unquote(parts[2]), part)


def media_part(value: JSON, part: str | None) -> JSON:
    """The media value inside an output: the output itself, one image of a grid, or one side of a comparison."""
    if part is None:
        inner, _ = unwrap_scalar(value)
        if isinstance(inner, dict) and "data" in inner and "filename" in inner:
            return inner["data"]  # a file output: its data
        return inner
    item: JSON = None
    if isinstance(value, dict) and part.isdigit() and isinstance(value.get("images"), list):
        images = value["images"]
        item = images[int(part)] if int(part) < len(images) else None
    elif isinstance(value, dict) and part in ("before", "after"):
        item = value.get(part)
    if isinstance(item, dict) and not is_artefact_ref(item):
        item = next((item[k] for k in ("value", "url", "data") if k in item), None)
    return item


def _not_found(uri: str, why: str) -> MCPError:
    return MCPError(RESOURCE_NOT_FOUND, f"{uri}: {why}", {"uri": uri})


def _contents(uri: str, data: bytes, mime: str) -> types.TextResourceContents | types.BlobResourceContents:
    if mime.startswith(_TEXT_TYPES):
        try:
            return types.TextResourceContents(uri=uri, mime_type=mime, text=data.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    return types.BlobResourceContents(uri=uri, mime_type=mime, blob=base64.b64encode(data).decode("ascii"))


def _read_file(path: Path) -> bytes | None:
    if path.stat().st_size > MAX_READ_BYTES:
        return None
    return path.read_bytes()


async def read_resource(host: Host, uri: str) -> types.ReadResourceResult:
    """``resources/read`` of a ``pixie://`` URI.

    Raises:
        MCPError: the URI is not ours, or names no run, output or file (``RESOURCE_NOT_FOUND``), or the file
            is over ``MAX_READ_BYTES``.
    """
    ref = parse_uri(uri)
    if ref is None:
        raise MCPError(INVALID_PARAMS, f"{uri}: not a Pixie resource; they look like {ARTEFACT_TEMPLATE}")
    record = await host.store.aget(ref.run_id)
    if record is None:
        raise _not_found(uri, f"no run {ref.run_id}")
    if ref.kind == "artefacts":
        path = artefact_file(record.artefacts_dir, ref.path)
        if path is None:
            raise _not_found(uri, f"run {ref.run_id} has no artefact {ref.path!r}")
        data = await asyncio.to_thread(_read_file, path)
        if data is None:
            raise MCPError(INVALID_PARAMS, f"{uri}: over {MAX_READ_BYTES // (1024 * 1024)} MiB, too big to read here")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return types.ReadResourceResult(contents=[_contents(uri, data, mime)])
    outputs = record.outputs if isinstance(record.outputs, dict) else {}
    if ref.path not in outputs:
        raise _not_found(uri, f"run {ref.run_id} has no output {ref.path!r}")
    media = media_part(outputs[ref.path], ref.part)
    if is_artefact_ref(media):
        assert isinstance(media, dict)
        return await read_resource(host, artefact_uri(ref.run_id, str(media["artefact"])))
    parsed = parse_data_url(media) if isinstance(media, str) else None
    if parsed is None:
        raise _not_found(uri, "that output holds no inline data (a link to elsewhere, or nothing)")
    mime, data, _params = parsed
    return types.ReadResourceResult(contents=[_contents(uri, data, mime)])
