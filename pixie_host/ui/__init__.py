"""The host's web UI: one HTML shell for every page, plain ES modules and vendored libraries.

``mount(app, host)`` adds the pages under the host's URL prefix (``<p>/``, ``<p>/tools``,
``<p>/tools/{id}``, ``<p>/runs``, ``<p>/runs/{id}``) and the static files under
``<p>/ui-static/``. The page draws everything in the browser from the host's JSON API; the
server side only hands out the shell, with a strict Content-Security-Policy (scripts from the
host only, no inline script), so tool output can never run as script. See ``docs/ui.md``.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from pixie_host.host import Host

__all__ = ["CONTENT_SECURITY_POLICY", "PAGE_PATHS", "STATIC_DIR", "STATIC_ROUTE", "mount", "page_html"]

#: The UI's own JS/CSS and the vendored libraries (``static/vendor/<lib>/``).
STATIC_DIR = Path(__file__).with_name("static")
#: Where the static files are served, under the host's prefix.
STATIC_ROUTE = "/ui-static"
#: The pages the shell answers (the browser-side router picks the page from the path).
PAGE_PATHS = ("/", "/tools", "/tools/{tool_id}", "/runs", "/runs/{run_id}")
#: Scripts and styles from the host only; media may be data:, blob: or remote URLs (a tool may output them).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: http: https:; media-src 'self' data: blob: http: https:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)
#: Headers on every page: the CSP, and no MIME sniffing or referrer leaks.
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class _StaticFiles(StaticFiles):
    """Static files revalidated on every load (ETag), so an upgraded kit never serves stale modules."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def page_html(prefix: str) -> str:
    """The shell every page serves: the prefix for the scripts, the stylesheet and the entry module."""
    p = html.escape(prefix, quote=True)
    static = f"{p}{STATIC_ROUTE}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="pixie-prefix" content="{p}">
<title>Pixie</title>
<link rel="icon" href="{static}/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{static}/app.css">
<script src="{static}/js/theme.js"></script>
<script type="module" src="{static}/js/main.js"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<div id="app"><main id="main" tabindex="-1"><p class="boot">Loading…</p></main></div>
<noscript><p class="boot">This page needs JavaScript.
The JSON API is described at <a href="{p}/docs">{p}/docs</a>.</p></noscript>
</body>
</html>
"""


def mount(app: FastAPI, host: Host) -> None:
    """Add the UI's pages and static files to the host's app, under its URL prefix."""
    prefix = host.settings.clean_prefix
    body = page_html(prefix)

    async def page() -> HTMLResponse:
        return HTMLResponse(body, headers=PAGE_HEADERS)

    paths = [f"{prefix}{path}" for path in PAGE_PATHS]
    if prefix:
        paths.insert(0, prefix)
    for path in paths:
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
    app.mount(f"{prefix}{STATIC_ROUTE}", _StaticFiles(directory=STATIC_DIR), name="pixie-ui-static")
