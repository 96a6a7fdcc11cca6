"""Refusals of the host's API, each with a stable ``code`` and HTTP status (contract §4.4's envelope).

The HTTP status says whether a run happened at all: a run that was accepted and ended, however
it ended, is a 200 whose ``status`` and ``error`` tell how. These are the answers for requests
the host refused before or instead of a run.

::

    PixieError (pixie_sdk.errors)
    └── HostError
        ├── ToolNotFound       404 tool_not_found
        ├── RunNotFound        404 run_not_found
        ├── NotFound           404 not_found (artefacts, jobs)
        ├── InvalidRequest     422 invalid_request (the body is not what the route takes)
        ├── InvalidInputs      422 invalid_inputs (FastAPI's list, each loc naming the input)
        ├── ToolInvalid        409 tool_invalid (its tool.json cannot be loaded)
        ├── SecretMissing      409 secret_missing
        ├── RunNotActive       409 run_not_active (cancel of a finished run)
        ├── BodyTooLarge       413 body_too_large
        ├── QueueFull          429 queue_full
        └── ToolUnavailable    503 tool_unavailable (it will not start, or is in a crash loop)
"""

from __future__ import annotations

from typing import Any, ClassVar

from pixie_sdk.envelope import describe_detail
from pixie_sdk.errors import PixieError
from pixie_sdk.types import JSONObject

__all__ = [
    "BodyTooLarge",
    "HostError",
    "InvalidInputs",
    "InvalidRequest",
    "NotFound",
    "QueueFull",
    "RunNotActive",
    "RunNotFound",
    "SecretMissing",
    "ToolInvalid",
    "ToolNotFound",
    "ToolUnavailable",
]


class HostError(PixieError):
    """A request the host refused; ``envelope()`` is the JSON body."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str | list[Any], *, run_id: str | None = None, **extra: Any) -> None:
        super().__init__(describe_detail(detail))
        self.detail = detail
        self.run_id = run_id
        self.extra = extra

    def envelope(self) -> JSONObject:
        body: JSONObject = {"detail": self.detail, "code": self.code}
        if self.run_id is not None:
            body["run_id"] = self.run_id
        body.update(self.extra)
        return body


class ToolNotFound(HostError):
    status, code = 404, "tool_not_found"


class RunNotFound(HostError):
    status, code = 404, "run_not_found"


class NotFound(HostError):
    status, code = 404, "not_found"


class InvalidRequest(HostError):
    status, code = 422, "invalid_request"


class InvalidInputs(HostError):
    status, code = 422, "invalid_inputs"


class ToolInvalid(HostError):
    status, code = 409, "tool_invalid"


class SecretMissing(HostError):
    status, code = 409, "secret_missing"


class RunNotActive(HostError):
    status, code = 409, "run_not_active"


class BodyTooLarge(HostError):
    status, code = 413, "body_too_large"


class QueueFull(HostError):
    status, code = 429, "queue_full"


class ToolUnavailable(HostError):
    status, code = 503, "tool_unavailable"
