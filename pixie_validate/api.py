"""``validate()``: the library entry point behind ``pixie-validate`` (and the host's validation)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pixie_validate.checks import REGISTRY
from pixie_validate.context import ValidateOptions, iter_tool_folders
from pixie_validate.engine import Progress, run_checks
from pixie_validate.errors import ToolNotFoundError, UnknownCheckError
from pixie_validate.findings import Report

__all__ = ["find_tools", "iter_reports", "load_config", "resolve_options", "validate"]


def find_tools(paths: list[Path]) -> list[Path]:
    """Tool folders named by ``paths`` (a tool folder, or a folder of tools).

    Raises:
        ToolNotFoundError: a path does not exist or holds no tool.
    """
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ToolNotFoundError(f"`{path}` does not exist")
        tools = list(iter_tool_folders(path))
        if not tools or (tools == [path] and not (path / "tool.json").exists() and not path.is_dir()):
            raise ToolNotFoundError(f"no tool.json in `{path}` or its sub-folders; create one with `pixie new`")
        found.extend(tools)
    return found


def load_config(folder: Path) -> dict[str, Any]:
    """``[tool.pixie.validate]`` of the tool's pyproject.toml ({} when absent or unreadable: check 4 reports that)."""
    try:
        with (folder / "pyproject.toml").open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    section = data.get("tool", {}).get("pixie", {}).get("validate", {})
    return section if isinstance(section, dict) else {}


def resolve_options(folder: Path, cli: ValidateOptions, cli_set: set[str]) -> ValidateOptions:
    """The options for one tool: its ``[tool.pixie.validate]`` under whatever the command line set explicitly."""
    config = load_config(folder)
    merged: dict[str, Any] = {}
    ignore = config.get("ignore")
    if isinstance(ignore, dict):
        merged["ignore_reasons"] = {str(k): str(v) for k, v in ignore.items()}
    elif isinstance(ignore, list):
        merged["ignore"] = [str(i) for i in ignore]
    for key in ("strict", "cold_start_budget", "select", "timeout", "fuzz_examples"):
        if key in config:
            merged[key] = config[key]
    values = {**cli.model_dump(), **{k: v for k, v in merged.items() if k not in cli_set}}
    options = ValidateOptions.model_validate(values)
    for token in [*options.select, *options.ignore, *options.ignore_reasons]:
        try:
            REGISTRY.resolve(token)
        except KeyError as exc:
            raise UnknownCheckError(str(exc.args[0])) from None
    return options


def validate(path: Path | str, options: ValidateOptions | None = None, *, progress: Progress | None = None) -> Report:
    """Validate one tool folder and return its report (never raises for problems of the tool itself)."""
    folder = Path(path)
    report, _ctx = run_checks(folder, REGISTRY, options or ValidateOptions(), progress=progress)
    return report


def iter_reports(paths: list[Path], options: ValidateOptions, cli_set: set[str]) -> Iterator[Report]:
    """Validate each tool under ``paths`` in turn."""
    for folder in find_tools(paths):
        yield validate(folder, resolve_options(folder, options, cli_set))
