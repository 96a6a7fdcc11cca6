"""Static checks 1-5: the folder, tool.json (parse and coherence), pyproject.toml and the interpreter.

They read files (and, for check 5, ask the interpreter a question); nothing is served.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pixie_sdk.errors import ManifestError
from pixie_sdk.manifest import check_coherence, parse_manifest, read_manifest_json
from pixie_validate.checks._gates import before
from pixie_validate.context import CheckContext
from pixie_validate.findings import Finding
from pixie_validate.launcher import resolve_interpreter
from pixie_validate.registry import check

__all__ = ["folder_structure", "interpreter", "manifest_coherent", "manifest_parses", "pyproject"]

#: Asking an interpreter for its version and a few imports; a healthy one answers in well under a second.
INTERPRETER_PROBE_TIMEOUT_SECONDS = 20.0
#: What a tool needs importable to serve the contract at all.
SERVING_MODULES = ("fastapi", "uvicorn")
#: Distributions that bring a server for a tool (any one of the groups satisfies check 4).
SERVER_DEPENDENCIES = ({"fastapi", "uvicorn"}, {"pixie-toolkit"})
_NON_INDEX = re.compile(r"(git\+|hg\+|svn\+|file:|https?://|\.whl\b|\.tar\.gz\b|\.zip\b|^\.{0,2}/)")


def _entrypoint(ctx: CheckContext) -> str:
    if ctx.manifest is not None:
        return ctx.manifest.entrypoint
    try:
        raw = json.loads(ctx.manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "main.py"
    value = raw.get("entrypoint") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value else "main.py"


@check(1, "folder-structure", severity="error", kind="static",
       summary="tool.json, pyproject.toml and the entrypoint exist in the tool folder",
       fix="Add the missing file; `pixie new` (or the cookiecutter template) creates all three")  # fmt: skip
def folder_structure(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: the folder holds `tool.json`, `pyproject.toml` and the entrypoint (`main.py`, or the
    file named by tool.json's `entrypoint`).

    Why it matters: the host reads the manifest, installs the dependencies from pyproject.toml and starts
    `<python> <entrypoint> --port N`; without any one of them the tool cannot run.

    How to fix: create the missing file. An entrypoint outside the folder is refused.

    Example: `"entrypoint": "app/server.py"` needs `app/server.py` inside the tool folder.
    """
    if not ctx.folder.is_dir():
        yield ctx.finding(f"`{ctx.folder}` is not a folder")
        return
    for name in ("tool.json", "pyproject.toml"):
        if not (ctx.folder / name).is_file():
            yield ctx.finding(f"`{name}` is missing")
    entry = _entrypoint(ctx)
    path = (ctx.folder / entry).resolve()
    if not path.is_relative_to(ctx.folder.resolve()):
        yield ctx.finding(f"the entrypoint `{entry}` is outside the tool folder", fix="Name a file inside the folder")
    elif not path.is_file():
        yield ctx.finding(f"the entrypoint `{entry}` is missing")


@check(2, "manifest-parses", severity="error", kind="static", requires=before(2),
       summary="tool.json is valid JSON with known keys and well-typed values",
       fix="Correct the named key in tool.json; add `$schema` to let an editor check it as you type")  # fmt: skip
def manifest_parses(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: tool.json parses as JSON and matches the manifest model: no unknown keys, every input
    and output of one of the known types with its required attributes, values of the right JSON type.

    Why it matters: the host, the UI and the validator all read tool.json through the same model; a key
    they do not know is usually a typo that silently does nothing.

    How to fix: each finding names the input or output key and the field. Point `$schema` at the shipped
    `tool.schema.json` so your editor flags these as you type.

    Example: `{"key": "rate", "type": "numbr"}` -> unknown type `numbr`; did you mean `number`?
    """
    try:
        ctx.raw_manifest = read_manifest_json(ctx.manifest_file)
        ctx.manifest = parse_manifest(ctx.raw_manifest, source=ctx.manifest_file)
    except ManifestError as exc:
        for problem in exc.problems:
            yield ctx.finding(str(problem))


@check(3, "manifest-coherent", severity="error", kind="static", requires=before(3),
       summary="tool.json's parts agree: unique keys, defaults valid for their inputs, show_if targets exist",
       fix="Make the named input or output consistent (see the message)")  # fmt: skip
def manifest_coherent(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: input keys and output keys are unique; slider `min < max`; defaults are of the right
    type and inside `min`/`max`; select and radio defaults are among the options; `show_if.key` names
    another input; hidden inputs have a default; `workspace_default` names an input. The `id` should equal
    the folder name (a warning: tools in the wild differ).

    Why it matters: an incoherent manifest parses but breaks at run time (a default the tool rejects, a
    form field that never shows).

    How to fix: follow the message; it names the input or output and what to change.
    """
    manifest = ctx.require_manifest()
    result = check_coherence(manifest, folder=ctx.folder.resolve())
    for problem in result.errors:
        yield ctx.finding(str(problem))
    for problem in result.warnings:
        yield ctx.finding(str(problem), severity="warning", fix="Rename the folder or the id so they match")


def _dependencies(data: dict[str, Any]) -> list[str] | None:
    project = data.get("project")
    if isinstance(project, dict) and isinstance(project.get("dependencies"), list):
        return [str(d) for d in project["dependencies"]]
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies")
    if isinstance(poetry, dict):
        return [name for name in poetry if name.lower() != "python"]
    return None


@check(4, "pyproject", severity="error", kind="static", requires=before(4),
       summary="pyproject.toml is valid TOML and depends on a server (FastAPI and uvicorn, or this SDK)",
       fix="List the tool's dependencies in [project].dependencies, including fastapi and uvicorn")  # fmt: skip
def pyproject(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: pyproject.toml parses; `[project].dependencies` names FastAPI and uvicorn (or
    `pixie-toolkit`, which brings both); every dependency comes from a package index.

    Why it matters: the host builds the tool's environment from this file (`uv sync`); a missing server
    dependency fails at start-up, and a dependency from a path or a git URL does not install elsewhere.

    How to fix: add the missing dependency; publish or vendor non-index dependencies.

    Example: `dependencies = ["pixie-toolkit", "fastapi", "uvicorn[standard]"]`.
    """
    try:
        data = ctx.read_pyproject()
    except tomllib.TOMLDecodeError as exc:
        yield ctx.finding(f"pyproject.toml is not valid TOML: {exc}")
        return
    if data is None:
        raise ctx.skip("no pyproject.toml")
    ctx.pyproject = data
    deps = _dependencies(data)
    if deps is None:
        yield ctx.finding("pyproject.toml has no [project].dependencies list")
        return
    names: set[str] = set()
    for dep in deps:
        try:
            req = Requirement(dep)
        except InvalidRequirement:
            yield ctx.finding(f"dependency `{dep}` is not a valid requirement", severity="warning")
            continue
        names.add(canonicalize_name(req.name))
        if req.url or _NON_INDEX.search(dep):
            yield ctx.finding(f"dependency `{dep}` does not come from a package index", severity="warning",
                              fix="Publish it to an index or vendor it into the tool folder")  # fmt: skip
    if not any(group <= names for group in SERVER_DEPENDENCIES):
        missing = sorted({"fastapi", "uvicorn"} - names)
        yield ctx.finding(f"dependencies lack {' and '.join(missing)} (or pixie-toolkit)")


_PROBE = "import sys, importlib.util as u; print(sys.version.split()[0]); print(*[m for m in sys.argv[1:] if u.find_spec(m) is None])"  # noqa: E501


@check(5, "interpreter", severity="error", kind="static", requires=before(5),
       summary="the interpreter the tool will run under exists, works and can import its server",
       fix="Create the tool's environment with `uv sync` in its folder, or pass --python")  # fmt: skip
def interpreter(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: the interpreter chosen the way the host chooses it (`--python`, else the tool's
    `.venv`, else this interpreter) runs, and can import fastapi and uvicorn (and pixie_sdk when the
    entrypoint uses it).

    Why it matters: a missing or broken interpreter, or one without the server packages, can only fail
    at start-up with a traceback; naming it here is faster to fix.

    How to fix: run `uv sync` in the tool folder (it builds `.venv`), or point `--python` at a working one.
    """
    chosen = resolve_interpreter(ctx.folder, ctx.options.python)
    modules = list(SERVING_MODULES) + (["pixie_sdk"] if ctx.is_sdk_tool else [])
    if chosen.source == "host":  # this very interpreter: ask it directly instead of starting another
        ctx.interpreter = chosen
        absent = [m for m in modules if importlib.util.find_spec(m) is None]
        if absent:
            yield ctx.finding(f"interpreter `{chosen.path}` cannot import {', '.join(absent)}",
                              fix=f"Install {' '.join(absent)} into that environment")  # fmt: skip
        else:
            version = ".".join(map(str, sys.version_info[:3]))
            yield ctx.finding(f"Python {version} from host ({chosen.path})", severity="info")
        return
    try:
        proc = subprocess.run([chosen.path, "-c", _PROBE, *modules], capture_output=True, text=True,
                              timeout=INTERPRETER_PROBE_TIMEOUT_SECONDS, cwd=ctx.folder)  # fmt: skip
    except FileNotFoundError:
        yield ctx.finding(f"interpreter `{chosen.path}` (from {chosen.source}) does not exist")
        return
    except (OSError, subprocess.TimeoutExpired) as exc:
        yield ctx.finding(f"interpreter `{chosen.path}` (from {chosen.source}) does not run: {exc}")
        return
    if proc.returncode != 0:
        yield ctx.finding(f"interpreter `{chosen.path}` exited with {proc.returncode}", details=proc.stderr[-2000:])
        return
    lines = proc.stdout.splitlines()
    missing = lines[1].split() if len(lines) > 1 else []
    ctx.interpreter = chosen
    if missing:
        fix = f"Install {' '.join(missing)} into that environment (`uv sync` in the tool folder)"
        yield ctx.finding(f"interpreter `{chosen.path}` cannot import {', '.join(missing)}", fix=fix)
    else:
        yield ctx.finding(f"Python {lines[0] if lines else '?'} from {chosen.source} ({chosen.path})", severity="info")
