"""The host's JSON API (FastAPI; OpenAPI at ``/docs``). Every run goes through ``Host.runs``.

Errors use the contract's envelope ``{"detail", "code"}`` with stable codes (``pixie_host.errors``).
The run route reads its body by hand and answers pre-encoded bytes: it is the host's hot
path, and a pydantic round trip of arbitrary tool outputs would cost more than the hop itself.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import mimetypes
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel
from pydantic_core import from_json
from starlette.exceptions import HTTPException as StarletteHTTPException

from pixie_host.catalog import ToolEntry
from pixie_host.errors import HostError, InvalidRequest, NotFound, RunNotFound, ToolNotFound
from pixie_host.host import Host
from pixie_host.security import AccessGuard, AccessPolicy, ASGIApp, Receive, Scope, Send
from pixie_host.store import RunRecord, artefact_file
from pixie_host.toolclient import ToolUnreachable
from pixie_sdk._jsonenc import dumps
from pixie_sdk.stream import HEARTBEAT
from pixie_sdk.types import JSON, JSONObject

__all__ = ["EXTENSIONS", "HEARTBEAT_SECONDS", "create_app"]

#: Overrides HEARTBEAT_SECONDS, for a reverse proxy that drops idle connections sooner than that.
HEARTBEAT_ENV = "PIXIE_SSE_HEARTBEAT_SECONDS"


def _heartbeat_seconds(default: float = 10.0) -> float:
    raw = os.environ.get(HEARTBEAT_ENV)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 3600:
        why = f"{HEARTBEAT_ENV}={raw!r} is not a number of seconds in (0, 3600)"
        sys.stderr.write(f"warning: {why}; using {default:g}\n")
        return default
    return value


#: An idle SSE stream gets a comment this often, so proxies and browsers keep it open.
HEARTBEAT_SECONDS = _heartbeat_seconds()
#: Characters of a tool's output tail ``/logs`` answers with by default.
DEFAULT_LOG_CHARS = 16_000
#: Artefacts a browser may show inline; anything else (HTML and SVG included: they run script) downloads.
INLINE_PREFIXES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "audio/", "video/")
#: Parts of the host in their own packages, each exposing ``mount(app: FastAPI, host: Host) -> None``.
EXTENSIONS = ("pixie_host.ui", "pixie_host.mcp")
_JOB_STATUS = {"queued": "pending", "running": "running", "ok": "done", "cancelled": "cancelled"}


class RunBody(BaseModel):
    """``POST /api/tools/{id}/runs``: the inputs by key (missing ones take their defaults)."""

    inputs: dict[str, Any] = {}


class RunResult(BaseModel):
    """A finished run."""

    run_id: str
    tool_id: str
    status: Literal["ok", "error", "timeout", "cancelled", "oom", "interrupted"]
    outputs: dict[str, Any] | None
    error: dict[str, Any] | None
    duration_ms: float


class JobHandle(BaseModel):
    id: str
    job_url: str


class Job(BaseModel):
    id: str
    status: Literal["pending", "running", "done", "error", "cancelled"]
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class Envelope(BaseModel):
    detail: str | list[Any]
    code: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": Envelope, "description": d}
    for s, d in ((404, "Not found"), (409, "Refused"), (422, "Invalid"), (429, "Queue full"), (503, "Unavailable"))
}


def _json(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json")


def _sse(event: JSONObject) -> bytes:
    return b"data: " + dumps(event) + b"\n\n"


async def _with_heartbeat(events: AsyncIterator[JSONObject]) -> AsyncIterator[bytes]:
    iterator = events.__aiter__()
    pending: asyncio.Task[JSONObject] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
            if not done:
                yield HEARTBEAT
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            finally:
                pending = None
            yield _sse(event)
    finally:
        if pending is not None:
            pending.cancel()


def _run_inputs(raw: bytes) -> Any:
    """The ``inputs`` of a run request body ``{"inputs": {...}}`` (an empty body: no inputs)."""
    try:
        payload = from_json(raw) if raw.strip() else {}
    except ValueError:
        raise InvalidRequest('the body is not JSON: send {"inputs": {"<input key>": <value>, ...}}') from None
    if not isinstance(payload, dict) or not set(payload) <= {"inputs"}:
        extra = sorted(set(payload) - {"inputs"}) if isinstance(payload, dict) else []
        raise InvalidRequest(
            [
                {
                    "loc": ["body", *extra[:1]],
                    "msg": 'the body is {"inputs": {...}}; put input values inside "inputs"',
                    "type": "extra_forbidden" if extra else "dict_type",
                }
            ]
        )
    return payload.get("inputs", {})


class RunFastPath:
    """``POST <prefix>/api/tools/{id}/runs`` with no query string, answered without FastAPI's routing.

    It is the host's hot path: routing through every route, solving the endpoint's dependencies and
    building a Request cost a good part of the hop's budget. The FastAPI route stays (OpenAPI, and
    the ``?background`` / ``?stream`` variants); both read the body with ``_run_inputs`` and run
    through ``host.runs``, so they answer alike.
    """

    def __init__(self, app: ASGIApp, host: Host) -> None:
        self.app = app
        self.host = host
        prefix = re.escape(host.settings.clean_prefix)
        self._pattern = re.compile(prefix + r"/api/tools/([^/]+)/runs")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string"):
            await self.app(scope, receive, send)
            return
        match = self._pattern.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        try:
            body, status = dumps(await self.host.runs.run(match.group(1), _run_inputs(b"".join(chunks)))), 200
        except HostError as exc:
            body, status = dumps(exc.envelope()), exc.status
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def _progress(events: list[JSONObject], entry: ToolEntry | None) -> JSON:
    """The latest value of the run's ``progress`` output among its stream events, if it streams one."""
    if entry is None:
        return None
    keys = {k for k, t in entry.output_types.items() if t == "progress"}
    for event in reversed(events):
        if event.get("output_key") in keys:
            return event.get("value")
    return None


def _job(record: RunRecord) -> JSONObject:
    status = _JOB_STATUS.get(record.status, "error")
    job: JSONObject = {"id": record.id, "status": status}
    if status in ("done", "error", "cancelled"):
        job["result"] = {
            "run_id": record.id,
            "tool_id": record.tool_id,
            "status": record.status,
            "outputs": record.outputs,
            "error": record.error.model_dump() if record.error else None,
            "duration_ms": record.duration_ms,
        }
        if record.meta and "export" in record.meta:
            job["result"]["export"] = record.meta["export"]
    if record.error is not None and status != "done":
        job["error"] = record.error.model_dump()
    return job


def create_app(host: Host) -> FastAPI:
    """The host's ASGI app; its lifespan starts and stops the host."""
    prefix = host.settings.clean_prefix

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await host.start()
        try:
            # Extensions' own lifespans (``app.state.lifespans``), inside the host's: they serve its tools.
            async with AsyncExitStack() as parts:
                for part in _app.state.lifespans:
                    await parts.enter_async_context(part())
                yield
        finally:
            await host.stop()

    app = FastAPI(
        title="Pixie host",
        summary="Run Pixie tools: spawned, supervised, limited and recorded.",
        docs_url=f"{prefix}/docs",
        openapi_url=f"{prefix}/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.host = host
    app.state.lifespans = []  # each a () -> async context manager, entered in order once the host has started
    settings = host.settings
    # Added first, so it sits inside the guard: every request is checked before it can run anything.
    app.add_middleware(RunFastPath, host=host)
    app.add_middleware(
        AccessGuard,
        policy=AccessPolicy.for_bind(
            settings.host,
            extra_hosts=settings.allowed_hosts,
            token=settings.token,
            max_body_mb=settings.max_body_mb,
            prefix=prefix,
        ),
    )

    @app.exception_handler(HostError)
    async def _host_error(_request: Request, exc: HostError) -> Response:
        return JSONResponse(exc.envelope(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"detail": errors, "code": "invalid_request"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"detail": exc.detail, "code": code}, status_code=exc.status_code)

    api = APIRouter()

    @api.get("/healthz", tags=["host"])
    async def healthz() -> JSONObject:
        return {"ok": True, "tools": len(host.catalog)}

    def tool_summary(tool_id: str) -> JSONObject:
        entry = host.catalog.get(tool_id)
        slot = host.supervisor.slot(tool_id)
        if entry is None or slot is None:
            raise ToolNotFound(f"no tool with id {tool_id!r}; GET {prefix}/api/tools lists them")
        m = entry.manifest
        return {
            "id": entry.id,
            "name": m.name if m else entry.id,
            "description": m.description if m else None,
            "category": m.category if m else None,
            "tags": list(m.tags) if m else [],
            "folder": str(entry.folder),
            "streaming": entry.streaming,
            "error": entry.error,
            **slot.snapshot(),
        }

    @api.get("/api/tools", tags=["tools"])
    async def list_tools() -> list[JSONObject]:
        return [tool_summary(e.id) for e in host.catalog]

    @api.get("/api/tools/{tool_id}", tags=["tools"], responses=_ERRORS)
    async def get_tool(tool_id: str) -> JSONObject:
        summary = tool_summary(tool_id)
        entry = host.catalog.get(tool_id)
        assert entry is not None
        validation = await host.store.alast_validation(tool_id)
        return {
            **summary,
            "manifest": entry.manifest.model_dump(mode="json", by_alias=True, exclude_none=True)
            if entry.manifest
            else None,
            "last_validation": validation.model_dump() if validation else None,
            "stderr_tail": host.supervisor.slot(tool_id).output_tail(),  # type: ignore[union-attr]
        }

    @api.get("/api/tools/{tool_id}/logs", tags=["tools"], responses=_ERRORS)
    async def tool_logs(tool_id: str, limit: Annotated[int, Query(ge=1, le=65536)] = DEFAULT_LOG_CHARS) -> JSONObject:
        tool_summary(tool_id)
        slot = host.supervisor.slot(tool_id)
        assert slot is not None
        # The log file spans restarts (the ring holds only the current process), already masked.
        text = await asyncio.to_thread(_tail, host.supervisor.log_file(tool_id), limit)
        return {"tool": tool_id, "state": slot.state.value, "text": text if text is not None else slot.output_tail()}

    @api.get("/api/tools/{tool_id}/autocomplete/{endpoint:path}", tags=["tools"], responses=_ERRORS)
    async def autocomplete(tool_id: str, endpoint: str, q: str = "") -> Response:
        """Suggestions for an ``autocomplete`` input, from the tool (started if need be): ``[{value, label}]``."""
        tool_summary(tool_id)
        entry = host.catalog.get(tool_id)
        slot = host.supervisor.slot(tool_id)
        assert entry is not None and slot is not None
        if entry.manifest is None or not entry.manifest.provides_autocomplete:
            raise NotFound(f"{tool_id} does not provide autocomplete (`provides_autocomplete` in its tool.json)")
        runner = await host.supervisor.ensure_ready(slot)
        try:
            return _json(await runner.suggest(endpoint, q))
        except ToolUnreachable as exc:
            raise NotFound(
                f"{tool_id} gave no suggestions for {endpoint!r}: {entry.secrets().mask(str(exc))}"
            ) from None

    @api.post(
        "/api/tools/{tool_id}/runs",
        tags=["runs"],
        response_model=RunResult,
        responses={202: {"model": JobHandle, "description": "Started in the background"}, **_ERRORS},
        openapi_extra={
            "requestBody": {"content": {"application/json": {"schema": RunBody.model_json_schema()}}, "required": False}
        },
    )
    async def create_run(
        tool_id: str,
        request: Request,
        background: bool = False,
        stream: bool = False,
        source: Literal["api", "ui"] = "api",
    ) -> Response:
        """Run a tool. Waits for the end (200), or with ``?background=true`` answers 202 with a job handle
        at once, or with ``?stream=true`` answers the run's events as SSE (closing the stream cancels the run)."""
        inputs = _run_inputs(await request.body())
        if background:
            live = host.runs.start(tool_id, inputs, source=source)
            job_url = f"{str(request.base_url).rstrip('/')}{prefix}/jobs/{live.id}"
            return _json({"id": live.id, "job_url": job_url}, 202)
        if stream:
            live = host.runs.start(tool_id, inputs, source=source)

            async def relay() -> AsyncIterator[bytes]:
                try:
                    async for chunk in _with_heartbeat(host.runs.subscribe(live.id)):
                        yield chunk
                finally:
                    if live.final is None and live.task is not None and not live.task.done():
                        # The client went away: the run it was watching is cancelled (contract §4.5).
                        asyncio.ensure_future(host.runs.cancel(live.id))

            return StreamingResponse(relay(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        return _json(await host.runs.run(tool_id, inputs, source=source))

    async def job_or_404(job_id: str) -> RunRecord:
        record = await host.store.aget(job_id)
        if record is None:
            raise NotFound(f"no job {job_id!r}")
        if record.finished_at is not None and time.time() - record.finished_at > settings.job_ttl_seconds:
            raise NotFound(
                f"job {job_id} ended over {settings.job_ttl_seconds} s ago; its run is at /api/runs/{job_id}"
            )
        return record

    @api.get("/jobs/{job_id}", tags=["runs"], response_model=Job, responses=_ERRORS)
    async def get_job(job_id: str) -> Response:
        """A job: pending (queued), running (with ``progress`` if the tool streams it), done, error, cancelled."""
        record = await job_or_404(job_id)
        job = _job(record)
        live = host.runs.live(job_id)
        if live is not None:
            job["queue_position"] = host.runs.queue_position(job_id)
            progress = _progress(live.events, host.catalog.get(record.tool_id))
            if progress is not None:
                job["progress"] = progress
        return _json(job)

    @api.delete("/jobs/{job_id}", tags=["runs"], response_model=Job, responses=_ERRORS)
    async def cancel_job(job_id: str) -> Response:
        await job_or_404(job_id)
        await host.runs.cancel(job_id)
        return _json(_job(await job_or_404(job_id)))

    @api.get("/api/runs", tags=["runs"])
    async def list_runs(
        tool: str | None = None,
        status: str | None = None,
        starred: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        before: float | None = None,
    ) -> Response:
        records = await host.store.alist_runs(tool=tool, status=status, starred=starred, limit=limit, before=before)
        return _json([_brief(r) for r in records])

    async def record_or_404(run_id: str) -> RunRecord:
        record = await host.store.aget(run_id)
        if record is None:
            raise RunNotFound(f"no run {run_id!r}; GET {prefix}/api/runs lists recent runs")
        return record

    @api.get("/api/runs/{run_id}", tags=["runs"], responses=_ERRORS)
    async def get_run(run_id: str) -> Response:
        record = await record_or_404(run_id)
        data = record.public()
        data["queue_position"] = host.runs.queue_position(run_id)
        return _json(data)

    @api.get("/api/runs/{run_id}/events", tags=["runs"], responses=_ERRORS)
    async def run_events(run_id: str) -> StreamingResponse:
        """The run's events as SSE: live while it runs (from the start), replayed from the record after."""
        live = host.runs.live(run_id)
        if live is not None:
            source = host.runs.subscribe(run_id)
        else:
            record = await record_or_404(run_id)
            source = _replay(record)
        return StreamingResponse(
            _with_heartbeat(source), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @api.post("/api/runs/{run_id}/cancel", tags=["runs"], responses=_ERRORS)
    async def cancel_run(run_id: str) -> Response:
        await record_or_404(run_id)
        await host.runs.cancel(run_id)
        record = await record_or_404(run_id)
        return _json({"run_id": run_id, "status": record.status})

    @api.post("/api/runs/{run_id}/star", tags=["runs"], responses=_ERRORS)
    async def star_run(run_id: str, starred: bool = True) -> JSONObject:
        """Star (or with ``?starred=false`` unstar) a run: starred runs are never pruned."""
        if not await host.store.astar(run_id, starred):
            raise RunNotFound(f"no run {run_id!r}")
        return {"run_id": run_id, "starred": starred}

    @api.get("/api/runs/{run_id}/artefacts", tags=["runs"], responses=_ERRORS)
    async def list_artefacts(run_id: str) -> JSONObject:
        record = await record_or_404(run_id)
        base = Path(record.artefacts_dir) if record.artefacts_dir else None
        names = (
            sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file() and not p.name.startswith("_"))
            if base is not None and base.is_dir()
            else []
        )
        return {"run_id": run_id, "artefacts": names}

    @api.get("/api/runs/{run_id}/artefacts/{name:path}", tags=["runs"], responses=_ERRORS)
    async def get_artefact(run_id: str, name: str) -> FileResponse:
        record = await record_or_404(run_id)
        if not record.artefacts_dir:
            raise NotFound(f"run {run_id} has no artefacts")
        target = artefact_file(record.artefacts_dir, name, private=True)
        if target is None:
            raise NotFound(f"run {run_id} has no artefact {name!r}")
        media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        inline = media.startswith(INLINE_PREFIXES)
        return FileResponse(
            target,
            media_type=media,
            filename=target.name,
            content_disposition_type="inline" if inline else "attachment",
            headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
        )

    app.include_router(api, prefix=prefix)
    for mount in _extensions():
        mount(app, host)
    root_path = prefix or "/"
    if not any(getattr(route, "path", None) in (root_path, f"{prefix}/") for route in app.routes):

        @app.get(root_path, include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse(f"{prefix}/docs")

    return app


def _extensions() -> Iterator[Callable[[FastAPI, Host], None]]:
    """``mount(app, host)`` of each optional part of the host that is installed (the web UI, the MCP endpoint)."""
    for name in EXTENSIONS:
        if importlib.util.find_spec(name) is not None:
            mount = getattr(importlib.import_module(name), "mount", None)
            if callable(mount):
                yield mount


def _tail(path: Path, limit: int) -> str | None:
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - limit * 4))  # characters are up to 4 bytes in UTF-8
            return f.read().decode("utf-8", errors="replace")[-limit:]
    except OSError:
        return None


def _brief(record: RunRecord) -> JSONObject:
    return {
        "id": record.id,
        "tool_id": record.tool_id,
        "status": record.status,
        "source": record.source,
        "starred": record.starred,
        "queued_at": record.queued_at,
        "finished_at": record.finished_at,
        "duration_ms": record.duration_ms,
        "error": record.error.model_dump() if record.error else None,
    }


async def _replay(record: RunRecord) -> AsyncIterator[JSONObject]:
    events = list(record.events or [])
    for event in events:
        if not event.get("done"):
            yield event
    yield {
        "output_key": None,
        "value": None,
        "done": True,
        "outputs": record.outputs,
        "status": record.status,
        "error": record.error.model_dump() if record.error else None,
    }
