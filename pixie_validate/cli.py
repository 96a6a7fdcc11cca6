"""``pixie-validate``: the command line. Thin: parse, call ``pixie_validate.api``, pick a reporter, exit."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

from pixie_validate.api import find_tools, resolve_options, validate
from pixie_validate.checks import REGISTRY
from pixie_validate.context import ValidateOptions
from pixie_validate.errors import ValidateError
from pixie_validate.findings import ExitCode, Report
from pixie_validate.registry import CheckSpec
from pixie_validate.reporters import REPORTERS, make_console

__all__ = ["app", "main"]

app = typer.Typer(
    name="pixie-validate",
    help="Check a Pixie tool against the contract: the numbered checks of contract §7.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _list_checks(value: bool) -> None:
    if not value:
        return
    table = Table("#", "name", "severity", "kind", "summary", title="pixie-validate checks")
    for spec in REGISTRY:
        kind = spec.kind + (" (opt-in)" if spec.opt_in else "")
        table.add_row(f"{spec.number:02d}", spec.name, spec.severity, kind, spec.summary)
    make_console().print(table)
    raise typer.Exit(ExitCode.OK)


def _explain(value: str | None) -> None:
    if value is None:
        return
    try:
        specs = REGISTRY.resolve(value)
    except KeyError as exc:
        _fail(str(exc.args[0]), ExitCode.USAGE, as_json=False)
    console = make_console()
    for spec in specs:
        console.print(Markdown(explain_text(spec)))
    raise typer.Exit(ExitCode.OK)


def explain_text(spec: CheckSpec) -> str:
    """The docs entry of a check as markdown (``--explain`` and docs/checks.md)."""
    gates = ", ".join(str(n) for n in spec.requires) or "none"
    head = (
        f"## {spec.number:02d} {spec.name}\n\n**{spec.summary}.**\n\n"
        f"Severity: {spec.severity} · kind: {spec.kind}{' (opt-in: --fuzz)' if spec.opt_in else ''}"
        f" · needs checks: {gates}\n\nFix: {spec.fix}.\n"
    )
    body = spec.docs
    for section in ("What it checks:", "Why it matters:", "How to fix:", "Example:"):
        body = body.replace(section, f"\n**{section[:-1]}**:")
    return head + "\n" + body.strip() + "\n"


def _fail(message: str, code: ExitCode, *, as_json: bool) -> None:
    if as_json:
        sys.stderr.write(json.dumps({"status": "error", "code": code.name, "message": message}) + "\n")
    else:
        make_console(stderr=True).print(f"[px.fail]error:[/] {message}")
    raise typer.Exit(code)


class OutputFormat(enum.StrEnum):
    """Where the report goes: a terminal, a program, or GitHub annotations."""

    rich = "rich"
    json = "json"
    github = "github"


Paths = Annotated[list[Path] | None, typer.Argument(help="Tool folders, or folders of tools.")]
Select = Annotated[list[str] | None, typer.Option("--select", help="Run only these checks (number, name, prefix).")]
Ignore = Annotated[list[str] | None, typer.Option("--ignore", help="Skip these checks (number, name, prefix).")]
Strict = Annotated[bool, typer.Option("--strict", help="Warnings fail too.")]
Fuzz = Annotated[bool, typer.Option("--fuzz", help="Also run check 16 (schemathesis fuzzing).")]
FuzzExamples = Annotated[int, typer.Option("--fuzz-examples", help="Examples per fuzz run.", min=1)]
Timeout = Annotated[float | None, typer.Option("--timeout", help="Start-up deadline, seconds (default 30).", min=0.1)]
Python = Annotated[str | None, typer.Option("--python", help="Interpreter to run the tool with.")]
Format = Annotated[OutputFormat, typer.Option("--format", help="Report format.")]
AsJson = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
Update = Annotated[bool, typer.Option("--update-fixtures", help="Refresh reference fixtures (dry run unless --yes).")]
Yes = Annotated[bool, typer.Option("--yes", help="Write what --update-fixtures would change.")]
NewFixture = Annotated[str | None, typer.Option("--new-fixture", help="Record the sample run as a fixture.")]
Fixture = Annotated[list[str] | None, typer.Option("--fixture", help="Only these fixtures (name or glob).")]
ListChecks = Annotated[
    bool, typer.Option("--list-checks", help="List the checks and exit.", callback=_list_checks, is_eager=True)
]
Explain = Annotated[
    str | None, typer.Option("--explain", help="Explain a check and exit.", callback=_explain, is_eager=True)
]


@app.command()
def validate_command(
    ctx: typer.Context,
    paths: Paths = None,
    select: Select = None,
    ignore: Ignore = None,
    strict: Strict = False,
    fuzz: Fuzz = False,
    fuzz_examples: FuzzExamples = 50,
    timeout: Timeout = None,
    python: Python = None,
    output_format: Format = OutputFormat.rich,
    as_json: AsJson = False,
    update_fixtures: Update = False,
    yes: Yes = False,
    new_fixture: NewFixture = None,
    fixture: Fixture = None,
    list_checks: ListChecks = False,
    explain: Explain = None,
) -> None:
    """Validate Pixie tools; exit 0 on pass or warn, 1 when a check fails, 2 on usage errors, 3 when a tool
    cannot be found or started."""
    fmt = "json" if as_json else output_format.value
    if not paths:
        _fail("give at least one tool folder", ExitCode.USAGE, as_json=fmt == "json")
    options = ValidateOptions(
        select=select or [], ignore=ignore or [], strict=strict, fuzz=fuzz, fuzz_examples=fuzz_examples,
        timeout=timeout, python=python, update_fixtures=update_fixtures, yes=yes, new_fixture=new_fixture,
        fixtures=fixture or [],
    )  # fmt: skip
    cli_set = {name for name, source in ctx._parameter_source.items() if str(source) != "ParameterSource.DEFAULT"}
    cli_set = {{"fixture": "fixtures", "output_format": "format"}.get(n, n) for n in cli_set}
    reports: list[Report] = []
    try:
        folders = find_tools(paths or [])
        err = make_console(stderr=True)
        for folder in folders:
            tool_options = resolve_options(folder, options, cli_set)
            with err.status(f"validating {folder.name}…") as status:

                def show(spec: CheckSpec, name: str = folder.name) -> None:
                    status.update(f"{name}: {spec.slug}")

                reports.append(validate(folder, tool_options, progress=show))
    except ValidateError as exc:
        code = ExitCode.USAGE if type(exc).__name__ == "UnknownCheckError" else ExitCode.TOOL_ERROR
        _fail(str(exc), code, as_json=fmt == "json")
    REPORTERS[fmt](reports, sys.stdout)
    raise typer.Exit(exit_code(reports))


def exit_code(reports: list[Report]) -> ExitCode:
    """3 when a tool never started (check 6 failed), 1 when any report fails, else 0."""
    if any((c := r.check(6)) is not None and c.status == "fail" for r in reports):
        return ExitCode.TOOL_ERROR
    if any(r.overall == "fail" for r in reports):
        return ExitCode.CHECKS_FAILED
    return ExitCode.OK


def main() -> None:
    """Console-script entry point."""
    app(prog_name="pixie-validate")
