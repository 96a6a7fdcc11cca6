"""Jinja filters for the cookiecutter-tool template (loaded through ``_extensions`` in cookiecutter.json).

Answers such as the tool's name and description go into JSON, TOML and Python files, so they
are quoted for those files here rather than pasted raw: a quote or a backslash in a
description must not break tool.json.
"""

from __future__ import annotations

import json

from jinja2 import Environment
from jinja2.ext import Extension

__all__ = ["PixieTemplateFilters", "docstring", "json_string"]


def json_string(value: object) -> str:
    """``value`` as a JSON string literal, non-ASCII kept readable; also a valid TOML and Python string literal."""
    return json.dumps(str(value), ensure_ascii=False)


def docstring(value: object) -> str:
    """``value`` made safe inside a triple-quoted Python docstring."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


class PixieTemplateFilters(Extension):
    """Adds the ``json_string`` and ``docstring`` filters."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["json_string"] = json_string
        environment.filters["docstring"] = docstring
