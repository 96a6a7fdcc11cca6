"""A service's routes: each one a tool behind a path, with typed request and reply schemas in OpenAPI.

A route reads its inputs from a JSON body, a multipart form (file parts for
``uploadfile_inputs``) or the query string (``method = "get"``), keeps to the inputs it lets
the caller set, runs the tool through the host's one run path (``source="service"``), and
answers the outputs it names, a raw file (``return_fileresponse``), or a job handle
(``background``). A successful run can be exported as a SQL row; the export's outcome is in
the reply and the run record, and a failed export never fails the run.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic_core import from_json
from starlette.datastructures import UploadFile

from pixie_host.catalog import ToolEntry
from pixie_host.errors import BodyTooLarge, InvalidRequest, NotFound, QueueFull
from pixie_host.host import Host
from pixie_host.services.config import ConfigError, RouteConfig, ServiceConfig
from pixie_host.services.export import SqlExporter
from pixie_host.store import artefact_file
from pixie_sdk._jsonenc import dumps
from pixie_sdk.files import encode_data_url, parse_data_url
from pixie_sdk.input_specs import InputSpec
from pixie_sdk.json_schema import input_schema, output_value_schema
from pixie_sdk.shapes import is_artefact_ref, unwrap_scalar
from pixie_sdk.types import JSON, JSONObject

__all__ = ["ResolvedRoute", "mount_service", "resolve_routes", "route_summary"]

#: Output types a ``return_fileresponse`` route can send as a raw file.
FILE_OUTPUT_TYPES = frozenset({"image", "audio", "video", "file"})
FILE_INPUT_TYPES = frozenset({"file", "image", "audio"})
#: Input types whose form or query value is JSON text.
_JSON_TEXT_TYPES = frozenset(
    {"json", "table", "multiselect", "tags", "date_range", "map_point", "map_bbox", "map_polygon", "map_multipoint"}
)
_NUMBER_TYPES = frozenset({"number", "slider"})
_BOOL_TYPES = frozenset({"checkbox", "toggle"})
_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no", ""})
#: How a failed run answers on a service route: the HTTP status for each run status or error code.
_STATUS_FOR_CODE = {"invalid_inputs": 422, "secret_missing": 409, "tool_unavailable": 503, "cancelled": 409}
_STATUS_FOR_RUN = {"timeout": 504, "oom": 507, "cancelled": 409, "interrupted": 503}
#: The reply's reserved key for run metadata (the run body's own ``_pixie`` convention).
META_KEY = "_pixie"


@dataclass(frozen=True)
class ResolvedRoute:
    """A route with its tool loaded and its inputs and outputs checked against the manifest."""

    config: RouteConfig
    entry: ToolEntry
    inputs: tuple[InputSpec, ...]
    outputs: tuple[str, ...]
    file_output: str | None

    @property
    def label(self) -> str:
        return f"[{self.entry.id}] {self.config.method.upper()} {self.config.path}"


def resolve_routes(service: ServiceConfig, entries: dict[Path, ToolEntry]) -> list[ResolvedRoute]:
    """Check every route against its tool's manifest.

    Raises:
        ConfigError: listing every problem, each naming its route.
    """
    problems: list[str] = []
    resolved: list[ResolvedRoute] = []
    for route in service.routes:
        where = f"route {route.path}"
        entry = entries.get(route.tool.resolve())
        if entry is None or not (route.tool / "tool.json").is_file():
            problems.append(f"{where}: no tool at {route.tool} (a folder holding tool.json)")
            continue
        if entry.manifest is None:
            problems.append(f"{where}: the tool at {route.tool} does not load: {entry.error}")
            continue
        manifest = entry.manifest
        by_key = {i.key: i for i in manifest.inputs}
        allowed = list(route.inputs) if route.inputs is not None else [i.key for i in manifest.inputs]
        for key in [*allowed, *route.uploadfile_inputs]:
            if key not in by_key:
                problems.append(f"{where}: {manifest.id} has no input {key!r} (its inputs: {', '.join(by_key)})")
        for key in route.uploadfile_inputs:
            if key in by_key and by_key[key].type not in FILE_INPUT_TYPES:
                problems.append(
                    f"{where}: uploadfile input {key!r} is a {by_key[key].type} input, not file/image/audio"
                )
        declared = [o.key for o in manifest.outputs]
        outputs = list(route.outputs) if route.outputs is not None else declared
        for key in outputs:
            if key not in declared:
                problems.append(f"{where}: {manifest.id} has no output {key!r} (its outputs: {', '.join(declared)})")
        file_output = None
        if route.return_fileresponse:
            types = entry.output_types
            media = [k for k in outputs if types.get(k) in FILE_OUTPUT_TYPES]
            if len(media) != 1:
                problems.append(
                    f"{where}: return_fileresponse needs exactly one image, audio, video or file output among "
                    f"its outputs, found {len(media)}; list it in `outputs`"
                )
            else:
                file_output = media[0]
        keys = dict.fromkeys([*allowed, *route.uploadfile_inputs])
        specs = tuple(by_key[k] for k in keys if k in by_key)
        resolved.append(ResolvedRoute(route, entry, specs, tuple(k for k in outputs if k in declared), file_output))
    if problems:
        raise ConfigError(f"service {service.name!r}: " + "; ".join(problems))
    return resolved


def route_summary(route: ResolvedRoute) -> JSONObject:
    config = route.config
    export = config.export_sql
    return {
        "label": route.label,
        "path": config.path,
        "method": config.method.upper(),
        "tool": route.entry.id,
        "folder": str(route.entry.folder),
        "inputs": [s.key for s in route.inputs],
        "uploadfile_inputs": list(config.uploadfile_inputs),
        "outputs": list(route.outputs),
        "background": config.background,
        "return_fileresponse": config.return_fileresponse,
        "export_sql": None
        if export is None
        else {"table": export.table, "db_schema": export.db_schema, "method": export.method, "key": export.key},
    }


# --- request parsing ----------------------------------------------------------------------------------------------


def _coerce(spec: InputSpec, raw: str) -> JSON:
    """A form field or query value as the input's JSON type; left as text when it does not parse (the 422 says why)."""
    kind = spec.type
    text = raw.strip()
    if kind in _NUMBER_TYPES:
        try:
            number = float(text)
        except ValueError:
            return raw
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if kind in _BOOL_TYPES:
        lowered = text.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else raw
    if kind in _JSON_TEXT_TYPES:
        try:
            value: JSON = json.loads(text)
        except ValueError:
            return [t.strip() for t in text.split(",") if t.strip()] if kind in ("multiselect", "tags") else raw
        return value
    if kind in ("select", "radio", "autocomplete"):
        options = getattr(spec, "options", None) or []
        for option in options:
            value = option.value if hasattr(option, "value") else option
            if str(value) == text:
                return value
    return raw


def _unknown(keys: list[str], allowed: dict[str, InputSpec]) -> InvalidRequest:
    return InvalidRequest(
        [
            {
                "loc": ["body", key],
                "msg": f"this route does not take {key!r}; it takes {', '.join(allowed) or 'nothing'}",
                "type": "extra_forbidden",
            }
            for key in keys
        ]
    )


async def _read_inputs(route: ResolvedRoute, request: Request) -> JSONObject:
    allowed = {s.key: s for s in route.inputs}
    uploads = set(route.config.uploadfile_inputs)
    if route.config.method == "get":
        extra = [k for k in request.query_params if k not in allowed]
        if extra:
            raise _unknown(extra, allowed)
        return {k: _coerce(allowed[k], v) for k, v in request.query_params.items()}
    content_type = request.headers.get("content-type", "")
    # `curl -d '{...}'` labels JSON as a urlencoded form: a body that is a JSON object is read as one.
    looks_json = (
        content_type.startswith("application/x-www-form-urlencoded") and (await request.body()).lstrip()[:1] == b"{"
    )
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")) and not looks_json:
        form = await request.form()
        try:
            inputs: JSONObject = {}
            extra = [k for k in form if k not in allowed]
            if extra:
                raise _unknown(extra, allowed)
            for key, value in form.multi_items():
                spec = allowed[key]
                if isinstance(value, UploadFile):
                    if key not in uploads:
                        raise InvalidRequest(
                            [
                                {
                                    "loc": ["body", key],
                                    "msg": f"{key!r} is not a file input of this route",
                                    "type": "value_error",
                                }
                            ]
                        )
                    data = await value.read()
                    mime = value.content_type or "application/octet-stream"
                    inputs[key] = encode_data_url(data, mime, value.filename)
                else:
                    inputs[key] = _coerce(spec, value)
            return inputs
        finally:
            await form.close()
    raw = await request.body()
    try:
        body = from_json(raw) if raw.strip() else {}
    except ValueError:
        raise InvalidRequest("the body is not JSON: send an object of input key to value") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object of input key to value")
    extra = [k for k in body if k not in allowed]
    if extra:
        raise _unknown(extra, allowed)
    return body


# --- replies ------------------------------------------------------------------------------------------------------


def _failure(result: JSONObject) -> Response:
    error = result.get("error") or {}
    code = str(error.get("code") or result["status"])
    status = _STATUS_FOR_CODE.get(code) or _STATUS_FOR_RUN.get(str(result["status"]))
    tool_status = error.get("status_code")
    if status is None:
        status = int(tool_status) if isinstance(tool_status, int) and 400 <= tool_status < 500 else 502
    body: JSONObject = {
        "detail": error.get("detail", "the run failed"),
        "code": code,
        "run_id": result["run_id"],
        "status": result["status"],
    }
    return Response(dumps(body), status_code=status, media_type="application/json")


async def _file_reply(host: Host, route: ResolvedRoute, result: JSONObject) -> Response:
    key = route.file_output
    assert key is not None
    outputs = result.get("outputs") or {}
    if key not in outputs:
        raise NotFound(f"the run gave no {key!r} output to return")
    value, wrapper = unwrap_scalar(outputs[key])
    filename = None
    mime = None
    if route.entry.output_types[key] == "file" and isinstance(value, dict):
        filename = value.get("filename")
        mime = value.get("mime_type")
        value = value.get("data")
    headers = {"X-Pixie-Run-Id": str(result["run_id"]), "X-Content-Type-Options": "nosniff"}
    if isinstance(value, str) and value.startswith("data:"):
        parsed = parse_data_url(value)
        if parsed is not None:
            media, data, _params = parsed
            disposition = f'attachment; filename="{filename}"' if filename else "inline"
            return Response(
                data, media_type=str(mime or media), headers={**headers, "Content-Disposition": disposition}
            )
    if is_artefact_ref(value):
        assert isinstance(value, dict)
        record = await host.store.aget(str(result["run_id"]))
        target = artefact_file(record.artefacts_dir, str(value["artefact"]), private=True) if record else None
        if target is not None:
            return FileResponse(
                target,
                media_type=str(value.get("mime_type") or mime or "") or None,
                filename=filename or target.name,
                headers=headers,
            )
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return RedirectResponse(value, headers=headers)
    raise NotFound(f"the {key!r} output holds no file the host can send")


# --- OpenAPI ------------------------------------------------------------------------------------------------------


def _openapi(route: ResolvedRoute) -> dict[str, Any]:
    manifest = route.entry.manifest
    assert manifest is not None
    full = input_schema(manifest)
    props = {s.key: full["properties"][s.key] for s in route.inputs}
    required = [k for k in full["required"] if k in props]
    types = route.entry.output_types
    out_props: JSONObject = {k: output_value_schema(types[k]) for k in route.outputs}
    out_props[META_KEY] = {
        "type": "object",
        "description": "The run behind this reply: its id, duration and (when the route exports) the SQL export.",
        "properties": {"run_id": {"type": "string"}, "duration_ms": {"type": "number"}, "export": {"type": "object"}},
    }
    name = "".join(p.capitalize() for p in f"{manifest.id}-{route.config.path}".replace("/", "-").split("-") if p)
    extra: dict[str, Any] = {
        "operationId": name[0].lower() + name[1:],
        "summary": manifest.name,
        "description": manifest.description or "",
    }
    if route.config.method == "get":
        extra["parameters"] = [
            {"name": k, "in": "query", "required": k in required, "schema": s} for k, s in props.items()
        ]
    else:
        content: JSONObject = {}
        body = {
            "type": "object",
            "title": f"{name}Request",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }
        if route.config.uploadfile_inputs:
            form_props = dict(props)
            for key in route.config.uploadfile_inputs:
                form_props[key] = {"type": "string", "format": "binary"}
            content["multipart/form-data"] = {"schema": {**body, "properties": form_props}}
        content["application/json"] = {"schema": body}
        extra["requestBody"] = {"required": bool(required), "content": content}
    if route.config.return_fileresponse:
        ok: JSONObject = {
            "description": "The file",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    elif route.config.background:
        ok = {
            "description": "Started",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"id": {"type": "string"}, "job_url": {"type": "string"}},
                        "required": ["id", "job_url"],
                    }
                }
            },
        }
    else:
        ok = {
            "description": "The outputs",
            "content": {
                "application/json": {"schema": {"type": "object", "title": f"{name}Reply", "properties": out_props}}
            },
        }
    error = {
        "description": "Refused or failed",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"detail": {}, "code": {"type": "string"}, "run_id": {"type": "string"}},
                    "required": ["detail", "code"],
                }
            }
        },
    }
    extra["responses"] = {"202" if route.config.background else "200": ok, "422": error, "502": error}
    return extra


# --- mounting -----------------------------------------------------------------------------------------------------


def mount_service(app: FastAPI, host: Host, service: ServiceConfig, routes: list[ResolvedRoute]) -> None:
    """Add each route to the host's app (the host's own API stays, for history and jobs)."""
    prefix = host.settings.clean_prefix
    exporters = {id(r): SqlExporter(r.config.export_sql, r) for r in routes if r.config.export_sql is not None}
    app.state.service = service
    app.state.exporters = list(exporters.values())
    pending: set[str] = set()

    async def export(route: ResolvedRoute, result: JSONObject) -> JSONObject | None:
        exporter = exporters.get(id(route))
        if exporter is None or result["status"] != "ok":
            return None
        record = await host.store.aget(str(result["run_id"]))
        inputs = route.entry.with_defaults(record.inputs if record else {})
        outcome = await asyncio.to_thread(exporter.write, result, inputs)
        host.store.update_later(str(result["run_id"]), meta={"export": outcome})
        return outcome

    def make(route: ResolvedRoute) -> Any:
        async def endpoint(request: Request) -> Response:
            cap = _body_cap(route.entry, service)
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > cap:
                raise BodyTooLarge(f"the request body is over this route's limit of {cap / 2**20:.1f} MiB")
            inputs = await _read_inputs(route, request)
            if route.config.background:
                if len(pending) >= service.max_pending_jobs:
                    raise QueueFull(f"{len(pending)} background jobs of this service are still running; try later")
                live = host.runs.start(route.entry.id, inputs, source="service")
                pending.add(live.id)

                async def finish() -> None:
                    try:
                        assert live.task is not None
                        result = await asyncio.shield(live.task)
                        await export(route, result)
                    finally:
                        pending.discard(live.id)

                asyncio.ensure_future(finish())
                url = f"{str(request.base_url).rstrip('/')}{prefix}/jobs/{live.id}"
                return Response(dumps({"id": live.id, "job_url": url}), status_code=202, media_type="application/json")
            result = await host.runs.run(route.entry.id, inputs, source="service")
            if result["status"] != "ok":
                return _failure(result)
            if route.config.return_fileresponse:
                return await _file_reply(host, route, result)
            outputs = result.get("outputs") or {}
            body: JSONObject = {k: outputs[k] for k in route.outputs if k in outputs}
            meta: JSONObject = {"run_id": result["run_id"], "duration_ms": result["duration_ms"]}
            exported = await export(route, result)
            if exported is not None:
                meta["export"] = exported
            body[META_KEY] = meta
            return Response(
                dumps(body), media_type="application/json", headers={"X-Pixie-Run-Id": str(result["run_id"])}
            )

        return endpoint

    for route in routes:
        app.add_api_route(
            prefix + route.config.path,
            make(route),
            methods=[route.config.method.upper()],
            tags=[f"service: {service.name}"],
            openapi_extra=_openapi(route),
            name=route.label,
        )


def _body_cap(entry: ToolEntry, service: ServiceConfig) -> int:
    """The host-wide cap, lowered to what the tool's own file inputs allow (base64 grows data by 4/3)."""
    cap = int(service.max_body_mb * 2**20)
    manifest = entry.manifest
    if manifest is None:
        return cap
    sizes = [getattr(i, "max_size_mb", None) for i in manifest.inputs if i.type in FILE_INPUT_TYPES]
    if sizes and all(s is not None for s in sizes):
        tool_cap = int(sum(float(s) for s in sizes if s is not None) * 2**20 * 4 / 3) + 2**20
        cap = min(cap, tool_cap)
    return cap
