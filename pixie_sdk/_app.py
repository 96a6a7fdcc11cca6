"""``make_tool_app``: a FastAPI app that serves a tool.json and a handler by the Pixie contract.

The app answers ``/healthz`` and ``/schema`` (tool.json verbatim, read once), turns the run
body into the tool's ``RunInput``, calls the handler with a ``RunContext``, checks and
normalises the result against the declared outputs, and serves ``/stream`` and ``/cancel``.
Errors always leave as the envelope of ``pixie_sdk.envelope``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import traceback
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeAlias, TypeVar, cast

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from pixie_sdk._jsonenc import dumps
from pixie_sdk._runs import LiveRun, RunRegistry
from pixie_sdk.context import RunCancelled, RunContext
from pixie_sdk.contract import (
    ENV_DEV,
    MANIFEST_FILENAME,
    ROUTE_CANCEL,
    ROUTE_HEALTHZ,
    ROUTE_RUN,
    ROUTE_SCHEMA,
    ROUTE_STREAM,
    RUN_ID_HEADER,
)
from pixie_sdk.envelope import ErrorEnvelope
from pixie_sdk.errors import ManifestError, ToolError
from pixie_sdk.files import InputFile
from pixie_sdk.manifest import ToolManifest, check_coherence, manifest_path, parse_manifest, read_manifest_json
from pixie_sdk.run_input import RunInput, build_run_input_model, input_errors
from pixie_sdk.runbody import FILE_INPUT_TYPES, MULTIPART_PAYLOAD_FIELD, parse_run_body
from pixie_sdk.shapes import normalise_output, placeholder, shape_problems
from pixie_sdk.stream import StreamEvent
from pixie_sdk.types import JSON, JSONObject

__all__ = ["Handler", "ToolApp", "make_tool_app"]

log = logging.getLogger("pixie_sdk")

#: A handler: ``(inputs)`` or ``(inputs, ctx)``, sync or async, returning outputs keyed by output key.
Handler: TypeAlias = Callable[..., Mapping[str, Any] | None | Awaitable[Mapping[str, Any] | None]]
H = TypeVar("H", bound=Handler)
AutocompleteFn: TypeAlias = Callable[[str], Any]


class _RunFailed(Exception):
    def __init__(self, status: int, envelope: ErrorEnvelope) -> None:
        self.status = status
        self.envelope = envelope


def _error(status: int, detail: str | list[Any], code: str, **extra: Any) -> JSONResponse:
    return JSONResponse(ErrorEnvelope(detail=detail, code=code, **extra).body(), status_code=status)


class ToolApp(FastAPI):
    """The FastAPI app of one Pixie tool. Register the handler with ``@app.handler``."""

    def __init__(self, manifest_file: Path, *, dev: bool | None = None) -> None:
        raw = read_manifest_json(manifest_file)  # readable errors for a missing or broken file
        raw_bytes = manifest_file.read_bytes()
        manifest = parse_manifest(raw, source=manifest_file)
        coherence = check_coherence(manifest)
        if coherence.errors:
            raise ManifestError(manifest_file, coherence.errors)
        super().__init__(title=manifest.name, description=manifest.description or "", version=manifest.version or "0")
        self.manifest: ToolManifest = manifest
        self.tool_dir = manifest_file.parent
        self.dev = os.environ.get(ENV_DEV) == "1" if dev is None else dev
        self._schema_bytes = raw_bytes
        self._input_model = build_run_input_model(manifest)
        self._types: dict[str, str] = {o.key: o.type for o in manifest.outputs}
        self._handler: Handler | None = None
        self._wants_ctx = False
        self._is_async = False
        self._runs = RunRegistry()
        # concurrent: false holds in-process too: a FIFO lock (asyncio.Lock wakes waiters in order).
        self._serial: asyncio.Lock | None = None if manifest.concurrent else asyncio.Lock()
        self._autocomplete: dict[str, AutocompleteFn] = {}
        self._file_keys = {i.key for i in manifest.inputs if i.type in FILE_INPUT_TYPES}
        self._routes()

    @property
    def input_model(self) -> type[RunInput]:
        """The ``RunInput`` subclass generated from this tool's inputs."""
        return self._input_model

    def handler(self, fn: H) -> H:
        """Register the run handler (decorator). It takes ``(inputs)`` or ``(inputs, ctx)``; sync or async."""
        if not callable(fn):
            raise TypeError("@app.handler decorates a function: write `@app.handler`, not `@app.handler()`")
        params = list(inspect.signature(fn).parameters.values())
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if not 1 <= len(positional) <= 2:
            raise TypeError(f"a Pixie handler takes (inputs) or (inputs, ctx); `{fn.__name__}` takes {len(params)}")
        self._handler = fn
        self._wants_ctx = len(positional) == 2
        self._is_async = inspect.iscoroutinefunction(fn)
        return fn

    def autocomplete(self, endpoint: str) -> Callable[[AutocompleteFn], AutocompleteFn]:
        """Serve suggestions at ``/autocomplete/<endpoint>?q=``; the function returns strings or ``{value, label}``."""

        def register(fn: AutocompleteFn) -> AutocompleteFn:
            self._autocomplete[endpoint] = fn
            return fn

        return register

    # -- routes ---------------------------------------------------------------------------------

    def _routes(self) -> None:
        self.add_api_route(ROUTE_HEALTHZ, self._healthz, methods=["GET"], include_in_schema=False)
        self.add_api_route(ROUTE_SCHEMA, self._schema, methods=["GET"])
        self.add_api_route(ROUTE_RUN, self._run, methods=["POST"])
        self.add_api_route(ROUTE_STREAM, self._stream, methods=["GET"])
        self.add_api_route(ROUTE_CANCEL, self._cancel, methods=["POST"])
        self.add_api_route("/autocomplete/{endpoint:path}", self._suggest, methods=["GET"])
        if self.manifest.provides_file_endpoint:
            self.add_api_route("/files/{run_id}/{name:path}", self._file, methods=["GET"])
        self.add_exception_handler(Exception, self._crash)

    async def _healthz(self) -> JSONObject:
        return {"ok": True}

    async def _schema(self) -> Response:
        return Response(self._schema_bytes, media_type="application/json")

    async def _crash(self, request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, f"internal error: {type(exc).__name__}: {exc}", "internal_error")

    async def _read_body(self, request: Request) -> tuple[JSON, dict[str, Any]]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            async with request.form() as form:  # closing it deletes the spooled temp files
                payload = form.get(MULTIPART_PAYLOAD_FIELD)
                text = await payload.read() if isinstance(payload, UploadFile) else payload
                body = json.loads(text) if text else {}
                files: dict[str, Any] = {}
                for key in self._file_keys:
                    parts = [p for p in form.getlist(key) if isinstance(p, UploadFile)]
                    decoded = [
                        InputFile(name=p.filename or key, mime_type=p.content_type or "application/octet-stream",
                                  data=await p.read())
                        for p in parts
                    ]  # fmt: skip
                    if decoded:
                        spec = self.manifest.input(key)
                        files[key] = decoded if getattr(spec, "multiple", False) else decoded[0]
            return body, files
        raw = await request.body()
        return (json.loads(raw) if raw.strip() else {}), {}

    async def _run(self, request: Request) -> Response:
        try:
            body, files = await self._read_body(request)
            parsed = parse_run_body(body, request.headers)
        except ValueError as exc:
            return _error(422, f"the request body is not a JSON object: {exc}", "invalid_body")
        existing = self._runs.get(parsed.run_id)
        if existing is not None and not existing.done:
            return _error(409, f"run `{parsed.run_id}` is already in progress", "duplicate_run")
        try:
            inputs = self._input_model.model_validate({**parsed.inputs, **files})
        except ValidationError as exc:
            return _error(422, input_errors(exc), "invalid_inputs")
        if self._handler is None:
            return _error(500, "the tool has no handler: register one with @app.handler", "no_handler")
        run = LiveRun(parsed.run_id, self._types, asyncio.get_running_loop(), on_finish=self._runs.finished)
        run.ctx = RunContext(
            run_id=parsed.run_id, manifest=self.manifest, artefacts_dir=parsed.artefacts_dir, publish=run.publish
        )
        self._runs.add(run)
        # The reply body is outputs only (no envelope); the run id rides in a header so a caller
        # that sent none can still follow /stream.
        run_header = {RUN_ID_HEADER: parsed.run_id}
        if self.manifest.streams:
            run.task = asyncio.create_task(self._stream_run(run, inputs))
            reply = {o.key: placeholder(o.type) for o in self.manifest.outputs}
            return Response(dumps(reply), media_type="application/json", headers=run_header)
        try:
            outputs = await self._execute(run, inputs)
        except _RunFailed as failed:
            run.finish(StreamEvent(done=True, status=_status(failed), error=failed.envelope.body()))
            return JSONResponse(failed.envelope.body(), status_code=failed.status, headers=run_header)
        try:
            data = dumps(outputs)
        except (TypeError, ValueError) as exc:
            envelope = ErrorEnvelope(
                detail=f"the handler's result cannot be sent as JSON: {exc}", code="invalid_output"
            )
            run.finish(StreamEvent(done=True, status="error", error=envelope.body()))
            return JSONResponse(envelope.body(), status_code=500, headers=run_header)
        run.finish(StreamEvent(done=True, status="ok", outputs=outputs))
        return Response(data, media_type="application/json", headers=run_header)

    async def _stream_run(self, run: LiveRun, inputs: RunInput) -> None:
        try:
            outputs = await self._execute(run, inputs)
            dumps(outputs)
        except _RunFailed as failed:
            run.finish(StreamEvent(done=True, status=_status(failed), error=failed.envelope.body()))
        except (TypeError, ValueError) as exc:
            envelope = ErrorEnvelope(
                detail=f"the handler's result cannot be sent as JSON: {exc}", code="invalid_output"
            )
            run.finish(StreamEvent(done=True, status="error", error=envelope.body()))
        else:
            run.finish(StreamEvent(done=True, status="ok", outputs=outputs))

    async def _execute(self, run: LiveRun, inputs: RunInput) -> JSONObject:
        if self._serial is None:
            return await self._call(run, inputs)
        try:
            async with self._serial:
                return await self._call(run, inputs)
        except asyncio.CancelledError:  # cancelled while still waiting its turn
            raise _RunFailed(409, ErrorEnvelope(detail="the run was cancelled", code="cancelled")) from None

    async def _call(self, run: LiveRun, inputs: RunInput) -> JSONObject:
        ctx = run.ctx
        assert ctx is not None and self._handler is not None
        args: tuple[Any, ...] = (inputs, ctx) if self._wants_ctx else (inputs,)
        if ctx.cancelled:  # cancelled while queued: the handler never starts
            raise _RunFailed(409, ErrorEnvelope(detail="the run was cancelled", code="cancelled"))
        try:
            if self._is_async:
                run.task = run.task or asyncio.current_task()
                result = await cast(Awaitable[Any], self._handler(*args))
            else:
                result = await run_in_threadpool(self._handler, *args)
        except ToolError as exc:
            raise _RunFailed(exc.status_code, ErrorEnvelope(detail=exc.message, code=exc.code)) from None
        except (RunCancelled, asyncio.CancelledError):
            raise _RunFailed(409, ErrorEnvelope(detail="the run was cancelled", code="cancelled")) from None
        except Exception as exc:
            log.error("handler crashed in run %s", run.run_id, exc_info=exc)
            extra = {"traceback": traceback.format_exc()} if self.dev else {}
            detail = f"the tool's handler crashed: {type(exc).__name__}: {exc}"
            raise _RunFailed(500, ErrorEnvelope(detail=detail, code="handler_error", **extra)) from None
        if ctx.cancelled:
            raise _RunFailed(409, ErrorEnvelope(detail="the run was cancelled", code="cancelled"))
        return self._check_result(run, result)

    def _check_result(self, run: LiveRun, result: Any) -> JSONObject:
        if result is None:
            result = {}
        if not isinstance(result, Mapping):
            got = type(result).__name__
            detail = f"the handler returned a {got}; return a dict keyed by output key"
            raise _RunFailed(500, ErrorEnvelope(detail=detail, code="invalid_output"))
        # Streamed outputs need not be returned again; an echoed run_id is allowed and dropped.
        merged: JSONObject = {**run.state, **{k: v for k, v in result.items() if k != "run_id"}}
        problems: list[str] = []
        out: JSONObject = {}
        for key in merged:
            if key not in self._types:
                problems.append(f"output `{key}` is not declared in tool.json; declare it or stop returning it")
        for spec in self.manifest.outputs:
            if spec.key not in merged:
                problems.append(f"output `{spec.key}` ({spec.type}) is missing from the handler's result")
                continue
            value = normalise_output(spec.type, merged[spec.key])
            for problem in shape_problems(spec.type, value, canonical=True)[:5]:
                problems.append(f"output `{spec.key}` ({spec.type}): {problem}")
            out[spec.key] = value
        if problems:
            raise _RunFailed(500, ErrorEnvelope(detail="; ".join(problems), code="invalid_output"))
        return out

    async def _stream(self, run_id: str) -> Response:
        run = self._runs.get(run_id)
        if run is None:
            return _error(404, f"unknown run `{run_id}`: start it with POST /run first", "unknown_run")
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(run.sse(), media_type="text/event-stream", headers=headers)

    async def _cancel(self, run_id: str) -> JSONObject:
        run = self._runs.get(run_id)
        if run is None or run.done or run.ctx is None:
            return {"cancelled": False}
        run.ctx.cancel()
        if self._is_async and run.task is not None:
            run.task.cancel()
        return {"cancelled": True}

    async def _file(self, run_id: str, name: str) -> Response:
        run = self._runs.get(run_id)
        if run is None or run.ctx is None:
            return _error(404, f"unknown run `{run_id}`", "unknown_run")
        root = run.ctx.artefacts_dir.resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return _error(404, f"run `{run_id}` has no file `{name}`", "unknown_file")
        return FileResponse(path)

    def cancel_all(self) -> int:
        """Cancel every run in flight (on shutdown, so cancellable handlers end with a reply); returns how many."""
        count = 0
        for run in self._runs.live():
            if run.ctx is not None:
                run.ctx.cancel()
                if self._is_async and run.task is not None:
                    run.task.cancel()
                count += 1
        return count

    async def _suggest(self, endpoint: str, q: str = "") -> Response:
        fn = self._autocomplete.get(endpoint)
        if fn is None:
            return _error(404, f"no autocomplete endpoint `{endpoint}`", "unknown_endpoint")
        found = await fn(q) if inspect.iscoroutinefunction(fn) else await run_in_threadpool(fn, q)
        if isinstance(found, Mapping):
            found = found.get("results", [])
        items = [{"value": s, "label": s} if isinstance(s, str) else s for s in (found or [])]
        return Response(dumps(items), media_type="application/json")


def _status(failed: _RunFailed) -> str:
    return "cancelled" if failed.envelope.code == "cancelled" else "error"


def make_tool_app(
    source: str | os.PathLike[str], handler: Handler | None = None, *, dev: bool | None = None
) -> ToolApp:
    """Build the FastAPI app of a Pixie tool.

    Args:
        source: the tool folder, its tool.json, or any file in the folder (pass ``__file__``).
        handler: the run handler; or register it later with ``@app.handler``.
        dev: development mode (handler crashes carry a traceback); defaults to ``PIXIE_DEV=1``.

    Raises:
        ManifestError: tool.json is missing or invalid; the message names the file and the key.
    """
    path = Path(source).resolve()
    if path.is_file() and path.name != MANIFEST_FILENAME:
        path = path.parent
    app = ToolApp(manifest_path(path), dev=dev)
    if handler is not None:
        app.handler(handler)
    return app
