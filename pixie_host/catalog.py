"""The tools a host serves: each folder's manifest read and checked once, at load, never per request."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from pixie_sdk.errors import ManifestError, PixieError
from pixie_sdk.manifest import ToolManifest, iter_tool_folders, load_manifest
from pixie_sdk.run_input import RunInput, build_run_input_model, input_errors
from pixie_sdk.types import JSON, JSONObject
from pixie_validate.launcher import read_dotenv

__all__ = ["MIN_SECRET_CHARS", "Catalog", "Secrets", "ToolEntry", "discover", "load_entry"]

#: Shorter .env values are not masked: replacing "1" or "on" everywhere would garble every log.
MIN_SECRET_CHARS = 4
#: A tool with every secret it needs has its .env looked at again after this long, not on every run: a stat
#: costs ~25 us here, and a changed value reaches the tool only when it is next spawned anyway. A tool
#: missing one is looked at on every run, so a fix shows at once.
SECRETS_RECHECK_SECONDS = 1.0
MASK = "***"


@dataclass(frozen=True, slots=True)
class Secrets:
    """A tool's ``.env`` as read at one moment: the values to mask and the required keys missing."""

    values: tuple[str, ...]
    missing: tuple[str, ...]

    def mask(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, MASK)
        return text

    def mask_json(self, value: JSON) -> JSON:
        if not self.values:
            return value
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, list):
            return [self.mask_json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.mask_json(v) for k, v in value.items()}
        return value


@dataclass(eq=False)
class ToolEntry:
    """One tool folder as the host knows it; ``manifest`` is None when tool.json could not be loaded."""

    id: str
    folder: Path
    manifest: ToolManifest | None
    error: str | None = None
    _model: type[RunInput] | None = field(default=None, repr=False)
    _secrets: tuple[float, Secrets] | None = field(default=None, repr=False)
    _secrets_checked: float = field(default=0.0, repr=False)

    @property
    def streaming(self) -> bool:
        return self.manifest is not None and any(o.streaming for o in self.manifest.outputs)

    @property
    def output_types(self) -> dict[str, str]:
        return {o.key: o.type for o in self.manifest.outputs} if self.manifest else {}

    def check_inputs(self, inputs: JSONObject) -> list[dict[str, object]] | None:
        """FastAPI-style 422 ``detail`` for invalid inputs (the SDK's own rules), or None when they are valid."""
        assert self.manifest is not None
        if self._model is None:
            self._model = build_run_input_model(self.manifest)
        try:
            self._model.model_validate(inputs)
        except ValidationError as exc:
            return input_errors(exc)
        return None

    def with_defaults(self, inputs: JSONObject) -> JSONObject:
        """The inputs with every declared default filled in: tools written for the public host expect all keys."""
        assert self.manifest is not None
        out = dict(inputs)
        for spec in self.manifest.inputs:
            if out.get(spec.key) is None and spec.default is not None:
                out[spec.key] = spec.default
        return out

    def secrets(self) -> Secrets:
        """The .env as it is now (re-read only when the file changes): values to mask, required keys missing."""
        now = time.monotonic()
        cached = self._secrets
        if cached is not None and not cached[1].missing and now - self._secrets_checked < SECRETS_RECHECK_SECONDS:
            return cached[1]
        self._secrets_checked = now
        path = self.folder / ".env"
        try:
            stamp = path.stat().st_mtime
        except OSError:
            stamp = -1.0
        if self._secrets is None or self._secrets[0] != stamp:
            env = read_dotenv(self.folder) if stamp >= 0 else {}
            values = tuple(sorted((v for v in env.values() if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True))
            declared = self.manifest.secrets if self.manifest else []
            missing = tuple(s.key for s in declared if s.required and not env.get(s.key) and not os.environ.get(s.key))
            self._secrets = (stamp, Secrets(values, missing))
        return self._secrets[1]


def _load(folder: Path) -> ToolEntry:
    folder = folder.resolve()
    try:
        manifest = load_manifest(folder)
    except ManifestError as exc:
        return ToolEntry(id=folder.name, folder=folder, manifest=None, error=str(exc))
    except (PixieError, OSError, ValueError) as exc:
        return ToolEntry(id=folder.name, folder=folder, manifest=None, error=f"{folder / 'tool.json'}: {exc}")
    return ToolEntry(id=manifest.id, folder=folder, manifest=manifest)


def load_entry(folder: Path) -> ToolEntry:
    """One tool folder read as the catalog reads it at start-up (a broken tool.json gives an entry with ``error``)."""
    return _load(folder)


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Tool folders under ``paths``: a path that is a tool folder, else its sub-folders holding a tool.json."""
    for path in paths:
        yield from iter_tool_folders(path)


class Catalog:
    """Tool entries by id, in load order."""

    def __init__(self) -> None:
        self._entries: dict[str, ToolEntry] = {}
        self.problems: list[str] = []

    @classmethod
    def load(cls, paths: Iterable[Path]) -> Catalog:
        catalog = cls()
        for folder in discover(paths):
            catalog.add(_load(folder))
        return catalog

    def add(self, entry: ToolEntry) -> bool:
        """Register an entry; a second folder with an id already taken is refused (recorded in ``problems``)."""
        taken = self._entries.get(entry.id)
        if taken is not None and taken.folder != entry.folder:
            self.problems.append(
                f"{entry.folder}: the tool id {entry.id!r} is already used by {taken.folder}; give one of them "
                "another `id` in its tool.json"
            )
            return False
        self._entries[entry.id] = entry
        return True

    def get(self, tool_id: str) -> ToolEntry | None:
        return self._entries.get(tool_id)

    def remove(self, tool_id: str) -> ToolEntry | None:
        """Forget an entry (its folder is no longer served); the entry, or None when there was none."""
        return self._entries.pop(tool_id, None)

    def __iter__(self) -> Iterator[ToolEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def ids(self) -> list[str]:
        return list(self._entries)
