"""The canonical ``/run`` request (contract §4.2): built once, here, for every caller.

The validator, the conformance kit and the host all call ``build_run_request``; the SDK's
app calls ``parse_run_body`` to read it back (nested ``inputs`` first, else the flat shim).
Multipart transport (§4.3) splits file values out of the same body.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pixie_sdk._jsonenc import dumps
from pixie_sdk.contract import ARTEFACTS_DIR_HEADER, FLAT_RESERVED_KEYS, PIXIE_META_KEY, ROUTE_RUN, RUN_ID_HEADER
from pixie_sdk.files import decode_file_value
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.types import JSON, JSONObject

__all__ = [
    "FILE_INPUT_TYPES",
    "MULTIPART_PAYLOAD_FIELD",
    "MultipartPart",
    "ParsedRunBody",
    "RunRequest",
    "build_run_request",
    "new_run_id",
    "parse_run_body",
]

#: Input types whose values travel as file parts under multipart transport.
FILE_INPUT_TYPES = frozenset({"file", "image", "audio"})
#: The form field holding the JSON body under multipart transport.
MULTIPART_PAYLOAD_FIELD = "payload"


def new_run_id() -> str:
    """A fresh run id (a UUID4 string)."""
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class MultipartPart:
    """One file part of a multipart run request."""

    field: str
    filename: str
    mime_type: str
    data: bytes = dataclasses.field(repr=False)


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Everything needed to send one run: the JSON body, the headers, and file parts for multipart tools."""

    run_id: str
    body: JSONObject
    headers: dict[str, str]
    files: list[MultipartPart]

    @property
    def multipart(self) -> bool:
        """True when the request must go as ``multipart/form-data``."""
        return bool(self.files)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        """The request as it goes on the wire: the body bytes and every header, ``Content-Type`` included.

        JSON; or, for a multipart tool, ``multipart/form-data`` with the JSON body as the
        ``payload`` part (``application/json``) and one part per file.
        """
        if not self.files:
            return dumps(self.body), {"Content-Type": "application/json", **self.headers}
        import httpx  # only tools that take files need multipart encoding

        parts = [(MULTIPART_PAYLOAD_FIELD, (None, dumps(self.body), "application/json")),
                 *((p.field, (p.filename, p.data, p.mime_type)) for p in self.files)]  # fmt: skip
        encoded = httpx.Request("POST", f"http://tool{ROUTE_RUN}", files=parts)  # the URL only frames the encoder
        return encoded.read(), {**self.headers, "Content-Type": encoded.headers["Content-Type"]}


def build_run_request(
    inputs: Mapping[str, JSON],
    *,
    run_id: str | None = None,
    artefacts_dir: Path | str | None = None,
    manifest: ToolManifest | None = None,
) -> RunRequest:
    """Build the one canonical run request.

    Body: ``{"run_id", "inputs", <each input again at top level>, "_pixie": {"run_id", "artefacts_dir"}}``;
    the flat copies never overwrite ``run_id``, ``inputs`` or ``_pixie``. With a manifest whose
    ``input_transport`` is ``multipart``, file values leave the JSON and become file parts.
    """
    rid = run_id or new_run_id()
    values = dict(inputs)
    files: list[MultipartPart] = []
    if manifest is not None and manifest.input_transport == "multipart":
        for spec in manifest.inputs:
            if spec.type in FILE_INPUT_TYPES and values.get(spec.key) is not None:
                raw = values.pop(spec.key)
                for item in raw if isinstance(raw, list) else [raw]:
                    f = decode_file_value(item)
                    files.append(MultipartPart(spec.key, f.name, f.mime_type, f.data))
    meta: JSONObject = {"run_id": rid}
    headers = {RUN_ID_HEADER: rid}
    if artefacts_dir is not None:
        meta["artefacts_dir"] = str(artefacts_dir)
        headers[ARTEFACTS_DIR_HEADER] = str(artefacts_dir)
    body: JSONObject = {"run_id": rid, "inputs": values}
    for key, value in values.items():
        if key not in FLAT_RESERVED_KEYS:
            body[key] = value
    body[PIXIE_META_KEY] = meta
    return RunRequest(run_id=rid, body=body, headers=headers, files=files)


@dataclass(frozen=True, slots=True)
class ParsedRunBody:
    """What a tool reads from a run request."""

    run_id: str
    inputs: JSONObject
    artefacts_dir: str | None
    flat: bool
    """True when the body had no ``inputs`` object and the flat shim was used."""


def parse_run_body(body: JSON, headers: Mapping[str, str] | None = None) -> ParsedRunBody:
    """Read a run body: nested ``inputs`` when present, else the flat top-level keys.

    The run id comes from the body, then ``_pixie``, then the header, else a fresh one
    (a tool called by hand still gets an id). Raises ``ValueError`` if the body is not an object.
    """
    if not isinstance(body, dict):
        raise ValueError("the run body must be a JSON object")
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    meta = body.get(PIXIE_META_KEY)
    meta = meta if isinstance(meta, dict) else {}
    nested = body.get("inputs")
    if isinstance(nested, dict):
        inputs, flat = dict(nested), False
    else:
        inputs, flat = {k: v for k, v in body.items() if k not in FLAT_RESERVED_KEYS}, True
    run_id = body.get("run_id") or meta.get("run_id") or hdrs.get(RUN_ID_HEADER.lower()) or new_run_id()
    artefacts = meta.get("artefacts_dir") or hdrs.get(ARTEFACTS_DIR_HEADER.lower())
    return ParsedRunBody(
        run_id=str(run_id), inputs=inputs, artefacts_dir=str(artefacts) if artefacts else None, flat=flat
    )
