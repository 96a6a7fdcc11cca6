"""The ``pixie`` command line: ``run``, ``serve``, ``runs``, ``logs`` and ``validate``.

Thin typer commands over ``pixie_host.server`` and the run store; conventions of contract §8
(``--json``, ``--dry-run``, the start-up object, EADDRINUSE → exit 4, one exit-code table).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from pixie_host.catalog import Catalog, discover
from pixie_host.host import DEFAULT_MAX_BODY_MB, DEFAULT_PORT, HostSettings, is_loopback
from pixie_host.mcp.cli import mcp_command
from pixie_host.scaffold import new_command
from pixie_host.security import new_token
from pixie_host.store import RunStore, database_path, default_data_dir
from pixie_validate.findings import ExitCode

__all__ = ["app", "main"]

#: How often ``pixie logs --follow`` looks for new output.
FOLLOW_POLL_SECONDS = 0.25

app = typer.Typer(
    name="pixie",
    help="The Pixie tool kit: validate, run and serve Pixie tools.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.command(
    "validate",
    help="Check a tool against the contract (same as pixie-validate; `pixie validate --help` lists its options).",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def validate_passthrough(ctx: typer.Context) -> None:
    """``pixie-validate`` itself, imported only when asked for: the host never carries the validator's imports."""
    from pixie_validate.cli import app as validate_app

    validate_app(args=list(ctx.args), prog_name="pixie validate")


HostOpt = Annotated[
    str | None, typer.Option("--host", help="Interface to bind (default 127.0.0.1; beyond loopback a token is needed).")
]
PortOpt = Annotated[int | None, typer.Option("--port", "-p", help="Port to bind (default 7860; 0: any free port).")]
PrefixOpt = Annotated[str | None, typer.Option("--prefix", help="URL prefix for every route, e.g. /pixie.")]
TokenOpt = Annotated[
    str | None, typer.Option("--token", envvar="PIXIE_TOKEN", help="Access token required as a bearer header.")
]
AllowedHostOpt = Annotated[
    list[str] | None, typer.Option("--allowed-host", help="Another Host-header name to accept (repeatable).")
]
MaxBodyOpt = Annotated[float | None, typer.Option("--max-body-mb", help="Host-wide request body cap (default 100).")]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Run history, logs and artefacts (default: the user's data folder).")
]
PythonOpt = Annotated[str | None, typer.Option("--python", help="Interpreter for every tool (default: its .venv).")]
SyncOpt = Annotated[bool, typer.Option("--sync", help="Run `uv sync` in each tool folder before its first start.")]
OpenOpt = Annotated[bool | None, typer.Option("--open/--no-open", help="Open the host in a browser.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Load and check everything, print what would start.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Start-up object and NDJSON lifecycle events on stdout.")]
WarmCapOpt = Annotated[int, typer.Option("--warm-cap", min=1, help="Tools kept running at once (LRU beyond).")]
QueueOpt = Annotated[
    int, typer.Option("--queue-limit", min=1, help="Runs that may wait for a `concurrent: false` tool (429 beyond).")
]


def _fail(message: str, code: ExitCode, as_json: bool, **extra: object) -> typer.Exit:
    if as_json:
        sys.stderr.write(json.dumps({"status": "error", "code": code.name, "message": message, **extra}) + "\n")
    else:
        sys.stderr.write(f"error: {message}\n")
    return typer.Exit(int(code))


class _Common(BaseModel):
    """The flags ``run`` and ``serve`` share (None: not given, so a service's TOML decides)."""

    host: str | None
    port: int | None
    prefix: str | None
    data_dir: Path | None
    python: str | None
    sync: bool
    open_browser: bool | None
    dry_run: bool
    as_json: bool
    warm_cap: int
    queue_limit: int
    token: str | None
    allowed_hosts: list[str]
    max_body_mb: float | None


def _settings(paths: list[Path], c: _Common, *, host: str, port: int, prefix: str, **more: Any) -> HostSettings:
    token, given = c.token or more.pop("token", None), True
    if token is None and not is_loopback(host):
        # Beyond loopback the host is never open: a token is made and printed once.
        token, given = new_token(), False
    return HostSettings(
        paths=paths,
        host=host,
        port=port,
        prefix=prefix,
        data_dir=c.data_dir or default_data_dir(),
        python=c.python,
        sync=c.sync,
        warm_cap=c.warm_cap,
        queue_limit=c.queue_limit,
        token=token,
        token_given=given,
        allowed_hosts=c.allowed_hosts + list(more.pop("allowed_hosts", [])),
        max_body_mb=c.max_body_mb or more.pop("max_body_mb", None) or DEFAULT_MAX_BODY_MB,
        **more,
    )


def _check_paths(paths: list[Path], *, single: bool, as_json: bool) -> None:
    for path in paths:
        if not path.exists():
            raise _fail(f"`{path}` does not exist", ExitCode.USAGE, as_json)
    if single and not (paths[0] / "tool.json").is_file():
        raise _fail(f"no tool.json in `{paths[0]}`; `pixie serve` takes a folder of tools", ExitCode.USAGE, as_json)
    if not list(discover(paths)):
        raise _fail(f"no tool folders (with a tool.json) under {', '.join(map(str, paths))}", ExitCode.USAGE, as_json)


def _launch(
    settings: HostSettings,
    catalog: Catalog,
    c: _Common,
    *,
    single: bool,
    service: Any = None,
    routes: list[Any] | None = None,
) -> None:
    wants_open = c.open_browser if c.open_browser is not None else (single and sys.stdout.isatty() and not c.as_json)
    if not c.dry_run:
        from pixie_host.serving import exec_serving

        dumped = None if service is None else service.model_dump(mode="json")
        exec_serving(settings.model_dump_json(), as_json=c.as_json, open_browser=wants_open, service=dumped)
    from pixie_host.host import Host
    from pixie_host.server import dry_run_report

    instance = Host(settings, catalog)
    report = dry_run_report(instance)
    instance.store.close()
    if service is not None:
        from pixie_host.services import route_summary

        report["service"] = service.name
        report["routes"] = [route_summary(r) for r in routes or []]
    _print_dry_run(report, c.as_json)
    raise typer.Exit(0 if report["ok"] else int(ExitCode.CHECKS_FAILED))


def _print_dry_run(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    out = sys.stdout
    if "service" in report:
        out.write(f"Service:  {report['service']}\n  Host:   {report['host']}\n  Port:   {report['port']}\n")
        out.write(f"Routes ({len(report['routes'])}):\n")
        for route in report["routes"]:
            out.write(f"  {route['label']}\n")
    out.write(f"would serve {report['url']} (data in {report['data_dir']}):\n")
    for tool in report["tools"]:
        mark = "ok " if tool["ok"] else "ERR"
        what = " ".join(tool.get("argv", [])) or tool.get("error", "")
        missing = f"  (missing secrets: {', '.join(tool['secrets_missing'])})" if tool.get("secrets_missing") else ""
        out.write(f"  {mark} {tool['id']}: {what}{missing}\n")
    for problem in report["problems"]:
        out.write(f"  ERR {problem}\n")


def _serve_folders(paths: list[Path], c: _Common, *, single: bool) -> None:
    _check_paths(paths, single=single, as_json=c.as_json)
    port = DEFAULT_PORT if c.port is None else c.port
    settings = _settings(paths, c, host=c.host or "127.0.0.1", port=port, prefix=c.prefix or "")
    catalog = Catalog.load(paths)
    if single and next(iter(catalog)).manifest is None:
        raise _fail(f"{next(iter(catalog)).error}", ExitCode.CHECKS_FAILED, c.as_json)
    _launch(settings, catalog, c, single=single)


def _serve_service(service: Any, c: _Common) -> None:
    from pixie_host.catalog import ToolEntry
    from pixie_host.services import ConfigError, resolve_routes
    from pixie_host.services.export import check_url

    folders = list(dict.fromkeys(r.tool.resolve() for r in service.routes))
    missing = [f for f in folders if not (f / "tool.json").is_file()]
    if missing:
        where = next(r.path for r in service.routes if r.tool.resolve() == missing[0])
        message = f"service {service.name!r}: route {where}: no tool at {missing[0]} (a folder holding tool.json)"
        raise _fail(message, ExitCode.USAGE, c.as_json)
    catalog = Catalog.load(folders)
    entries: dict[Path, ToolEntry] = {e.folder: e for e in catalog}
    try:
        routes = resolve_routes(service, entries)
        for route in service.routes:
            if route.export_sql is not None:
                check_url(route.export_sql.db_connect, f"service {service.name!r}: route {route.path}")
    except ConfigError as exc:
        raise _fail(str(exc), ExitCode.USAGE, c.as_json) from None
    settings = _settings(
        folders,
        c,
        host=c.host or service.host,
        port=service.port if c.port is None else c.port,
        prefix=service.prefix if c.prefix is None else c.prefix,
        token=service.token,
        allowed_hosts=service.allowed_hosts,
        max_body_mb=service.max_body_mb,
        job_ttl_seconds=service.job_ttl_seconds,
    )
    _launch(settings, catalog, c, single=False, service=service, routes=routes)


@app.command("run")
def run_command(
    path: Annotated[Path, typer.Argument(help="A tool folder (holding tool.json).")],
    host: HostOpt = None,
    port: PortOpt = None,
    prefix: PrefixOpt = None,
    data_dir: DataDirOpt = None,
    python: PythonOpt = None,
    sync: SyncOpt = False,
    open_browser: OpenOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    warm_cap: WarmCapOpt = 5,
    queue_limit: QueueOpt = 64,
    token: TokenOpt = None,
    allowed_host: AllowedHostOpt = None,
    max_body_mb: MaxBodyOpt = None,
) -> None:
    """Host one tool: spawn it on demand, proxy its runs, record them."""
    common = _Common(
        host=host, port=port, prefix=prefix, data_dir=data_dir, python=python, sync=sync, open_browser=open_browser,
        dry_run=dry_run, as_json=as_json, warm_cap=warm_cap, queue_limit=queue_limit, token=token,
        allowed_hosts=allowed_host or [], max_body_mb=max_body_mb,
    )  # fmt: skip
    _serve_folders([path], common, single=True)


@app.command("serve")
def serve_command(
    args: Annotated[
        list[str],
        typer.Argument(metavar="DIR... | NAME --config FILE | tool PATH --path /x", help="What to serve (see below)."),
    ],
    config: Annotated[list[Path] | None, typer.Option("--config", help="Service TOML (repeatable; merged).")] = None,
    host: HostOpt = None,
    port: PortOpt = None,
    prefix: PrefixOpt = None,
    data_dir: DataDirOpt = None,
    python: PythonOpt = None,
    sync: SyncOpt = False,
    open_browser: OpenOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    warm_cap: WarmCapOpt = 5,
    queue_limit: QueueOpt = 64,
    token: TokenOpt = None,
    allowed_host: AllowedHostOpt = None,
    max_body_mb: MaxBodyOpt = None,
    path: Annotated[str | None, typer.Option("--path", help="Single-route mode: the route's URL path.")] = None,
    inputs: Annotated[list[str] | None, typer.Option("--inputs", help="Inputs the request may set.")] = None,
    uploadfile_inputs: Annotated[
        list[str] | None, typer.Option("--uploadfile-inputs", help="Inputs sent as multipart file parts.")
    ] = None,
    outputs: Annotated[list[str] | None, typer.Option("--outputs", help="Outputs the reply holds.")] = None,
    return_fileresponse: Annotated[
        bool, typer.Option("--return-fileresponse", help="Reply with the single media/file output as a raw file.")
    ] = False,
    background: Annotated[bool, typer.Option("--background", help="Reply at once with a job handle.")] = False,
    method: Annotated[str, typer.Option("--method", help="post, or get (inputs from the query string).")] = "post",
    export_sql_db_connect: Annotated[
        str | None, typer.Option("--export-sql-db-connect", help="SQLAlchemy URL to export each run to.")
    ] = None,
    export_sql_table: Annotated[str | None, typer.Option("--export-sql-table", help="Export table.")] = None,
    export_sql_db_schema: Annotated[str | None, typer.Option("--export-sql-db-schema", help="Export schema.")] = None,
    export_sql_method: Annotated[str, typer.Option("--export-sql-method", help="insert, update or merge.")] = "insert",
    export_sql_key: Annotated[
        list[str] | None, typer.Option("--export-sql-key", help="Key columns for update and merge.")
    ] = None,
) -> None:
    """Serve tools over HTTP.

    `pixie serve DIR...` hosts every tool folder under the folders. `pixie serve NAME --config
    service.toml` starts the named service's routes. `pixie serve tool PATH --path /x [--inputs a b]
    [--outputs c]` serves one tool as one route.
    """
    from pixie_host.services import ConfigError, load_services, single_route_service

    common = _Common(
        host=host, port=port, prefix=prefix, data_dir=data_dir, python=python, sync=sync, open_browser=open_browser,
        dry_run=dry_run, as_json=as_json, warm_cap=warm_cap, queue_limit=queue_limit, token=token,
        allowed_hosts=allowed_host or [], max_body_mb=max_body_mb,
    )  # fmt: skip
    export = None
    if export_sql_db_connect is not None:
        export = {
            "db_connect": export_sql_db_connect,
            "table": export_sql_table or "",
            "db_schema": export_sql_db_schema,
            "method": export_sql_method,
            "key": export_sql_key or [],
        }
    route_flags: dict[str, Any] = {
        "inputs": inputs, "uploadfile_inputs": uploadfile_inputs, "outputs": outputs,
        "return_fileresponse": return_fileresponse or None, "background": background or None, "export_sql": export,
    }  # fmt: skip
    single_route = args[:1] == ["tool"] and path is not None
    if not single_route and (path is not None or any(v for v in route_flags.values())):
        message = "route flags (--path, --inputs, ...) go with `pixie serve tool PATH --path /x`"
        raise _fail(message, ExitCode.USAGE, as_json)
    try:
        if config:
            if len(args) != 1:
                raise _fail(f"with --config give one service name, got {args}", ExitCode.USAGE, as_json)
            services = load_services(config)
            if args[0] not in services:
                known = ", ".join(services) or "none"
                message = f"no service {args[0]!r} in {', '.join(map(str, config))} (services: {known})"
                raise _fail(message, ExitCode.USAGE, as_json)
            _serve_service(services[args[0]], common)
        elif single_route:
            if len(args) != 2:
                raise _fail("single-route mode is `pixie serve tool PATH --path /x`", ExitCode.USAGE, as_json)
            folder = Path(args[1])
            if not (folder / "tool.json").is_file():
                raise _fail(f"no tool.json in `{folder}`", ExitCode.USAGE, as_json)
            route = {"tool": folder.resolve(), "path": path, "method": method}
            route.update({k: v for k, v in route_flags.items() if v is not None})
            _serve_service(single_route_service(folder.resolve().name, route, {}), common)
        else:
            _serve_folders([Path(a) for a in args], common, single=False)
    except ConfigError as exc:
        raise _fail(str(exc), ExitCode.USAGE, as_json) from None


def _store(data_dir: Path | None, as_json: bool) -> RunStore:
    path = database_path(data_dir or default_data_dir())
    if not path.exists():
        raise _fail(f"no run history at {path} (nothing has run yet with this --data-dir)", ExitCode.USAGE, as_json)
    return RunStore(path)


@app.command("runs")
def runs_command(
    run_id: Annotated[str | None, typer.Argument(help="Show this run in full instead of listing.")] = None,
    tool: Annotated[str | None, typer.Option("--tool", help="Only this tool's runs.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only runs with this status.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="How many runs.")] = 20,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List recent runs (newest first), or show one."""
    with _store(data_dir, as_json) as store:
        if run_id is not None:
            record = store.get(run_id)
            if record is None:
                raise _fail(f"no run {run_id!r}; `pixie runs` lists recent runs", ExitCode.USAGE, as_json)
            sys.stdout.write(json.dumps(record.public(), indent=None if as_json else 2) + "\n")
            return
        records = store.list_runs(tool=tool, status=status, limit=limit)
    if as_json:
        for r in records:
            sys.stdout.write(json.dumps(r.public()) + "\n")
        return
    if not records:
        sys.stdout.write("no runs\n")
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.queued_at))
        took = f"{r.duration_ms:.0f} ms" if r.duration_ms is not None else "-"
        star = "*" if r.starred else " "
        why = f"  {r.error.code}" if r.error else ""
        sys.stdout.write(f"{star} {r.id}  {when}  {r.tool_id:<24} {r.status:<11} {took:>9}{why}\n")


@app.command("logs")
def logs_command(
    tool: Annotated[str, typer.Argument(help="The tool id.")],
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, help="Lines from the end.")] = 100,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new output.")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Print a tool's output (stdout and stderr, secrets masked) as the host recorded it."""
    path = (data_dir or default_data_dir()) / "logs" / f"{tool}.log"
    if not path.is_file():
        raise _fail(
            f"no log for {tool!r} at {path}: it has not been started with this --data-dir", ExitCode.USAGE, False
        )
    text = path.read_text(errors="replace").splitlines()
    for line in text[-lines:]:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    if not follow:
        return
    with path.open("r", errors="replace") as f:
        f.seek(0, 2)
        try:
            while True:
                chunk = f.read()
                if chunk:
                    sys.stdout.write(chunk)
                    sys.stdout.flush()
                else:
                    time.sleep(FOLLOW_POLL_SECONDS)
        except KeyboardInterrupt:
            return


# Commands in their own modules register here, one line each.
app.command("new")(new_command)
app.command("mcp")(mcp_command)
# (end of command registrations)


@app.callback()
def _root() -> None:
    """The Pixie tool kit."""


#: Options that take several values after one flag, as the seed writes them (`--inputs a b --outputs c`).
MULTI_VALUE_OPTIONS = frozenset({"--inputs", "--outputs", "--uploadfile-inputs", "--export-sql-key"})


def expand_multi_values(argv: list[str]) -> list[str]:
    """``--inputs a b`` as click wants it: ``--inputs a --inputs b`` (values run until the next ``-`` token)."""
    out: list[str] = []
    current: str | None = None
    for token in argv:
        if token.startswith("-"):
            current = token if token in MULTI_VALUE_OPTIONS else None
            out.append(token)
        elif current is not None and out[-1] != current:
            out += [current, token]
        else:
            out.append(token)
    return out


def main() -> None:
    """Console-script entry point."""
    app(args=expand_multi_values(sys.argv[1:]), prog_name="pixie")
