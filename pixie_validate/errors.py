"""Errors of the validator: they mean *the validator could not run*, never "the tool has problems".

::

    PixieError (pixie_sdk.errors)
    └── ValidateError
        ├── ToolNotFoundError     no tool folder / tool.json at the path
        ├── ToolStartError        the process exited or never became healthy
        └── UnknownCheckError     a bad --select/--ignore/--explain value
"""

from __future__ import annotations

from pixie_sdk.errors import PixieError

__all__ = ["ToolNotFoundError", "ToolStartError", "UnknownCheckError", "ValidateError"]


class ValidateError(PixieError):
    """The validator could not do its job."""


class ToolNotFoundError(ValidateError):
    """No tool at the given path."""


class ToolStartError(ValidateError):
    """The tool process could not be started or never answered /healthz."""

    def __init__(self, message: str, *, returncode: int | None, output: str = "", elapsed: float = 0.0) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.output = output
        self.elapsed = elapsed


class UnknownCheckError(ValidateError):
    """A check named on the command line does not exist."""
