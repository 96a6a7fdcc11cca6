"""``ToolManifest`` (the tool.json model), ``load_manifest`` and the coherence rules of contract §2.

Parsing (validator check 2) and coherence (check 3) are kept apart so the validator can
report them separately; ``load_manifest`` runs both and raises ``ManifestError`` on any error.
Every problem is phrased in plain words that name the input or output key, never as a
pydantic location path.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, ValidationError

from pixie_sdk._base import PixieModel
from pixie_sdk.contract import MANIFEST_FILENAME, SCHEMA_VERSION
from pixie_sdk.errors import ManifestError, ManifestProblem
from pixie_sdk.input_specs import INPUT_TYPES, InputSpec
from pixie_sdk.output_specs import OUTPUT_TYPES, OutputSpec
from pixie_sdk.types import json_kind

__all__ = [
    "ID_PATTERN",
    "Coherence",
    "SecretSpec",
    "ToolManifest",
    "check_coherence",
    "iter_tool_folders",
    "load_manifest",
    "manifest_path",
    "parse_manifest",
    "read_manifest_json",
]

#: The contract's id rule: kebab-case, starting with a letter, at most 64 characters.
ID_PATTERN = r"^[a-z][a-z0-9-]{0,63}$"
_ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
#: What each pattern means, for messages a person can act on.
_PATTERN_WORDS = {
    ID_PATTERN: "must be kebab-case: lowercase letters, digits and dashes, starting with a letter, at most 64 long",
    _ENV_NAME_PATTERN: "must be an environment variable name: letters, digits and underscores",
}


class SecretSpec(PixieModel):
    """A secret the tool reads from its environment (the host fills it from the tool's ``.env``)."""

    key: StrictStr = Field(pattern=_ENV_NAME_PATTERN)
    """The environment variable's name."""
    description: StrictStr | None = None
    required: StrictBool = False
    """The host refuses to run the tool while a required secret is unset."""


class ToolManifest(PixieModel):
    """The contents of a tool's ``tool.json``."""

    schema_: StrictStr | None = Field(default=None, alias="$schema")
    """Optional pointer to ``tool.schema.json`` so editors can validate the file."""
    id: StrictStr = Field(pattern=ID_PATTERN)
    """Kebab-case identifier, equal to the folder name."""
    name: StrictStr = Field(min_length=1)
    """Display name."""
    description: StrictStr | None = None
    version: StrictStr | None = None
    category: StrictStr | None = None
    """A ``/``-separated path for grouping tools (``finance/loans``)."""
    icon: StrictStr | None = None
    package: StrictStr | None = None
    workspace_default: StrictStr | None = None
    """An input key the UI pre-fills in new workspace tabs."""
    layout: Literal["form", "chat", "split"] = "form"
    inputs: list[InputSpec]
    outputs: list[OutputSpec] = Field(min_length=1)
    warm_keep_seconds: StrictInt = Field(default=300, ge=0)
    """Seconds the host keeps an idle tool process alive."""
    max_memory_mb: StrictInt = Field(default=512, ge=0)
    """Resident memory cap of the tool's process tree; 0 means unlimited."""
    max_runtime_seconds: StrictInt = Field(default=60, ge=1)
    """Per-run wall clock; the host kills the tool at this plus 5 seconds."""
    concurrent: StrictBool = True
    """False makes the host (and the SDK) run one run at a time, in order."""
    secrets: list[SecretSpec] = []
    schema_version: StrictStr = SCHEMA_VERSION
    validator_timeout_override: StrictInt | None = Field(default=None, ge=1)
    """Raises the start-up deadline and the validator's run timeouts for slow tools."""
    requires_data_persistence: StrictBool = False
    provides_file_endpoint: StrictBool = False
    provides_autocomplete: StrictBool = False
    archived: StrictBool = False
    pinned_warm: StrictBool = False
    """The host keeps this tool warm however long it idles."""
    input_transport: Literal["json", "multipart"] = "json"
    retain_runs: StrictInt = Field(default=100, ge=0)
    """Run-history rows kept for this tool; starred runs are exempt."""
    tags: list[StrictStr] = []
    entrypoint: StrictStr = "main.py"
    """The file that serves the app, relative to the tool folder."""

    def input(self, key: str) -> InputSpec | None:
        """The input spec with this key, or None."""
        return next((i for i in self.inputs if i.key == key), None)

    def output(self, key: str) -> OutputSpec | None:
        """The output spec with this key, or None."""
        return next((o for o in self.outputs if o.key == key), None)

    @property
    def streams(self) -> bool:
        """True when any output is declared ``streaming`` (the only thing that makes a run stream)."""
        return any(o.streaming for o in self.outputs)


class Coherence:
    """The result of ``check_coherence``: errors break the contract, warnings are tolerated."""

    __slots__ = ("errors", "warnings")

    def __init__(self) -> None:
        self.errors: list[ManifestProblem] = []
        self.warnings: list[ManifestProblem] = []


def manifest_path(path: Path | str) -> Path:
    """The tool.json of ``path``, which may be the file itself or the tool folder."""
    p = Path(path)
    return p / MANIFEST_FILENAME if p.is_dir() else p


def read_manifest_json(path: Path | str) -> Any:
    """Read tool.json as raw JSON, raising ``ManifestError`` if it is missing or not JSON."""
    file = manifest_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(file, [ManifestProblem("", "file not found; a tool folder needs a tool.json")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(file, [ManifestProblem("", f"cannot read the file: {exc}")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise ManifestError(file, [ManifestProblem("", msg)]) from None


def parse_manifest(raw: Any, *, source: Path | str = MANIFEST_FILENAME) -> ToolManifest:
    """Validate raw tool.json data into a ``ToolManifest`` (shape and types only, not coherence).

    Raises:
        ManifestError: with one plain-words problem per pydantic error.
    """
    if not isinstance(raw, dict):
        raise ManifestError(source, [ManifestProblem("", f"must be a JSON object, got {json_kind(raw)}")])
    try:
        return ToolManifest.model_validate(raw)
    except ValidationError as exc:
        # A union field (int | float) reports once per member; one sentence per place is enough.
        by_place: dict[tuple[Any, ...], ManifestProblem] = {}
        for err in exc.errors():
            place = tuple(p for p in err["loc"] if p not in _UNION_MEMBER_LABELS)
            by_place[place] = _describe_error(raw, err)
        problems = list(dict.fromkeys(by_place.values()))
        raise ManifestError(source, problems) from None


def check_coherence(manifest: ToolManifest, *, folder: Path | None = None) -> Coherence:
    """Apply the coherence rules of contract §2 (validator check 3) to a parsed manifest."""
    from pixie_sdk.run_input import check_input_value  # late: run_input builds on this module

    result = Coherence()
    errors = result.errors
    for kind, keys in (("input", [i.key for i in manifest.inputs]), ("output", [o.key for o in manifest.outputs])):
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                errors.append(ManifestProblem(f"{kind} `{key}`", f"duplicate {kind} key; {kind} keys must be unique"))
            seen.add(key)
    input_keys = {i.key for i in manifest.inputs}
    for spec in manifest.inputs:
        where = f"input `{spec.key}`"
        lo, hi = getattr(spec, "min", None), getattr(spec, "max", None)
        if spec.type == "slider" and not lo < hi:  # type: ignore[operator]
            errors.append(ManifestProblem(where, f"slider `min` ({lo}) must be less than `max` ({hi})"))
        elif spec.type in ("number", "date") and lo is not None and hi is not None and lo > hi:
            errors.append(ManifestProblem(where, f"`min` ({lo}) is greater than `max` ({hi})"))
        if spec.type == "table" and None not in (spec.min_rows, spec.max_rows) and spec.min_rows > spec.max_rows:  # type: ignore[operator]
            errors.append(ManifestProblem(where, "`min_rows` is greater than `max_rows`"))
        if spec.type == "date":
            for bound in ("min", "max"):
                text = getattr(spec, bound)
                if text is not None and not _is_iso_date(text):
                    errors.append(ManifestProblem(where, f"`{bound}` must be a real date, YYYY-MM-DD (got `{text}`)"))
        if spec.type == "json" and spec.json_schema is not None:
            import jsonschema  # only tools with a json input pay for importing it

            try:
                jsonschema.Draft202012Validator.check_schema(spec.json_schema)
            except jsonschema.exceptions.SchemaError as exc:
                errors.append(ManifestProblem(where, f"`schema` is not a valid JSON Schema: {exc.message}"))
        if spec.show_if is not None:
            if spec.show_if.key == spec.key:
                errors.append(ManifestProblem(where, "`show_if.key` names the input itself; name another input"))
            elif spec.show_if.key not in input_keys:
                errors.append(
                    ManifestProblem(where, f"`show_if.key` names `{spec.show_if.key}`, which is not an input")
                )
        if spec.type == "hidden" and spec.default is None:
            errors.append(ManifestProblem(where, "a hidden input needs a `default`: it is the value the tool receives"))
        elif spec.default is not None:
            problem = check_input_value(spec, spec.default)
            if problem is not None:
                errors.append(ManifestProblem(where, f"`default` {_plain(problem)}"))
    if manifest.workspace_default is not None and manifest.workspace_default not in input_keys:
        errors.append(
            ManifestProblem("field `workspace_default`", f"names `{manifest.workspace_default}`, which is not an input")
        )
    if folder is not None and folder.name != manifest.id:
        result.warnings.append(
            ManifestProblem("field `id`", f"`{manifest.id}` differs from the folder name `{folder.name}`")
        )
    return result


def load_manifest(path: Path | str) -> ToolManifest:
    """Read, parse and check a tool.json (or a tool folder).

    Raises:
        ManifestError: naming the file and, for each problem, the input or output key.
    """
    file = manifest_path(path)
    manifest = parse_manifest(read_manifest_json(file), source=file)
    coherence = check_coherence(manifest)
    if coherence.errors:
        raise ManifestError(file, coherence.errors)
    return manifest


def _is_iso_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


_UNION_MEMBER_LABELS = frozenset({"int", "float", "str", "bool", "list", "dict", "none"})
_TOP_LEVEL_KINDS = {"inputs": ("input", INPUT_TYPES), "outputs": ("output", OUTPUT_TYPES), "secrets": ("secret", ())}


def _describe_error(raw: dict[str, Any], err: Any) -> ManifestProblem:
    """Turn one pydantic error into a sentence that names the input/output key, not a union-tag path."""
    loc: tuple[Any, ...] = tuple(err["loc"])
    kind = err["type"]
    if loc and loc[0] in _TOP_LEVEL_KINDS and len(loc) >= 2 and isinstance(loc[1], int):
        noun, known_types = _TOP_LEVEL_KINDS[loc[0]]
        item = raw.get(loc[0])[loc[1]]  # type: ignore[index]
        key = item.get("key") if isinstance(item, dict) else None
        where = f"{noun} `{key}`" if isinstance(key, str) else f"{noun} #{loc[1] + 1}"
        rest = loc[2:]
        if kind == "union_tag_invalid":
            given = str(item.get("type"))
            close = difflib.get_close_matches(given, known_types, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            return ManifestProblem(where, f"unknown type `{given}`; {hint}use one of: {', '.join(known_types)}")
        if kind == "union_tag_not_found":
            return ManifestProblem(where, "missing `type`")
        if kind in ("dict_type", "model_type") and not rest:
            return ManifestProblem(where, f"must be an object, got {json_kind(item)}")
        if rest and isinstance(item, dict) and rest[0] == item.get("type"):
            rest = rest[1:]  # the discriminator's own level in pydantic's path
        return ManifestProblem(where, _field_message(rest, err))
    return ManifestProblem("", _field_message(loc, err))


def _field_message(loc: tuple[Any, ...], err: Any) -> str:
    field = _dotted(loc)
    kind = err["type"]
    if kind == "missing":
        return f"`{field}` is required"
    if kind == "extra_forbidden":
        return f"unknown field `{field}`; remove it or check its spelling"
    got = err.get("input")
    msg = str(err["msg"])
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        msg = f"{_PATTERN_WORDS.get(pattern, msg)}, got `{got}`"
    elif kind.endswith("_type") or kind in ("literal_error", "enum"):
        msg = f"{msg[0].lower()}{msg[1:]}, got {json_kind(got)} `{json.dumps(got)[:60]}`"
    else:
        msg = msg[0].lower() + msg[1:]
    msg = _plain(msg)
    return f"`{field}`: {msg}" if field else msg


def _plain(msg: str) -> str:
    """pydantic's sentences, minus the jargon."""
    msg = re.sub(r"^input should", "should", msg)
    msg = re.sub(r"list should have at least (\d+) items? after validation, not \d+", r"needs at least \1 item(s)", msg)
    return msg


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (isinstance(part, str) and part.startswith(("function-", "list[", "lax-", "strict-", "json-"))):
            # Union member labels (`int`, `str`, ...) only clutter a message about a field.
            if part in _UNION_MEMBER_LABELS and out:
                continue
            out += f".{part}" if out else str(part)
    return out


def iter_tool_folders(path: Path) -> Iterator[Path]:
    """``path`` itself when it is a tool folder, else each sub-folder holding a tool.json (sorted)."""
    if (path / "tool.json").exists() or not path.is_dir():
        yield path
        return
    yield from sorted(p for p in path.iterdir() if p.is_dir() and (p / "tool.json").exists())
