"""A run's result as an MCP ``CallToolResult``: ``structuredContent`` for programs, ``content`` for the model.

``structuredContent`` is the outputs as the run path recorded them (canonical shapes, so they
validate against the tool's ``outputSchema``). ``content`` holds one block (or a few) per
output, in the manifest's order:

- numbers, booleans and progress: ``**Label**: value`` with the unit and format applied;
- text types: as they are, cut at ``summary.MAX_TEXT_CHARS``; code fenced, LaTeX in ``$$``;
- tables and kv: compact markdown, the first rows; logs, trees, timelines... the same;
- charts and maps: a summary (counts, ranges, the largest items), never the data points;
- images and audio: image and audio content, inline up to ``MAX_INLINE_MEDIA_BYTES`` each;
  bigger ones, video and files: resource links (``pixie_host.mcp.resources``).

A run that did not end ``ok``, and a run the host refused, become ``isError`` results whose text
is the tool's own ``detail`` (an invalid input names the field), never protocol errors.
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import mcp_types as types

from pixie_host.catalog import ToolEntry
from pixie_host.errors import HostError, InvalidInputs, InvalidRequest
from pixie_host.mcp.resources import artefact_uri, media_part, output_uri
from pixie_host.mcp.summary import OUTPUT_NOUNS, summarise
from pixie_host.store import artefact_file
from pixie_sdk.envelope import describe_detail
from pixie_sdk.output_specs import OutputSpec
from pixie_sdk.shapes import is_artefact_ref, presentation
from pixie_sdk.types import JSON, JSONObject

__all__ = [
    "MAX_INLINE_MEDIA_BYTES",
    "MAX_INLINE_TOTAL_BYTES",
    "META_RUN",
    "META_URL",
    "Files",
    "for_version",
    "host_failed",
    "refused",
    "run_result",
    "unknown_tool",
]

#: Largest image or audio put inline: an image in the context costs tokens by its size in pixels,
#: and a few MB of base64 in one JSON-RPC message slows every client; bigger ones become links.
MAX_INLINE_MEDIA_BYTES = 1024 * 1024
#: Inline media of one result in all; the rest become links.
MAX_INLINE_TOTAL_BYTES = 4 * 1024 * 1024
#: Images of an image grid given their own block; the rest are counted.
MAX_GRID_IMAGES = 4
#: Lines (and at most characters) of a crashed tool's last output quoted in its error: the end of a
#: traceback says why, and the rest of the log is one `pixie logs` away.
ERROR_TAIL_LINES = 15
ERROR_TAIL_CHARS = 2000
#: ``_meta`` key of every result: the run's id, status and duration (its record in the host's history).
META_RUN = "pixie/run"
#: ``_meta`` key of a resource link: the host's HTTP URL of the same file (over HTTP only).
META_URL = "pixie/url"
#: Protocol versions without resource-link content (added in 2025-06-18), and without audio (2025-03-26).
_BEFORE_LINKS = frozenset({"2024-11-05", "2025-03-26"})
_BEFORE_AUDIO = frozenset({"2024-11-05"})


Block = types.TextContent | types.ImageContent | types.AudioContent | types.ResourceLink | types.EmbeddedResource


def _inline(kind: str, payload: str, mime: str) -> Block | None:
    """Image or audio content of base64 ``payload``; None for a kind MCP has no inline content for (video)."""
    if kind == "image":
        return types.ImageContent(data=payload, mime_type=mime)
    if kind == "audio":
        return types.AudioContent(data=payload, mime_type=mime)
    return None


@dataclass
class Files:
    """Where a run's files are, and how links to them are spelled (an HTTP base when served over HTTP)."""

    run_id: str
    artefacts_dir: Callable[[], Awaitable[str | None]]
    """The run's artefacts folder (looked up only when an output names an artefact)."""
    http_base: Callable[[], str | None] = lambda: None
    """``http://host:port<prefix>`` of the host that ran it, when the call came over HTTP (made on first use)."""
    inline_left: int = MAX_INLINE_TOTAL_BYTES
    _dir: str | None = field(default=None, init=False)
    _looked_up: bool = field(default=False, init=False)

    async def folder(self) -> str | None:
        if not self._looked_up:
            self._dir = await self.artefacts_dir()
            self._looked_up = True
        return self._dir

    def artefact_url(self, name: str) -> str | None:
        base = self.http_base()
        if base is None:
            return None
        return f"{base}/api/runs/{self.run_id}/artefacts/{urllib.parse.quote(name, safe='/')}"


def _text(text: str) -> types.TextContent:
    return types.TextContent(text=text)


def _error(text: str, meta: JSONObject | None = None) -> types.CallToolResult:
    return types.CallToolResult(content=[_text(text)], is_error=True, meta=meta)


def _b64_size(payload: str) -> int:
    return len(payload) * 3 // 4


async def _media(spec: OutputSpec, value: JSON, files: Files, part: str | None, title: str) -> tuple[list[Block], str]:
    """Blocks for one media value (inline, or a link) and a short note of what it is."""
    kind = "image" if spec.type in ("image", "image_grid", "image_compare") else spec.type
    media = media_part(value, part)
    inlinable = kind in ("image", "audio")
    if isinstance(media, str) and media.startswith("data:"):
        head, _, payload = media.partition(",")
        mime = head[5:].split(";")[0] or "text/plain"
        is_b64 = ";base64" in head
        size = _b64_size(payload) if is_b64 else len(payload)
        block = (
            _inline(kind, payload, mime) if is_b64 and size <= min(MAX_INLINE_MEDIA_BYTES, files.inline_left) else None
        )
        if block is not None:
            files.inline_left -= size
            return [block], f"{mime}, {size:,} bytes"
        link = types.ResourceLink(
            uri=output_uri(files.run_id, spec.key, part), name=title, mime_type=mime, size=size, title=title
        )
        return [link], f"{mime}, {size:,} bytes, linked"
    if is_artefact_ref(media):
        assert isinstance(media, dict)
        name = str(media["artefact"])
        mime = str(media.get("mime_type") or mimetypes.guess_type(name)[0] or "application/octet-stream")
        path = artefact_file(await files.folder(), name)
        on_disk = path.stat().st_size if path is not None else None
        if (
            inlinable
            and path is not None
            and on_disk is not None
            and on_disk <= min(MAX_INLINE_MEDIA_BYTES, files.inline_left)
        ):
            data = await asyncio.to_thread(Path.read_bytes, path)
            block = _inline(kind, base64.b64encode(data).decode("ascii"), mime)
            if block is not None:
                files.inline_left -= on_disk
                return [block], f"{mime}, {on_disk:,} bytes"
        url = files.artefact_url(name)
        link = types.ResourceLink(
            uri=artefact_uri(files.run_id, name),
            name=Path(name).name,
            title=title,
            mime_type=mime,
            size=on_disk,
            meta={META_URL: url} if url else None,
        )
        return [link], f"{mime}, linked" if path is not None else f"{name} (missing from the artefacts folder)"
    if isinstance(media, str) and media.startswith(("http://", "https://")):
        link = types.ResourceLink(uri=media, name=title, title=title, mime_type=mimetypes.guess_type(media)[0])
        return [link], f"linked at {media}"
    return [], "empty"


async def _file(spec: OutputSpec, value: JSON, files: Files) -> list[Block]:
    item = value if isinstance(value, dict) else {}
    filename = str(item.get("filename") or spec.key)
    mime = str(item.get("mime_type") or "application/octet-stream")
    data = item.get("data")
    meta: JSONObject | None = None
    size: int | None = None
    if is_artefact_ref(data):
        assert isinstance(data, dict)
        name = str(data["artefact"])
        uri = artefact_uri(files.run_id, name)
        path = artefact_file(await files.folder(), name)
        size = path.stat().st_size if path is not None else None
        url = files.artefact_url(name)
        meta = {META_URL: url} if url else None
    else:
        uri = output_uri(files.run_id, spec.key)
        if isinstance(data, str):
            size = _b64_size(data.partition(",")[2] if data.startswith("data:") else data)
    link = types.ResourceLink(
        uri=uri,
        name=filename,
        title=spec.label,
        description=f"{spec.label}: {filename} ({mime})",
        mime_type=mime,
        size=size,
        meta=meta,
    )
    return [_text(f"**{spec.label}** (file): {filename}, {mime}" + (f", {size:,} bytes" if size else "")), link]


async def _blocks(spec: OutputSpec, value: JSON, files: Files) -> list[Block]:
    """The content blocks of one output."""
    output_type = spec.type
    if output_type == "file":
        return await _file(spec, value, files)
    if output_type in ("image", "audio", "video"):
        blocks, note = await _media(spec, value, files, None, spec.label)
        caption = presentation(spec, value).get("caption")
        text = f"**{spec.label}** ({OUTPUT_NOUNS[output_type]}, {note})" + (f": {caption}" if caption else "")
        return [_text(text), *blocks]
    if output_type == "image_grid":
        images = value.get("images") if isinstance(value, dict) else None
        count = len(images) if isinstance(images, list) else 0
        out: list[Block] = [_text(f"**{spec.label}** ({count} images)")]
        for n in range(min(count, MAX_GRID_IMAGES)):
            blocks, _ = await _media(spec, value, files, str(n), f"{spec.label} {n + 1}")
            out.extend(blocks)
        if count > MAX_GRID_IMAGES:
            out.append(_text(f"… and {count - MAX_GRID_IMAGES} more images (in structuredContent)"))
        return out
    if output_type == "image_compare":
        out = [_text(f"**{spec.label}** (before and after)")]
        for side in ("before", "after"):
            blocks, _ = await _media(spec, value, files, side, f"{spec.label}: {side}")
            out.extend(blocks)
        return out
    return [_text(summarise(spec, value))]


async def run_result(entry: ToolEntry, result: JSONObject, files: Files) -> types.CallToolResult:
    """The MCP result of a finished run (``RunService.run``'s result)."""
    manifest = entry.manifest
    assert manifest is not None
    meta: JSONObject = {
        META_RUN: {"id": result["run_id"], "status": result["status"], "duration_ms": result.get("duration_ms")}
    }
    if result["status"] != "ok":
        return _error(_run_error(entry, result), meta)
    outputs = result.get("outputs")
    outputs = outputs if isinstance(outputs, dict) else {}
    missing = [spec.key for spec in manifest.outputs if spec.key not in outputs]
    if missing:
        # The outputSchema requires every output: a result without one would fail the client's check.
        return _error(f"{entry.id} answered without the outputs {', '.join(missing)}; it breaks its tool.json", meta)
    content: list[Block] = []
    for spec in manifest.outputs:
        content.extend(await _blocks(spec, outputs[spec.key], files))
    return types.CallToolResult(content=content, structured_content=outputs, meta=meta)


def _tail(text: JSON) -> str:
    if not isinstance(text, str) or not text.strip():
        return ""
    tail = "\n".join(text.strip().splitlines()[-ERROR_TAIL_LINES:])[-ERROR_TAIL_CHARS:]
    return f"\nThe tool's last output:\n```\n{tail}\n```"


def _run_error(entry: ToolEntry, result: JSONObject) -> str:
    error = result.get("error") if isinstance(result.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = str(error.get("code") or result["status"])
    detail = describe_detail(error.get("detail", "the run failed"))
    status = result["status"]
    if status == "cancelled":
        return f"The run of {entry.id} was cancelled."
    if code == "invalid_inputs":
        return f"Invalid input: {_inputs_detail(error.get('detail'))}"
    text = f"{entry.id} failed ({code}): {detail}"
    # A handler's own exception is in the detail already; a process that died or would not start says why
    # only in what it printed.
    if code in ("tool_crashed", "tool_unavailable", "stream_incomplete") or status == "oom":
        text += _tail(error.get("stderr_tail"))
    return text


def _inputs_detail(detail: JSON) -> str:
    """FastAPI's 422 list as sentences naming the field: ``rate: Input should be less than or equal to 20``."""
    if not isinstance(detail, list):
        return describe_detail(detail)
    lines = []
    for item in detail:
        if isinstance(item, dict) and "msg" in item:
            loc = [str(p) for p in item.get("loc", []) if p not in ("body", "inputs")]
            lines.append(f"`{'.'.join(loc)}`: {item['msg']}" if loc else str(item["msg"]))
        else:
            lines.append(str(item))
    return "; ".join(lines) + ". The tool's inputSchema describes every input."


def refused(entry: ToolEntry, exc: HostError) -> types.CallToolResult:
    """The host would not run it (invalid inputs, a missing secret, a full queue...): why, as the host says it."""
    meta: JSONObject | None = {META_RUN: {"id": exc.run_id, "status": "error"}} if exc.run_id else None
    if isinstance(exc, InvalidInputs | InvalidRequest):
        return _error(f"Invalid input: {_inputs_detail(exc.detail)}", meta)
    return _error(f"{entry.id} did not run ({exc.code}): {describe_detail(exc.detail)}", meta)


def host_failed(entry: ToolEntry, exc: Exception) -> types.CallToolResult:
    """A bug of the host's own while running a call: still a result the client can show, not a protocol error."""
    return _error(f"The host failed while running {entry.id}: {type(exc).__name__}: {exc}")


def for_version(result: types.CallToolResult, version: str) -> types.CallToolResult:
    """The result as a client of an older protocol can read it: links (2025-06-18) and audio (2025-03-26) as text."""
    if version not in _BEFORE_LINKS:
        return result
    content: list[Block] = []
    for block in result.content:
        if isinstance(block, types.ResourceLink):
            mime = f" ({block.mime_type})" if block.mime_type else ""
            content.append(_text(f"{block.title or block.name}{mime}: {block.uri}"))
        elif isinstance(block, types.AudioContent) and version in _BEFORE_AUDIO:
            content.append(_text(f"(audio, {block.mime_type}: in structuredContent)"))
        else:
            content.append(block)
    return result.model_copy(update={"content": content})


def unknown_tool(name: str, names: list[str]) -> types.CallToolResult:
    listed = ", ".join(names) if names else "none"
    return _error(f"No tool named {name!r} is served here. The tools are: {listed}.")
