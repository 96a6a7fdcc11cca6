"""``reference/tolerance.yaml``: the model, the loader (errors carry 1-based line numbers), and the resolution.

The file has three optional sections (contract §6)::

    defaults:             # per output *type*
      number: {rtol: 1e-6, atol: 1e-9}
    overrides:            # per output *key*
      bmi: {atol: 0.0001}
    options:
      on_extra_output_key: ignore     # ignore | warn | fail
      on_missing_expected_key: fail   # warn | fail

The flat form ``{key: {rtol, atol}}`` at the top level is read as ``overrides``. Numbers may be
YAML strings (PyYAML reads ``1e-6`` as the *string* ``"1e-6"``); ``float_rtol``/``float_atol``
(and ``rel``/``abs``) are accepted for ``rtol``/``atol``; a bare string is a ``compare`` mode
(``progress: skip``). ``compare: skip`` means "not compared", never a failure.

Resolution for output ``key`` of type ``T``, later wins, field by field: the built-in defaults of
``T`` < ``defaults.T`` < ``overrides.key`` < the fixture's own ``tolerance.key``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

from pixie_sdk.output_specs import OUTPUT_TYPES

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "MODES",
    "TOLERANCE_FILENAME",
    "Tolerance",
    "ToleranceError",
    "ToleranceFile",
    "ToleranceOptions",
    "ToleranceSpec",
    "default_tolerance",
    "load_tolerance",
    "mode_for",
    "parse_tolerance",
    "resolve_tolerance",
    "spec_problems",
    "validation_problems",
]

TOLERANCE_FILENAME = "tolerance.yaml"
#: Relative tolerance of numbers unless told otherwise: float noise, not a real change.
DEFAULT_RTOL = 1e-6
#: Absolute tolerance of numbers unless told otherwise: lets a value near zero match zero.
DEFAULT_ATOL = 1e-9
#: Most decimal places ``round_digits`` may ask for: beyond 10 a float's own noise shows.
MAX_ROUND_DIGITS = 10
#: A channel of an 8-bit pixel runs 0-255.
MAX_PIXEL_ATOL = 255

_TEXT = ("exact", "whitespace", "json", "skip")
_DOC_TEXT = ("whitespace", "exact", "json", "skip")
_IMAGES = ("pixels", "sha256", "skip")
_CHART = ("data", "skip")
_POINTS = ("ordered", "unordered", "skip")
_ROWS = ("rows_ordered", "skip")

#: The ``compare`` modes of each output type; the first is the default.
MODES: dict[str, tuple[str, ...]] = {
    "text": _TEXT,
    "code": _TEXT,
    "stream_text": _TEXT,
    "markdown": _DOC_TEXT,
    "latex": _DOC_TEXT,
    "diff": ("exact", "whitespace", "skip"),
    "number": ("numeric", "exact", "skip"),
    "boolean": ("exact", "skip"),
    "progress": ("skip", "numeric"),
    "image": _IMAGES,
    "image_grid": _IMAGES,
    "image_compare": _IMAGES,
    "audio": ("sha256", "skip"),
    "video": ("skip", "sha256"),
    "file": ("auto", "sha256", "skip"),
    "table": ("rows_ordered", "rows_unordered", "skip"),
    "kv": ("pairs", "skip"),
    "tree": ("structural", "skip"),
    "log": _ROWS,
    "timeline": _ROWS,
    "gantt": _ROWS,
    **{t: _CHART for t in OUTPUT_TYPES if t.startswith("chart_") and t != "chart_boxplot"},
    "chart_boxplot": ("data", "series_summary", "skip"),
    "map_points": _POINTS,
    "map_heatmap": _POINTS,
    "map_route": _POINTS,
    "map_polygons": _POINTS,
    "map_choropleth": ("values", "skip"),
}

#: Mode names of the public project's tolerance.yaml, read as ours: (our mode, round_digits it implies, a note).
_PUBLIC_MODES: dict[str, tuple[str, int | None, str | None]] = {
    "exact_after_normalize_whitespace": ("whitespace", None, None),
    "normalize_whitespace": ("whitespace", None, None),
    "json_normalized": ("json", None, None),
    "isclose": ("numeric", None, None),
    "dict_per_value": ("pairs", None, None),
    "data_only": ("data", None, None),
    "slices_unordered": ("data", None, None),
    "values_unordered": ("data", None, None),
    "matrix_elementwise": ("data", None, None),
    "graph_set": ("data", None, None),
    "tree_set": ("data", None, None),
    "set_equal_after_round_coords_4dp": ("unordered", 4, None),
    "ordered_after_round_coords_4dp": ("ordered", 4, None),
    "keyed_values": ("values", None, None),
    "mime_dispatch": ("auto", None, None),
    "size_sha256": ("sha256", None, None),
    "ssim": ("pixels", None, "SSIM is not computed: images compare by size and pixels (`pixel_atol`)"),
    "ssim_per_image": ("pixels", None, "SSIM is not computed: images compare by size and pixels (`pixel_atol`)"),
    "ssim_pair": ("pixels", None, "SSIM is not computed: images compare by size and pixels (`pixel_atol`)"),
    "spectrogram_l2": ("sha256", None, "spectrograms are not computed: audio compares by the SHA-256 of its bytes"),
    "per_frame_ssim_mean": ("sha256", None, "video frames are not decoded: video compares by the SHA-256 of its bytes"),
}
#: Chart and log types accept the public ``rows_ordered`` for their one data mode.
_ROWS_ORDERED_IS_DATA = frozenset(t for t in OUTPUT_TYPES if t.startswith("chart_"))

#: Keys of the public format that we accept but do not use: a note says so instead of an error.
_UNUSED_KEYS = {
    "min_ssim": "SSIM is not computed; use `pixel_atol` (0-255 per channel) for images",
    "max_l2": "spectrograms are not computed; audio compares by the SHA-256 of its bytes",
    "sample_rate": "spectrograms are not computed; audio compares by the SHA-256 of its bytes",
    "n_mels": "spectrograms are not computed; audio compares by the SHA-256 of its bytes",
}
_ALIASES = {
    "float_rtol": "rtol",
    "rel": "rtol",
    "rel_tol": "rtol",
    "float_atol": "atol",
    "abs": "atol",
    "abs_tol": "atol",
}
_SECTIONS = ("defaults", "overrides", "options")
_MISSING_SPACE = re.compile(r"^\s*(-\s+)?[\"']?[\w.-]+[\"']?:[{\[\w\"']")


def _number(value: object) -> float:
    """A tolerance number: an int, a float, or a numeric string (``"1e-6"``); finite and not negative."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {str(value).lower()}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"must be a number, got the string {value!r}") from None
    else:
        raise ValueError(f"must be a number, got {type(value).__name__}")
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"must be a finite number of at least 0, got {value!r}")
    return number


def _ratio(value: object) -> float:
    number = _number(value)
    if number > 1:
        raise ValueError(f"must be between 0 and 1, got {value!r}")
    return number


Number = Annotated[float, BeforeValidator(_number)]
Ratio = Annotated[float, BeforeValidator(_ratio)]


class ToleranceSpec(BaseModel):
    """How to compare one output: a ``defaults.<type>`` block, an ``overrides.<key>`` block or a fixture's own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rtol: Number | None = None
    """Relative tolerance of numbers (``math.isclose``'s ``rel_tol``); also ``float_rtol``."""
    atol: Number | None = None
    """Absolute tolerance of numbers (``math.isclose``'s ``abs_tol``); also ``float_atol``."""
    compare: str | None = None
    """The comparison mode (see ``MODES``); ``skip`` means not compared."""
    allow_extra: StrictBool | None = None
    """kv: pairs the fixture does not list are allowed."""
    children_order: Literal["unordered", "ordered"] | None = None
    """tree: children matched by name (default) or by position."""
    series_match: Literal["by_name", "by_index"] | None = None
    """charts: series matched by name (default) or by position."""
    round_digits: Annotated[StrictInt, Field(ge=0, le=MAX_ROUND_DIGITS)] | None = None
    """maps: coordinates rounded to this many decimal places before comparing."""
    pixel_atol: Annotated[StrictInt, Field(ge=0, le=MAX_PIXEL_ATOL)] | None = None
    """images (with Pillow): largest difference allowed in one channel of one pixel."""
    allow_regex: StrictBool | None = None
    """log: an expected message ``re:<pattern>`` is a regular expression (default true)."""
    min_ssim: Ratio | None = None
    max_l2: Number | None = None
    sample_rate: StrictInt | None = None
    n_mels: StrictInt | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_aliases(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"compare": data}  # `progress: skip` is short for `progress: {compare: skip}`
        if not isinstance(data, dict):
            return data
        out: dict[Any, Any] = {}
        for key, value in data.items():
            name = _ALIASES.get(key, key) if isinstance(key, str) else key
            if name in out:
                raise ValueError(f"`{key}` and `{name}` are the same setting; give one of them")
            out[name] = value
        return out

    def unused(self) -> list[str]:
        """Notes for accepted keys that change nothing (the public format's SSIM and spectrogram settings)."""
        return [f"`{k}` is not used: {note}" for k, note in _UNUSED_KEYS.items() if getattr(self, k) is not None]


class ToleranceOptions(BaseModel):
    """The ``options`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on_extra_output_key: Literal["ignore", "warn", "fail"] = "ignore"
    """A reply key the fixture does not expect: outputs a fixture leaves out are normal, so ignored by default."""
    on_missing_expected_key: Literal["warn", "fail", "ignore"] = "fail"
    """An expected output missing from the reply (``ignore`` is the public format's; it means not compared)."""
    truncate_diff_chars: StrictInt | None = None
    """Accepted from the public format; not used (each difference is already short)."""


class ToleranceFile(BaseModel):
    """The whole ``tolerance.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: dict[str, ToleranceSpec] = {}
    overrides: dict[str, ToleranceSpec] = {}
    options: ToleranceOptions = ToleranceOptions()


class ToleranceError(ValueError):
    """``tolerance.yaml`` could not be read; ``problems`` has one line per problem."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = Path(path)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Tolerance:
    """The resolved tolerance of one output: every setting has its value."""

    compare: str
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    allow_extra: bool = False
    children_order: str = "unordered"
    series_match: str = "by_name"
    round_digits: int | None = None
    pixel_atol: int = 0
    allow_regex: bool = True

    @property
    def skip(self) -> bool:
        return self.compare == "skip"

    def numbers(self) -> str:
        """``rtol 1e-06, atol 1e-09``: how the message of a numeric difference names the tolerance."""
        return f"rtol {self.rtol:g}, atol {self.atol:g}"


def mode_for(output_type: str, given: str) -> tuple[str, int | None, str | None]:
    """Our mode for a ``compare`` value: (mode, round_digits it implies, a note).

    Raises:
        ValueError: the mode is not one of ``output_type``'s (the message lists them).
    """
    allowed = MODES.get(output_type, ("skip",))
    name = given.strip().lower()
    if name in allowed:
        return name, None, None
    if name == "rows_ordered" and output_type in _ROWS_ORDERED_IS_DATA:
        return "data", None, None
    if name in _PUBLIC_MODES and _PUBLIC_MODES[name][0] in allowed:
        return _PUBLIC_MODES[name]
    raise ValueError(f"`compare: {given}` is not a mode of {output_type}; use one of {', '.join(allowed)}")


def default_tolerance(output_type: str) -> Tolerance:
    """The built-in tolerance of an output type."""
    return Tolerance(compare=MODES.get(output_type, ("skip",))[0])


def _apply(base: Tolerance, spec: ToleranceSpec | None, output_type: str) -> Tolerance:
    if spec is None:
        return base
    changes: dict[str, Any] = {
        name: getattr(spec, name)
        for name in ("rtol", "atol", "allow_extra", "children_order", "series_match", "round_digits", "pixel_atol")
        if getattr(spec, name) is not None
    }
    if spec.allow_regex is not None:
        changes["allow_regex"] = spec.allow_regex
    if spec.compare is not None:
        try:
            mode, digits, _note = mode_for(output_type, spec.compare)
        except ValueError:
            mode, digits = base.compare, None  # reported when the file was loaded
        changes["compare"] = mode
        if digits is not None and spec.round_digits is None:
            changes["round_digits"] = digits
    return replace(base, **changes)


def resolve_tolerance(
    output_key: str,
    output_type: str,
    file: ToleranceFile | None = None,
    fixture: Mapping[str, ToleranceSpec] | None = None,
) -> Tolerance:
    """The tolerance of one output: built-in < ``defaults.<type>`` < ``overrides.<key>`` < the fixture's own."""
    tolerance = default_tolerance(output_type)
    if file is not None:
        tolerance = _apply(tolerance, file.defaults.get(output_type), output_type)
        tolerance = _apply(tolerance, file.overrides.get(output_key), output_type)
    if fixture is not None:
        tolerance = _apply(tolerance, fixture.get(output_key), output_type)
    return tolerance


# --- loading ---------------------------------------------------------------------------------------------------


def _close(word: str, choices: list[str]) -> str:
    near = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean `{near[0]}`?" if near else ""


def _line_numbers(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of every mapping key, by its path (``("defaults", "number", "rtol")``)."""
    lines: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node, path: tuple[str, ...], depth: int) -> None:
        if not isinstance(node, yaml.MappingNode) or depth > 20:
            return
        for key_node, value_node in node.value:
            key = (*path, str(key_node.value))
            lines.setdefault(key, key_node.start_mark.line + 1)
            walk(value_node, key, depth + 1)

    if root is not None:
        walk(root, (), 0)
    return lines


def _missing_space_hint(line: str) -> str:
    if _MISSING_SPACE.match(line):
        key = line.strip().split(":", 1)[0]
        return f" (there is no space after `{key}:`; YAML needs `{key}: {{...}}` with a space)"
    return ""


def _hint_at(text: str, line: int | None) -> str:
    """The missing-space hint for 1-based ``line`` of ``text``, if that line shows the mistake."""
    lines = text.splitlines()
    return _missing_space_hint(lines[line - 1]) if line and 0 < line <= len(lines) else ""


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    what = f"{context}, {problem}" if context else str(problem)
    if mark is None:
        return f"invalid YAML: {what}"
    lines = text.splitlines()
    hint = ""
    # The error is often reported on the line after the mistake: look at both.
    for index in (mark.line, mark.line - 1):
        if 0 <= index < len(lines):
            hint = hint or _missing_space_hint(lines[index])
    return f"line {mark.line + 1}, column {mark.column + 1}: invalid YAML: {what}{hint}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def validation_problems(
    exc: ValidationError,
    *,
    lines: Mapping[tuple[str, ...], int] | None = None,
    text: str = "",
    prefix: tuple[str, ...] = (),
    fields: Sequence[str] | None = None,
) -> list[str]:
    """One readable line per pydantic error, with the 1-based line when ``lines`` knows it.

    An unknown key gets a "did you mean" among ``fields`` when it is a top-level key of the
    validated model, else among the tolerance settings.
    """
    source = text.splitlines()
    problems = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if p not in ("function-after", "function-before"))
        full = (*prefix, *[str(p) for p in loc])
        line = None
        for cut in range(len(full), 0, -1):
            if lines and full[:cut] in lines:
                line = lines[full[:cut]]
                break
        where = f"line {line}: " if line else ""
        msg = str(error["msg"]).removeprefix("Value error, ")
        name = str(loc[-1]) if loc else ""
        hinted = False
        if error["type"] == "extra_forbidden":
            known = list(fields) if fields is not None and len(loc) == 1 else list(ToleranceSpec.model_fields)
            msg = f"`{name}` is not a setting here{_close(name, known)}"
            if ":" in name or "{" in name:
                msg = f"`{name}` has no space after a `:`; YAML needs `key: value` with a space"
                hinted = True
        elif error["type"] == "literal_error":
            msg = msg.replace("Input should be", "must be")
        if line and not hinted and 0 < line <= len(source):
            msg += _missing_space_hint(source[line - 1])
        problems.append(f"{where}`{_dotted(full)}`: {msg}" if full else f"{where}{msg}")
    return problems


def spec_problems(
    where: str, spec: ToleranceSpec, output_type: str, *, line: int | None = None
) -> tuple[list[str], list[str]]:
    """(problems, notes) of one block for one output type: a wrong ``compare`` mode is a problem."""
    at = f"line {line}: " if line else ""
    problems: list[str] = []
    notes = [f"{at}`{where}`: {note}" for note in spec.unused()]
    if spec.compare is not None:
        try:
            _mode, _digits, note = mode_for(output_type, spec.compare)
        except ValueError as exc:
            problems.append(f"{at}`{where}.compare`: {exc}")
        else:
            if note:
                notes.append(f"{at}`{where}.compare: {spec.compare}`: {note}")
    return problems, notes


def _at(line: int | None) -> str:
    return f"line {line}: " if line else ""


def parse_tolerance(
    data: Any, outputs: Mapping[str, str], *, lines: Mapping[tuple[str, ...], int] | None = None, text: str = ""
) -> tuple[ToleranceFile, list[str]]:
    """Validate parsed YAML against the outputs a manifest declares (key → type): (the file, notes).

    Raises:
        ValueError: with ``args[0]`` a list of problem lines.
    """
    lines = lines or {}
    if data is None:
        return ToleranceFile(), []
    if not isinstance(data, dict):
        raise ValueError([f"must be a mapping with `defaults`, `overrides` and `options`, got {type(data).__name__}"])
    problems: list[str] = []

    def section_blocks(section: str) -> dict[str, ToleranceSpec]:
        raw = data.get(section)
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            at = _at(lines.get((section,)))
            problems.append(f"{at}`{section}` must be a mapping of name → settings, got {type(raw).__name__}")
            return {}
        found: dict[str, ToleranceSpec] = {}
        for name, block in raw.items():
            try:
                found[str(name)] = ToleranceSpec.model_validate(block)
            except ValidationError as exc:
                problems.extend(validation_problems(exc, lines=lines, text=text, prefix=(section, str(name))))
        return found

    defaults, overrides = section_blocks("defaults"), section_blocks("overrides")
    options = ToleranceOptions()
    if data.get("options") is not None:
        try:
            options = ToleranceOptions.model_validate(data["options"])
        except ValidationError as exc:
            problems += validation_problems(exc, lines=lines, text=text, prefix=("options",))
    model = ToleranceFile(defaults=defaults, overrides=overrides, options=options)
    # The flat form: any other top-level key is an output key with its own block.
    flat: dict[str, ToleranceSpec] = {}
    for key, value in data.items():
        if key in _SECTIONS:
            continue
        name = str(key)
        try:
            flat[name] = ToleranceSpec.model_validate(value)
        except ValidationError as exc:
            problems += validation_problems(exc, lines=lines, text=text, prefix=(name,))
        if name in model.overrides:
            problems.append(f"{_at(lines.get((name,)))}`{name}` is given both at the top level and in `overrides`")
    notes: list[str] = []
    for type_name, spec in model.defaults.items():
        line = lines.get(("defaults", type_name))
        if type_name not in OUTPUT_TYPES:
            suggestion = _close(type_name, list(OUTPUT_TYPES))
            hint = _hint_at(text, line)
            problems.append(f"{_at(line)}`defaults.{type_name}` is not an output type{suggestion}{hint}")
            continue
        found, said = spec_problems(f"defaults.{type_name}", spec, type_name, line=line)
        problems += found
        notes += said
    blocks = [(("overrides", k), k, s) for k, s in model.overrides.items()] + [((k,), k, s) for k, s in flat.items()]
    for path, key, spec in blocks:
        line = lines.get(path)
        where = ".".join(path)
        if key not in outputs:
            known = ", ".join(outputs) or "none"
            hint = _hint_at(text, line)
            problems.append(
                f"{_at(line)}`{where}` is not a declared output{_close(key, list(outputs))} (outputs: {known}){hint}"
            )
            continue
        found, said = spec_problems(where, spec, outputs[key], line=line)
        problems += found
        notes += said
    if problems:
        raise ValueError(problems)
    if flat:
        model = model.model_copy(update={"overrides": {**model.overrides, **flat}})
    return model, notes


def load_tolerance(path: Path, outputs: Mapping[str, str]) -> tuple[ToleranceFile, list[str]]:
    """Read ``tolerance.yaml`` (a missing file is an empty one): (the file, notes for the report).

    Raises:
        ToleranceError: invalid YAML (with the 1-based line and a hint for ``key:{...}``) or invalid settings.
    """
    if not path.is_file():
        return ToleranceFile(), []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ToleranceError(path, [f"cannot be read: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ToleranceError(path, [_yaml_problem(exc, text)]) from None
    try:
        return parse_tolerance(data, outputs, lines=_line_numbers(text), text=text)
    except ValueError as exc:
        problems = exc.args[0] if exc.args and isinstance(exc.args[0], list) else [str(exc)]
        raise ToleranceError(path, [str(p) for p in problems]) from None
