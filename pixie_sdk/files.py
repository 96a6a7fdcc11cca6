"""``InputFile``: what a handler receives for a file, image or audio input, however it arrived.

A file value may come as a data URL (the canonical form), bare base64, raw text, an object
``{name, content_base64}`` (contract §9) or a multipart part (§4.3); the handler sees the
same object in every case. Also holds the data-URL helpers the output helpers use.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "InputFile",
    "decode_base64",
    "decode_file_value",
    "encode_data_url",
    "guess_mime",
    "matches_accept",
    "parse_data_url",
]

_DATA_URL = re.compile(r"^data:(?P<meta>[^,]*),(?P<data>.*)$", re.DOTALL)
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"%PDF", "application/pdf"),
    (b"RIFF", "audio/wav"),  # also WEBP; refined below
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"PK\x03\x04", "application/zip"),
)
_DEFAULT_MIME = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file given to a tool: its name, MIME type and bytes."""

    name: str
    """The file's name as the user gave it (``upload`` when unknown)."""
    mime_type: str
    """Declared or sniffed MIME type."""
    data: bytes = field(repr=False)
    """The file's contents."""

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def text(self, encoding: str = "utf-8") -> str:
        """The contents decoded as text."""
        return self.data.decode(encoding)

    def save(self, path: Path | str) -> Path:
        """Write the contents to ``path`` and return it."""
        p = Path(path)
        p.write_bytes(self.data)
        return p

    def data_url(self) -> str:
        """The file as a ``data:`` URL."""
        return encode_data_url(self.data, self.mime_type)


def guess_mime(data: bytes, name: str | None = None) -> str:
    """Sniff a MIME type from magic bytes, then from the file name."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            if magic == b"RIFF" and data[8:12] == b"WEBP":
                return "image/webp"
            return mime
    if name:
        guessed, _ = mimetypes.guess_type(name)
        if guessed:
            return guessed
    return _DEFAULT_MIME


def encode_data_url(data: bytes, mime_type: str, name: str | None = None) -> str:
    """``data:<mime>[;name=<file name>];base64,<data>`` (``decode_file_value`` reads the name back)."""
    label = f";name={urllib.parse.quote(name, safe='')}" if name else ""
    return f"data:{mime_type}{label};base64,{base64.b64encode(data).decode('ascii')}"


def parse_data_url(value: str) -> tuple[str, bytes, dict[str, str]] | None:
    """Split a data URL into (mime type, bytes, parameters), or None if it is not one."""
    m = _DATA_URL.match(value)
    if m is None:
        return None
    parts = m.group("meta").split(";")
    mime = parts[0] or "text/plain"
    is_b64 = "base64" in parts[1:]
    params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
    payload = m.group("data")
    try:
        data = base64.b64decode(payload, validate=False) if is_b64 else urllib.parse.unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None
    return mime, data, params


def _strict_b64(value: str) -> bytes | None:
    if " " in value.strip():
        return None  # base64 may be wrapped in lines, never split by spaces: this is text
    return decode_base64(value)


def decode_base64(value: str) -> bytes | None:
    """Strict base64 (line breaks allowed): the bytes, or None when ``value`` is not base64."""
    compact = "".join(value.split())
    if not compact or len(compact) % 4:
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_file_value(value: Any) -> InputFile:
    """Turn any accepted file value into an ``InputFile``.

    Raises:
        ValueError: the value is none of the accepted forms.
    """
    if isinstance(value, InputFile):
        return value
    if isinstance(value, str):
        parsed = parse_data_url(value) if value.startswith("data:") else None
        if parsed is not None:
            mime, data, params = parsed
            name = urllib.parse.unquote(params.get("name", "")) or _default_name(mime)
            return InputFile(name=name, mime_type=mime, data=data)
        if value.startswith("data:"):
            raise ValueError("is a malformed data URL; send `data:<mime>;base64,<data>`")
        raw = _strict_b64(value)
        if raw is not None:
            mime = guess_mime(raw)
            return InputFile(name=_default_name(mime), mime_type=mime, data=raw)
        return InputFile(name="upload.txt", mime_type="text/plain", data=value.encode("utf-8"))
    if isinstance(value, dict):
        given = value.get("name") or value.get("filename")
        content = value.get("content_base64", value.get("data", value.get("content")))
        if not isinstance(content, str):
            raise ValueError("is an object without `content_base64` (or `data`); send a data URL instead")
        inner = decode_file_value(content)
        mime = str(value.get("mime_type") or value.get("mime") or value.get("content_type") or inner.mime_type)
        if mime == _DEFAULT_MIME and isinstance(given, str):
            mime = guess_mime(inner.data, given)
        return InputFile(name=str(given) if given else inner.name, mime_type=mime, data=inner.data)
    raise ValueError("must be a data URL string (`data:<mime>;base64,...`)")


def matches_accept(file: InputFile, accept: str | list[str] | None) -> bool:
    """True when the file matches an ``accept`` list (MIME types, ``type/*`` or ``.ext``)."""
    if not accept:
        return True
    patterns = [a.strip() for a in (accept.split(",") if isinstance(accept, str) else accept) if a.strip()]
    suffix = Path(file.name).suffix.lower()
    for pattern in patterns:
        p = pattern.lower()
        if p.startswith("."):
            if suffix == p:
                return True
        elif p.endswith("/*"):
            if file.mime_type.lower().startswith(p[:-1]):
                return True
        elif p in ("*", "*/*") or p == file.mime_type.lower():
            return True
    return False


def _default_name(mime: str) -> str:
    ext = mimetypes.guess_extension(mime) or ".bin"
    return f"upload{ext}"
