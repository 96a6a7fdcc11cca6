"""Service configuration: ``[[service]]`` tables with ``[[service.routes]]`` in one or more TOML files.

Several files merge (a service named twice gets the later file's settings and both files' routes);
relative tool paths are read against the file that names them; command-line flags override
the TOML. Everything is checked here, before anything starts, with messages naming the route.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pixie_sdk.errors import PixieError

__all__ = [
    "DEFAULT_JOB_TTL_SECONDS",
    "DEFAULT_MAX_PENDING_JOBS",
    "ConfigError",
    "ExportSQL",
    "RouteConfig",
    "ServiceConfig",
    "load_services",
    "single_route_service",
]

#: A background job's handle answers for a day; after that the job is history, not a handle.
DEFAULT_JOB_TTL_SECONDS = 24 * 3600
#: Background jobs of one service not yet finished; more is a client flooding it (429).
DEFAULT_MAX_PENDING_JOBS = 256


class ConfigError(PixieError):
    """A service configuration that cannot be used; the message names the file and the route."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExportSQL(_Model):
    """Write each successful run as a row of an external database table."""

    db_connect: str = Field(min_length=1, description="SQLAlchemy URL, e.g. postgresql+psycopg://u:p@host/db")
    table: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    db_schema: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    method: Literal["insert", "update", "merge"] = "insert"
    key: list[str] = Field(default_factory=list, description="columns matched by update and merge")

    @model_validator(mode="after")
    def _key_for_update(self) -> ExportSQL:
        if self.method in ("update", "merge") and not self.key:
            raise ValueError(f"export_sql.method {self.method!r} needs `key`: the columns that identify a row")
        return self


class RouteConfig(_Model):
    """One route of a service: a tool behind a path."""

    tool: Path
    path: str = Field(pattern=r"^/[A-Za-z0-9_\-./{}]*$")
    inputs: list[str] | None = None
    """Inputs the request may set (None: all); the rest keep their defaults."""
    uploadfile_inputs: list[str] = Field(default_factory=list)
    """Inputs sent as multipart file parts."""
    outputs: list[str] | None = None
    """Outputs the reply holds (None: all)."""
    return_fileresponse: bool = False
    background: bool = False
    method: Literal["post", "get"] = "post"
    export_sql: ExportSQL | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _combinations(self) -> RouteConfig:
        if self.background and self.return_fileresponse:
            raise ValueError("background and return_fileresponse cannot be combined: a job has no file to return")
        if self.export_sql is not None and self.return_fileresponse:
            raise ValueError("export_sql and return_fileresponse cannot be combined: the reply is a raw file")
        if self.method == "get" and self.uploadfile_inputs:
            raise ValueError("uploadfile_inputs need method post: a GET has no body for file parts")
        return self


class ServiceConfig(_Model):
    """A named service: where it listens and its routes."""

    name: str = Field(min_length=1)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    prefix: str = ""
    token: str | None = None
    allowed_hosts: list[str] = Field(default_factory=list)
    max_body_mb: float = Field(default=100.0, gt=0)
    job_ttl_seconds: int = Field(default=DEFAULT_JOB_TTL_SECONDS, ge=1)
    max_pending_jobs: int = Field(default=DEFAULT_MAX_PENDING_JOBS, ge=1)
    routes: list[RouteConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_paths(self) -> ServiceConfig:
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            if (route.method, route.path) in seen:
                raise ValueError(f"two routes answer {route.method.upper()} {route.path}")
            seen.add((route.method, route.path))
        return self


def _describe(exc: ValidationError, raw: dict[str, Any]) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "routes" and isinstance(loc[1], int):
            routes = raw.get("routes") or []
            route = routes[loc[1]] if loc[1] < len(routes) and isinstance(routes[loc[1]], dict) else {}
            label = route.get("path") or f"#{loc[1] + 1}"
            rest = ".".join(str(p) for p in loc[2:])
            where = f"route {label}" + (f" ({rest})" if rest else "")
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {msg}" if where else msg)
    return "; ".join(lines)


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    services = data.get("service")
    if not isinstance(services, list) or not all(isinstance(s, dict) for s in services):
        raise ConfigError(
            f"{path}: no [[service]] tables; a service is `[[service]]` with `name` and `[[service.routes]]`"
        )
    base = path.resolve().parent
    out = []
    for service in services:
        service = dict(service)
        routes = []
        for route in service.get("routes") or []:
            if isinstance(route, dict) and isinstance(route.get("tool"), str):
                tool = Path(route["tool"]).expanduser()
                route = {**route, "tool": tool if tool.is_absolute() else base / tool}
            routes.append(route)
        service["routes"] = routes
        out.append(service)
    return out


def load_services(paths: list[Path], *, overrides: dict[str, Any] | None = None) -> dict[str, ServiceConfig]:
    """Every service in the files, merged in order, with ``overrides`` (the CLI's flags) applied to each.

    Raises:
        ConfigError: a file is missing or malformed, or a service or route is invalid.
    """
    merged: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        for raw in _read(path):
            name = raw.get("name")
            if not isinstance(name, str) or not name:
                raise ConfigError(f"{path}: a [[service]] without a `name`")
            current = merged.setdefault(name, {"routes": []})
            routes = current["routes"] + raw.pop("routes", [])
            current.update(raw)
            current["routes"] = routes
            origin[name] = path
    out: dict[str, ServiceConfig] = {}
    for name, raw in merged.items():
        values = {**raw, **{k: v for k, v in (overrides or {}).items() if v is not None}}
        try:
            out[name] = ServiceConfig.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(f"{origin[name]}: service {name!r}: {_describe(exc, values)}") from None
    return out


def single_route_service(name: str, route: dict[str, Any], settings: dict[str, Any]) -> ServiceConfig:
    """The service of ``pixie serve tool PATH --path ...``: one route, from flags.

    Raises:
        ConfigError: the flags make an invalid route (the message names the flag's field).
    """
    values = {"name": name, **{k: v for k, v in settings.items() if v is not None}, "routes": [route]}
    try:
        return ServiceConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"route {route.get('path') or '(no --path)'}: {_describe(exc, values)}") from None
