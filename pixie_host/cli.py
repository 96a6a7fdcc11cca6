"""The ``pixie`` command line. ``pixie validate`` is ``pixie-validate`` itself (one command, two doors)."""

from __future__ import annotations

import typer

from pixie_validate.cli import validate_command

__all__ = ["app", "main"]

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


@app.callback()
def _root() -> None:
    """The Pixie tool kit."""


def main() -> None:
    """Console-script entry point."""
    app(prog_name="pixie")
