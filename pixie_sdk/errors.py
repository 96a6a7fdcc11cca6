"""The exception tree of the Pixie kit.

::

    PixieError                  root of every exception the kit raises on purpose
    ├── ManifestError           tool.json missing, unreadable or invalid
    └── ToolError               raised by a tool's handler: a domain error for the user (4xx)

``pixie_validate`` and ``pixie_host`` add their own families under ``PixieError``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ManifestError", "ManifestProblem", "PixieError", "ToolError"]


class PixieError(Exception):
    """Root of every exception the Pixie kit raises on purpose."""


class ManifestProblem:
    """One problem found in a tool.json, in plain words.

    ``where`` names the place (``input `rate```, ``output `chart```, ``field `id```);
    ``message`` says what is wrong and, when it helps, how to fix it.
    """

    __slots__ = ("message", "where")

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def __repr__(self) -> str:
        return f"ManifestProblem({self.where!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ManifestProblem) and (self.where, self.message) == (other.where, other.message)

    def __hash__(self) -> int:
        return hash((self.where, self.message))


class ManifestError(PixieError):
    """tool.json could not be read, parsed or made sense of.

    Its message names the file, then one line per problem, each naming the input or
    output key it is about.
    """

    def __init__(self, path: Path | str, problems: list[ManifestProblem]) -> None:
        self.path = Path(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: invalid tool manifest\n{lines}")


class ToolError(PixieError):
    """Raised by a tool's handler to report a problem the user can act on.

    The SDK turns it into the error envelope ``{"detail": message, "code": code}`` with
    ``status_code`` (a 4xx). Use a plain sentence: it is shown to the person who ran the tool.
    """

    def __init__(self, message: str, *, code: str | None = None, status_code: int = 400) -> None:
        if not 400 <= status_code < 500:
            raise ValueError(f"ToolError status_code must be a 4xx, got {status_code}; crashes are 500s by themselves")
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
