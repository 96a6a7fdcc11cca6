"""The ``pixie`` command line: ``run``, ``serve``, ``runs``, ``logs`` and ``validate``.

Thin typer commands over ``pixie_host.server`` and the run store; conventions of contract §8
(``--json``, ``--dry-run``, the start-up object, EADDRINUSE → exit 4, one exit-code table).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from pixie_host.catalog import Catalog, discover
from pixie_host.host import DEFAULT_PORT, HostSettings, is_loopback
from pixie_host.store import RunStore, database_path, default_data_dir
from pixie_validate.cli import validate_command
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
app.command("validate", help="Check a tool against the contract (same as pixie-validate).")(validate_command)

HostOpt = Annotated[str, typer.Option("--host", help="Interface to bind (loopback only for now).")]
PortOpt = Annotated[int, typer.Option("--port", "-p", help="Port to bind (0: any free port).")]
PrefixOpt = Annotated[str, typer.Option("--prefix", help="URL prefix for every route, e.g. /pixie.")]
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


def _start(
    paths: list[Path],
    *,
    single: bool,
    host: str,
    port: int,
    prefix: str,
    data_dir: Path | None,
    python: str | None,
    sync: bool,
    open_browser: bool | None,
    dry_run: bool,
    as_json: bool,
    warm_cap: int,
    queue_limit: int,
) -> None:
    from pixie_host.host import Host
    from pixie_host.server import AddressInUse, dry_run_report, serve

    for path in paths:
        if not path.exists():
            raise _fail(f"`{path}` does not exist", ExitCode.USAGE, as_json)
    folders = list(discover(paths))
    if single and not (paths[0] / "tool.json").is_file():
        raise _fail(f"no tool.json in `{paths[0]}`; `pixie serve` takes a folder of tools", ExitCode.USAGE, as_json)
    if not folders:
        raise _fail(f"no tool folders (with a tool.json) under {', '.join(map(str, paths))}", ExitCode.USAGE, as_json)
    if not is_loopback(host):
        raise _fail(
            f"--host {host} would expose the tools beyond this machine; remote access needs an access token, "
            "which this host does not offer yet: bind 127.0.0.1 and use an SSH tunnel",
            ExitCode.USAGE,
            as_json,
        )
    settings = HostSettings(
        paths=paths,
        host=host,
        port=port,
        prefix=prefix,
        data_dir=data_dir or default_data_dir(),
        python=python,
        sync=sync,
        warm_cap=warm_cap,
        queue_limit=queue_limit,
    )
    catalog = Catalog.load(paths)
    if single and next(iter(catalog)).manifest is None:
        entry = next(iter(catalog))
        raise _fail(f"{entry.error}", ExitCode.CHECKS_FAILED, as_json)
    instance = Host(settings, catalog)
    if dry_run:
        report = dry_run_report(instance)
        instance.store.close()
        if as_json:
            sys.stdout.write(json.dumps(report, indent=2) + "\n")
        else:
            sys.stdout.write(f"would serve {report['url']} (data in {report['data_dir']}):\n")
            for tool in report["tools"]:
                mark = "ok " if tool["ok"] else "ERR"
                what = " ".join(tool.get("argv", [])) or tool.get("error", "")
                missing = (
                    f"  (missing secrets: {', '.join(tool['secrets_missing'])})" if tool.get("secrets_missing") else ""
                )
                sys.stdout.write(f"  {mark} {tool['id']}: {what}{missing}\n")
            for problem in report["problems"]:
                sys.stdout.write(f"  ERR {problem}\n")
        raise typer.Exit(0 if report["ok"] else int(ExitCode.CHECKS_FAILED))
    wants_open = open_browser if open_browser is not None else (single and sys.stdout.isatty() and not as_json)
    try:
        serve(instance, as_json=as_json, open_browser=wants_open)
    except AddressInUse as exc:
        instance.store.close()
        sys.stderr.write(json.dumps(exc.body()) + "\n")
        raise typer.Exit(int(ExitCode.ADDRESS_IN_USE)) from None


@app.command("run")
def run_command(
    path: Annotated[Path, typer.Argument(help="A tool folder (holding tool.json).")],
    host: HostOpt = "127.0.0.1",
    port: PortOpt = DEFAULT_PORT,
    prefix: PrefixOpt = "",
    data_dir: DataDirOpt = None,
    python: PythonOpt = None,
    sync: SyncOpt = False,
    open_browser: OpenOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    warm_cap: WarmCapOpt = 5,
    queue_limit: QueueOpt = 64,
) -> None:
    """Host one tool: spawn it on demand, proxy its runs, record them."""
    _start([path], single=True, host=host, port=port, prefix=prefix, data_dir=data_dir, python=python, sync=sync,
           open_browser=open_browser, dry_run=dry_run, as_json=as_json, warm_cap=warm_cap,
           queue_limit=queue_limit)  # fmt: skip


@app.command("serve")
def serve_command(
    paths: Annotated[list[Path], typer.Argument(help="Folders of tools (or tool folders).")],
    host: HostOpt = "127.0.0.1",
    port: PortOpt = DEFAULT_PORT,
    prefix: PrefixOpt = "",
    data_dir: DataDirOpt = None,
    python: PythonOpt = None,
    sync: SyncOpt = False,
    open_browser: OpenOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    warm_cap: WarmCapOpt = 5,
    queue_limit: QueueOpt = 64,
) -> None:
    """Host every tool folder under the given folders."""
    _start(paths, single=False, host=host, port=port, prefix=prefix, data_dir=data_dir, python=python, sync=sync,
           open_browser=open_browser, dry_run=dry_run, as_json=as_json, warm_cap=warm_cap,
           queue_limit=queue_limit)  # fmt: skip


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
# (end of command registrations)


@app.callback()
def _root() -> None:
    """The Pixie tool kit."""


def main() -> None:
    """Console-script entry point."""
    app(prog_name="pixie")
