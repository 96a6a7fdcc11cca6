"""The error envelope (contract §4.4): ``{"detail": <string or list>, "code"?: <string>}``.

Tools built with the SDK emit it; the host and validator read any error body through
``read_error_body``, which also makes sense of foreign bodies (plain text, HTML, odd JSON).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from pixie_sdk.types import JSON

__all__ = ["ErrorEnvelope", "describe_detail", "read_error_body"]

#: Longest foreign error text kept as ``detail``; the rest is noise for a person.
MAX_TEXT_DETAIL = 2000


class ErrorEnvelope(BaseModel):
    """The JSON body of every 4xx/5xx answer."""

    model_config = ConfigDict(extra="allow")

    detail: str | list[Any]
    """A sentence for a person, or FastAPI's list of ``{loc, msg, type}`` for invalid inputs."""
    code: str | None = None
    """A short machine-readable reason (``invalid_inputs``, ``handler_error``, ``invalid_output``...)."""

    def message(self) -> str:
        """``detail`` as one readable string."""
        return describe_detail(self.detail)

    def body(self) -> dict[str, JSON]:
        """The wire form (``code`` left out when unset)."""
        return self.model_dump(exclude_none=True)


def describe_detail(detail: JSON) -> str:
    """Render a ``detail`` value for a person: a 422 list becomes ``inputs.rate: Input should be ...`` lines."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        lines = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                loc = [str(p) for p in item.get("loc", []) if p != "body"]
                lines.append(f"{'.'.join(loc)}: {item['msg']}" if loc else str(item["msg"]))
            else:
                lines.append(str(item))
        return "; ".join(lines)
    return json.dumps(detail)


def read_error_body(status: int, content_type: str | None, body: bytes) -> ErrorEnvelope:
    """Normalise any error response into an envelope; never raises.

    JSON with ``detail`` is kept as is (``message`` or ``error`` keys are read as the detail
    when ``detail`` is missing); anything else becomes a text ``detail``.
    """
    text = body.decode("utf-8", errors="replace").strip()
    if content_type is None or "json" in content_type or text[:1] in "{[":
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            detail = data.get("detail", data.get("message", data.get("error")))
            if isinstance(detail, dict):
                detail = detail.get("message") or json.dumps(detail)
            if isinstance(detail, str | list):
                code = data.get("code")
                extra = {k: v for k, v in data.items() if k not in ("detail", "code")}
                return ErrorEnvelope(detail=detail, code=code if isinstance(code, str) else None, **extra)
    if not text:
        text = f"HTTP {status} with an empty body"
    return ErrorEnvelope(detail=text[:MAX_TEXT_DETAIL], code=None)
