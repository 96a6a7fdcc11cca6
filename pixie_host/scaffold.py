"""``pixie new``: start a tool from the ``cookiecutter-tool`` template, through cookiecutter's Python API.

The template is one folder, used two ways: ``cookiecutter cookiecutter-tool`` from a checkout
of the kit (it lives at the repository root), and ``pixie new`` from an installed kit (the
wheel ships the same folder as ``pixie_host/_template``). ``find_template`` looks in both.
``pixie new`` only turns its arguments into the template's answers and calls cookiecutter, so
the two paths give the same files for the same answers; the template's own hooks check the
answers (``hooks/pre_gen_project.py``) and finish the folder (``hooks/post_gen_project.py``).
"""

from __future__ import annotations

import enum
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from pixie_sdk.manifest import ID_PATTERN
from pixie_validate.findings import ExitCode

__all__ = [
    "Shape",
    "TemplateNotFound",
    "find_template",
    "id_problem",
    "new_command",
    "render_tool",
    "suggest_id",
    "template_candidates",
    "tool_identity",
]

#: Where the wheel puts the template (pyproject's hatch ``force-include``), next to this module.
PACKAGED_TEMPLATE = "_template"
#: The template's folder at the repository root, for a checkout or an editable install.
REPO_TEMPLATE = "cookiecutter-tool"
#: The file that makes a folder a cookiecutter template.
TEMPLATE_MARKER = "cookiecutter.json"
#: The same words as the template's pre-generation hook, so both paths refuse an id alike.
ID_RULE = "lowercase letters, digits and dashes, starting with a letter, at most 64 characters"
#: The longest id the contract allows (``ID_PATTERN``).
ID_MAX = 64


class Shape(enum.StrEnum):
    """The starting shapes of the template (its ``shape`` choice)."""

    form = "form"
    streaming = "streaming"
    file = "file"


class TemplateNotFound(LookupError):
    """No cookiecutter template where one was looked for."""


def template_candidates() -> tuple[Path, ...]:
    """Where ``pixie new`` looks for the template, in order: inside the installed package, then the repository root."""
    here = Path(__file__).resolve().parent
    return here / PACKAGED_TEMPLATE, here.parent / REPO_TEMPLATE


def find_template(explicit: Path | None = None) -> Path:
    """The template folder: ``explicit`` when given, else the first of ``template_candidates`` that is one.

    Raises:
        TemplateNotFound: the folder holds no ``cookiecutter.json``.
    """
    places = (explicit,) if explicit is not None else template_candidates()
    for place in places:
        if (place / TEMPLATE_MARKER).is_file():
            return place.resolve()
    looked = ", ".join(f"`{p}`" for p in places)
    raise TemplateNotFound(f"no cookiecutter template ({TEMPLATE_MARKER}) at {looked}")


def suggest_id(value: str) -> str:
    """A valid tool id close to ``value``: lower case, other characters as dashes, a letter first."""
    from slugify import slugify

    slug = slugify(value) or "tool"
    if not slug[0].isalpha():
        slug = f"tool-{slug}"
    return slug[:ID_MAX].rstrip("-")


def id_problem(tool_id: str) -> str | None:
    """Why ``tool_id`` is not a valid tool id, with a suggestion; None when it is valid."""
    if re.match(ID_PATTERN, tool_id):
        return None
    better = suggest_id(tool_id)
    return f"tool id `{tool_id}` is not a valid Pixie tool id: use {ID_RULE}. Try `--id {better}`"


def tool_identity(name: str, tool_id: str | None = None) -> tuple[str, str | None]:
    """The template's ``tool_name`` and ``tool_id`` answers for ``pixie new NAME [--id ID]``.

    A NAME that is already a valid id (``loan-calculator``) is taken as the id, and the name
    is made from it (``Loan calculator``). Otherwise NAME is the name, and the id is left to
    the template, which derives it (None).
    """
    if tool_id is None and re.match(ID_PATTERN, name):
        words = name.replace("-", " ").strip()
        return (words[:1].upper() + words[1:]) or name, name
    return name, tool_id


def render_tool(
    output_dir: Path,
    *,
    name: str,
    tool_id: str | None = None,
    shape: Shape | str = Shape.form,
    description: str | None = None,
    category: str | None = None,
    fixtures: bool = True,
    no_input: bool = True,
    template: Path | None = None,
) -> Path:
    """Render the template into ``output_dir`` and return the new tool's folder.

    Answers left as None take the template's defaults (the id derived from the name, a
    placeholder description). With ``no_input=False`` cookiecutter asks for every answer,
    offering these as the defaults.

    Raises:
        TemplateNotFound: see ``find_template``.
        cookiecutter.exceptions.FailedHookException: the template's hook refused an answer
            (it has printed why on stderr).
        cookiecutter.exceptions.OutputDirExistsException: the tool's folder exists already.
    """
    from cookiecutter.main import cookiecutter  # type: ignore[import-untyped]

    answers: dict[str, Any] = {"tool_name": name, "shape": str(shape), "include_fixtures": fixtures}
    optional = {"tool_id": tool_id, "description": description, "category": category}
    answers.update({key: value for key, value in optional.items() if value is not None})
    output_dir.mkdir(parents=True, exist_ok=True)
    made = cookiecutter(
        str(find_template(template)), no_input=no_input, extra_context=answers, output_dir=str(output_dir)
    )
    return Path(made)


@contextmanager
def _quiet_cookiecutter() -> Iterator[None]:
    """Keep cookiecutter's own log (a traceback when a hook refuses) off the terminal; the hook has said why."""
    logger = logging.getLogger("cookiecutter")
    handler, propagate = logging.NullHandler(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _fail(message: str, code: ExitCode, as_json: bool) -> typer.Exit:
    if as_json:
        sys.stderr.write(json.dumps({"status": "error", "code": code.name, "message": message}) + "\n")
    else:
        sys.stderr.write(f"error: {message}\n")
    return typer.Exit(int(code))


def _tool_id_of(folder: Path) -> str:
    """The id in the new tool.json; the folder's name when another template wrote none."""
    try:
        return str(json.loads((folder / "tool.json").read_text(encoding="utf-8"))["id"])
    except (OSError, ValueError, KeyError, TypeError):
        return folder.name


def _next_steps(folder: Path) -> list[tuple[str, str]]:
    """What to run next, each with why."""
    return [
        (f"cd {folder}", ""),
        ("pixie-validate . --strict", "the contract checks"),
        ("pytest", "its tests, and the checks as pytest items"),
        ("pixie run .", "host it, with a web UI"),
    ]


def new_command(
    name: Annotated[str, typer.Argument(help="The tool's name (`Loan calculator`), or its id (`loan-calculator`).")],
    shape: Annotated[Shape, typer.Option("--shape", help="The starting shape.")] = Shape.form,
    tool_id: Annotated[
        str | None, typer.Option("--id", help="The tool id (kebab-case); default: derived from NAME.")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", help="One sentence for tool.json.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="A /-separated category path.")] = None,
    fixtures: Annotated[
        bool, typer.Option("--fixtures/--no-fixtures", help="Include reference/fixture_basic.json.")
    ] = True,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Where to create the tool's folder.")] = Path(),
    no_input: Annotated[bool, typer.Option("--no-input", help="Ask nothing: use the arguments and defaults.")] = False,
    template: Annotated[
        Path | None, typer.Option("--template", help="Another cookiecutter template (default: the kit's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
) -> None:
    """Create a new tool folder from the cookiecutter-tool template: it passes pixie-validate --strict as made."""
    from cookiecutter.exceptions import (  # type: ignore[import-untyped]
        FailedHookException,
        OutputDirExistsException,
    )

    tool_name, fixed_id = tool_identity(name, tool_id)
    if fixed_id is not None and (problem := id_problem(fixed_id)) is not None:
        raise _fail(problem, ExitCode.USAGE, as_json)
    if fixed_id is not None and (output_dir / fixed_id).exists():
        message = f"`{output_dir / fixed_id}` already exists; pick another id or --output-dir"
        raise _fail(message, ExitCode.USAGE, as_json)
    try:
        found = find_template(template)
    except TemplateNotFound as exc:
        raise _fail(str(exc), ExitCode.USAGE if template else ExitCode.TOOL_ERROR, as_json) from None
    try:
        with _quiet_cookiecutter():
            folder = render_tool(output_dir, name=tool_name, tool_id=fixed_id, shape=shape, description=description,
                                 category=category, fixtures=fixtures, no_input=no_input, template=found)  # fmt: skip
    except FailedHookException:
        raise _fail("the template refused these answers (its message is above)", ExitCode.USAGE, as_json) from None
    except OutputDirExistsException as exc:
        message = f"{str(exc).removeprefix('Error: ')}; pick another name, --id or --output-dir"
        raise _fail(message, ExitCode.USAGE, as_json) from None
    shown = folder.relative_to(Path.cwd()) if folder.is_relative_to(Path.cwd()) else folder
    made_id = _tool_id_of(folder)
    steps = _next_steps(shown)
    if as_json:
        result = {"status": "ok", "path": str(folder), "tool_id": made_id, "template": str(found),
                  "next": [command for command, _ in steps]}  # fmt: skip
        sys.stdout.write(json.dumps(result) + "\n")
        return
    sys.stdout.write(f"created {shown}/ (tool id {made_id}) from {found}\nnext:\n")
    width = max(len(command) for command, _ in steps)
    sys.stdout.write("".join(f"  {c:<{width}}  # {why}\n" if why else f"  {c}\n" for c, why in steps))
