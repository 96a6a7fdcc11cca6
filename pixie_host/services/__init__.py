"""Tools as a service: TOML-configured routes over the host (``pixie serve NAME --config service.toml``)."""

from __future__ import annotations

from pixie_host.services.config import (
    ConfigError,
    ExportSQL,
    RouteConfig,
    ServiceConfig,
    load_services,
    single_route_service,
)
from pixie_host.services.routes import ResolvedRoute, mount_service, resolve_routes, route_summary

__all__ = [
    "ConfigError",
    "ExportSQL",
    "ResolvedRoute",
    "RouteConfig",
    "ServiceConfig",
    "load_services",
    "mount_service",
    "resolve_routes",
    "route_summary",
    "single_route_service",
]
