"""The serving process: what ``pixie run`` / ``pixie serve`` become once the command line is read.

The CLI checks its arguments, then replaces itself (``os.execv``, so the pid stays the same)
with ``python -m pixie_host.serving``, which imports only what a running host needs. The
command line's own imports (typer, click, the validator's CLI) would otherwise stay in the
host's memory for as long as it runs. The resolved settings travel in an environment variable
(not argv: a token must not show in ``ps``), removed as soon as it is read.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

__all__ = ["PAYLOAD_ENV", "exec_serving", "main"]

PAYLOAD_ENV = "PIXIE_SERVE_PAYLOAD"
#: How long a thread may hold the GIL while another waits for it (CPython's default is 5 ms).
GIL_SWITCH_INTERVAL_SECONDS = 0.0002
#: Exit statuses of the kit's shared table (pixie_validate.findings.ExitCode), without importing it.
EXIT_USAGE = 2
EXIT_ADDRESS_IN_USE = 4


def exec_serving(settings_json: str, *, as_json: bool, open_browser: bool, service: dict[str, Any] | None) -> None:
    """Become the serving process (never returns). ``settings_json`` is ``HostSettings.model_dump_json()``."""
    payload = {"settings": json.loads(settings_json), "as_json": as_json, "open_browser": open_browser,
               "service": service}  # fmt: skip
    os.environ[PAYLOAD_ENV] = json.dumps(payload)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "pixie_host.serving"])


def main() -> int:
    # uvicorn imports watchfiles (a 7 MB native module) for --reload only, and falls back when it is
    # missing; a host never reloads its own code, so it is kept out of the serving process.
    sys.modules.setdefault("watchfiles", None)  # type: ignore[arg-type]
    # The run path hands the GIL back and forth with the store's writer thread on every syscall;
    # at the default 5 ms switch interval the event loop can wait milliseconds to get it back.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    raw = os.environ.pop(PAYLOAD_ENV, None)
    if raw is None:
        sys.stderr.write("pixie_host.serving is started by `pixie run` / `pixie serve`, not by hand\n")
        return EXIT_USAGE
    payload = json.loads(raw)
    from pixie_host.catalog import Catalog
    from pixie_host.host import Host, HostSettings
    from pixie_host.server import AddressInUse, serve

    settings = HostSettings.model_validate(payload["settings"])
    catalog = Catalog.load(settings.paths)
    host = Host(settings, catalog)
    configure = None
    extra: dict[str, Any] = {}
    if payload["service"] is not None:
        from pixie_host.services import ServiceConfig, mount_service, resolve_routes

        service = ServiceConfig.model_validate(payload["service"])
        routes = resolve_routes(service, {e.folder: e for e in catalog})

        def configure(app: Any) -> None:
            mount_service(app, host, service, routes)

        extra = {"service": service.name, "routes": len(routes)}
    try:
        serve(host, as_json=payload["as_json"], open_browser=payload["open_browser"], configure=configure, extra=extra)
    except AddressInUse as exc:
        host.store.close()
        sys.stderr.write(json.dumps(exc.body()) + "\n")
        return EXIT_ADDRESS_IN_USE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
