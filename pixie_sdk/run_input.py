"""``RunInput``: the typed inputs a handler receives, generated from a manifest.

One rule per input type says what a value must be (``input_value_type``); the same rule
checks tool.json defaults (check 3), the SDK's ``/run`` and the host's own pre-checks, so
a value is judged the same way everywhere. ``show_if`` visibility and ``required`` are
applied by the model itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import keyword
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictStr,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pixie_sdk.files import InputFile, decode_file_value, matches_accept
from pixie_sdk.input_specs import (
    AudioInput,
    AutocompleteInput,
    CheckboxInput,
    CodeInput,
    ColourInput,
    DateInput,
    DateRangeInput,
    DatetimeInput,
    FileInput,
    ImageInput,
    InputSpec,
    JsonInput,
    MapBboxInput,
    MapMultipointInput,
    MapPointInput,
    MapPolygonInput,
    MarkdownInput,
    MultiselectInput,
    NumberInput,
    Option,
    RadioInput,
    SelectInput,
    SliderInput,
    TableInput,
    TagsInput,
    TextareaInput,
    TextInput,
    TimeInput,
    ToggleInput,
)
from pixie_sdk.manifest import ToolManifest

__all__ = [
    "RunInput",
    "build_run_input_model",
    "check_input_value",
    "input_errors",
    "input_value_type",
    "visible_inputs",
]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_MiB = 1024 * 1024
_SPEC_ADAPTER: TypeAdapter[InputSpec] = TypeAdapter(InputSpec)


class _Missing:
    """Marks a visible required input that was not given; rejected with pydantic's own `missing` error."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _reject_missing(value: Any) -> Any:
    if value is _MISSING:
        raise PydanticCustomError("missing", "Field required")
    return value


def _fail(kind: str, message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, ctx or None)


def _pattern(regex: re.Pattern[str], kind: str, hint: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not regex.match(value):
            raise _fail(kind, f"Input should be {hint}")
        return value

    return BeforeValidator(check)


def _choice(options: list[Option]) -> AfterValidator:
    """Match a value to an option; a string spelling of a non-string option value is accepted too."""
    labels = ", ".join(repr(o.value) for o in options)

    def pick(value: Any) -> Any:
        for o in options:
            if value == o.value and type(value) is type(o.value):
                return o.value
        for o in options:
            same_number = isinstance(o.value, int | float) and not isinstance(o.value, bool)
            if same_number and isinstance(value, int | float) and not isinstance(value, bool) and value == o.value:
                return o.value
            if isinstance(value, str) and not isinstance(o.value, str) and value == _spell(o.value):
                return o.value
        raise _fail("invalid_choice", f"Input should be one of: {labels}")

    return AfterValidator(pick)


def _spell(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _bounded(lo: Any, hi: Any, what: str = "") -> AfterValidator:
    def check(value: Any) -> Any:
        if lo is not None and value < lo:
            raise _fail("too_small", f"Input should be at least {lo}{what}")
        if hi is not None and value > hi:
            raise _fail("too_large", f"Input should be at most {hi}{what}")
        return value

    return AfterValidator(check)


def _ordered_pair(value: Any) -> Any:
    if value[0] > value[1]:
        raise _fail("range_order", "Input should be ordered: the first value must not exceed the second")
    return value


#: NaN and Infinity are not numbers a tool can work with (and not JSON either).
_FINITE = Field(allow_inf_nan=False)
_Lat = Annotated[float, Strict(), Field(ge=-90, le=90, allow_inf_nan=False)]
_Lng = Annotated[float, Strict(), Field(ge=-180, le=180, allow_inf_nan=False)]
_Point = tuple[_Lat, _Lng]
_Num = Annotated[float, Strict()]


def _file_type(spec: FileInput | ImageInput | AudioInput) -> Any:
    max_bytes = spec.max_size_mb * _MiB if spec.max_size_mb is not None else None

    def to_file(value: Any) -> InputFile:
        try:
            file = decode_file_value(value)
        except ValueError as exc:
            raise _fail("file_type", f"Input {exc}") from None
        if not matches_accept(file, spec.accept):
            raise _fail("file_accept", f"Input file `{file.name}` ({file.mime_type}) is not accepted: {spec.accept}")
        if max_bytes is not None and file.size > max_bytes:
            raise _fail("file_too_large", f"Input file is {file.size / _MiB:.1f} MiB, over {spec.max_size_mb} MiB")
        return file

    one: Any = Annotated[InputFile, BeforeValidator(to_file)]
    return list[one] if spec.multiple else one


def input_value_type(spec: InputSpec) -> Any:
    """The pydantic type a value of this input must satisfy (``None`` is handled by ``RunInput``)."""
    match spec:
        case TextInput() | TextareaInput():
            return Annotated[str, Strict(), Field(max_length=spec.max_length)]
        case CodeInput() | MarkdownInput() | AutocompleteInput():
            return StrictStr
        case NumberInput():
            return Annotated[float, Strict(), _FINITE, _bounded(spec.min, spec.max)]
        case SliderInput():
            one: Any = Annotated[float, Strict(), _FINITE, _bounded(spec.min, spec.max)]
            return Annotated[tuple[one, one], AfterValidator(_ordered_pair)] if spec.range else one
        case SelectInput() | RadioInput():
            return Annotated[Any, _choice(spec.options)]
        case MultiselectInput():
            return list[Annotated[Any, _choice(spec.options)]]
        case CheckboxInput() | ToggleInput():
            return StrictBool
        case DateInput():
            bounds = (_iso_date(spec.min), _iso_date(spec.max))
            return Annotated[dt.date, _pattern(_DATE, "date_format", "a date, YYYY-MM-DD"), _bounded(*bounds)]
        case TimeInput():
            return Annotated[dt.time, _pattern(_TIME, "time_format", "a time, HH:MM")]
        case DatetimeInput():
            return Annotated[dt.datetime, _pattern(_DATETIME, "datetime_format", "a date and time, YYYY-MM-DDTHH:MM")]
        case DateRangeInput():
            day: Any = Annotated[dt.date, _pattern(_DATE, "date_format", "a date, YYYY-MM-DD")]
            return Annotated[tuple[day, day], AfterValidator(_ordered_pair)]
        case FileInput() | ImageInput() | AudioInput():
            return _file_type(spec)
        case ColourInput():
            return Annotated[str, _pattern(_COLOUR, "colour_format", "a colour, #rrggbb"), AfterValidator(str.lower)]
        case JsonInput():
            return Annotated[Any, AfterValidator(_json_schema_check(spec.json_schema))]
        case TagsInput():
            return list[StrictStr]
        case TableInput():
            return Annotated[list[dict[str, Any]], AfterValidator(_table_check(spec))]
        case MapPointInput():
            return _Point
        case MapBboxInput():
            return Annotated[tuple[_Point, _Point], AfterValidator(_bbox_check)]
        case MapPolygonInput():
            return Annotated[list[_Point], Field(min_length=3)]
        case MapMultipointInput():
            return list[_Point]
    return Any  # hidden: whatever its default is


def _iso_date(value: str | None) -> dt.date | None:
    # A bound that is no real date is reported by check_coherence; here it simply does not bind.
    try:
        return dt.date.fromisoformat(value) if value and _DATE.match(value) else None
    except ValueError:
        return None


def _non_finite_path(value: Any, path: str = "") -> str | None:
    """Where a NaN or Infinity sits inside a JSON-like value ("" for the value itself), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite_path(item, f"{path}/{key}")
        if found is not None:
            return found
    return None


def _reject_non_finite(value: Any) -> Any:
    where = _non_finite_path(value)
    if where is not None:
        # JSON has no NaN or Infinity: such a value could never be sent on, stored or replayed.
        raise _fail("finite_number", f"Input holds NaN or Infinity{' at ' + where if where else ''}; JSON has neither")
    return value


def _json_schema_check(schema: dict[str, Any] | None) -> Any:
    if not schema:
        return _reject_non_finite
    import jsonschema  # only tools with a json input pay for importing it

    validator = jsonschema.Draft202012Validator(schema)

    def check(value: Any) -> Any:
        _reject_non_finite(value)
        try:
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        except (jsonschema.exceptions.SchemaError, jsonschema.exceptions.UnknownType) as exc:  # check 3 reports it
            raise _fail("json_schema_invalid", f"The input's own schema is invalid: {exc}") from None
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            raise _fail("json_schema", f"Input does not match its schema{' at ' + where if where else ''}: "
                        f"{error.message}")  # fmt: skip
        return value

    return check


#: What a cell must be for a typed column (other column types are free text or anything).
def _finite_number(value: Any) -> bool:
    # JSON has no NaN or Infinity: a cell holding one could never be sent back or stored.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_CELL_RULES: dict[str, tuple[str, Any]] = {
    "number": ("a finite number", _finite_number),
    "currency": ("a finite number", _finite_number),
    "percent": ("a finite number", _finite_number),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "date": ("a date, YYYY-MM-DD", lambda v: isinstance(v, str) and bool(_DATE.match(v))),
}


def _table_check(spec: TableInput) -> Any:
    keys = {c.key for c in spec.columns}
    typed = {c.key: _CELL_RULES[c.type] for c in spec.columns if c.type in _CELL_RULES}

    def check(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if spec.min_rows is not None and len(rows) < spec.min_rows:
            raise _fail("too_short", f"Input should have at least {spec.min_rows} rows")
        if spec.max_rows is not None and len(rows) > spec.max_rows:
            raise _fail("too_long", f"Input should have at most {spec.max_rows} rows")
        for n, row in enumerate(rows):
            unknown = sorted(set(row) - keys)
            if unknown:
                raise _fail("table_column", f"Row {n + 1} has unknown column `{unknown[0]}`; columns are: "
                            + ", ".join(sorted(keys)))  # fmt: skip
            for key, (words, ok) in typed.items():
                cell = row.get(key)
                if cell is not None and not ok(cell):
                    raise _fail("table_cell", f"Row {n + 1}, column `{key}` should be {words}, got `{cell!r:.40}`")
        return rows

    return check


def _bbox_check(value: Any) -> Any:
    (south, _west), (north, _east) = value
    if south > north:
        raise _fail("bbox_order", "Input should be [[south, west], [north, east]] with south <= north")
    return value


@functools.lru_cache(maxsize=512)
def _adapter_for(spec_json: str) -> TypeAdapter[Any]:
    spec: InputSpec = _SPEC_ADAPTER.validate_json(spec_json)
    return TypeAdapter(input_value_type(spec))


def _adapter(spec: InputSpec) -> TypeAdapter[Any]:
    # Specs hold lists, so they are not hashable; their JSON is, and equal specs share a validator.
    return _adapter_for(spec.model_dump_json(by_alias=True))


def check_input_value(spec: InputSpec, value: Any) -> str | None:
    """Judge one value against its input's rules; a plain-words problem, or None when it is valid."""
    try:
        _adapter(spec).validate_python(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "".join(f"[{p}]" for p in err["loc"])
        return f"{where + ': ' if where else ''}{err['msg'][0].lower()}{err['msg'][1:]} (got `{value!r:.60}`)"
    return None


def visible_inputs(manifest: ToolManifest, values: Mapping[str, Any]) -> set[str]:
    """Keys of the inputs that ``show_if`` leaves visible, given the submitted values (defaults fill gaps).

    An input is visible when it has no rule, or when the input its rule names is itself
    visible and currently equals the rule's value. A cycle of rules hides every input on it.
    """
    specs = {i.key: i for i in manifest.inputs}
    memo: dict[str, bool] = {}
    return {key for key in specs if _is_visible(key, specs, values, memo, 0)}


def _is_visible(
    key: str, specs: Mapping[str, InputSpec], values: Mapping[str, Any], memo: dict[str, bool], depth: int
) -> bool:
    # A module-level function, not a closure: a self-referencing closure is a reference cycle per run.
    if key not in memo:
        rule = specs[key].show_if
        if rule is None:
            memo[key] = True
        elif depth > len(specs) or rule.key not in specs:
            memo[key] = False
        else:
            current = values.get(rule.key)
            if current is None:
                current = specs[rule.key].default
            memo[key] = _is_visible(rule.key, specs, values, memo, depth + 1) and _equal(current, rule.equals)
    return memo[key]


def _equal(a: Any, b: Any) -> bool:
    if a == b and isinstance(a, bool) == isinstance(b, bool):
        return True
    return isinstance(a, str) != isinstance(b, str) and _spell(a) == _spell(b)


class RunInput(BaseModel):
    """Base of the per-tool input models; a handler receives an instance.

    Read a value as ``inputs.rate`` or ``inputs["rate"]`` (the latter works for any key,
    including ones that are not Python identifiers). Inputs hidden by ``show_if`` and
    optional inputs left empty are ``None``.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", arbitrary_types_allowed=True)

    __pixie_manifest__: ClassVar[ToolManifest]
    __pixie_fields__: ClassVar[dict[str, str]]
    __pixie_has_rules__: ClassVar[bool]
    __pixie_all_keys__: ClassVar[frozenset[str]]

    @model_validator(mode="before")
    @classmethod
    def _apply_visibility_and_defaults(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        manifest = cls.__pixie_manifest__
        visible = visible_inputs(manifest, data) if cls.__pixie_has_rules__ else cls.__pixie_all_keys__
        out: dict[str, Any] = {}
        for spec in manifest.inputs:
            if spec.key not in visible:
                continue
            if spec.type == "hidden":  # the contract: a hidden input is always its default
                out[spec.key] = spec.default
                continue
            value = data.get(spec.key)
            if value is None:
                value = spec.default
            if value is None and spec.required:
                value = _MISSING
            if value is not None:
                out[spec.key] = value
        return out

    if TYPE_CHECKING:
        # Fields are generated from tool.json at run time; to a type checker every input is Any.
        def __getattr__(self, name: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self.__pixie_fields__[key])

    def get(self, key: str, default: Any = None) -> Any:
        """The value of input ``key``, or ``default`` when the tool has no such input."""
        name = self.__pixie_fields__.get(key)
        return default if name is None else getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        """All inputs keyed by input key."""
        return {key: getattr(self, name) for key, name in self.__pixie_fields__.items()}


def _field_name(key: str, n: int) -> str:
    ok = key.isidentifier() and not keyword.iskeyword(key) and not key.startswith(("_", "model_"))
    return key if ok and not hasattr(RunInput, key) else f"input_{n}"


def build_run_input_model(manifest: ToolManifest) -> type[RunInput]:
    """Generate the ``RunInput`` subclass for a manifest (types, bounds, options, defaults, required, show_if)."""
    fields: dict[str, Any] = {}
    names: dict[str, str] = {}
    for n, spec in enumerate(manifest.inputs):
        name = _field_name(spec.key, n)
        names[spec.key] = name
        value_type: Any = input_value_type(spec)
        kind: Any = Annotated[value_type | None, BeforeValidator(_reject_missing)]
        fields[name] = (kind, Field(default=None, alias=spec.key, description=spec.description))
    model: type[RunInput] = create_model(
        f"RunInput_{manifest.id.replace('-', '_')}",
        __base__=RunInput,
        __module__=__name__,
        **fields,
    )
    model.__pixie_manifest__ = manifest
    model.__pixie_fields__ = names
    model.__pixie_has_rules__ = any(i.show_if is not None for i in manifest.inputs)
    model.__pixie_all_keys__ = frozenset(names)
    return model


def input_errors(exc: ValidationError, *, prefix: tuple[str, ...] = ("body", "inputs")) -> list[dict[str, Any]]:
    """A ``RunInput`` validation error as FastAPI's 422 ``detail`` list, each ``loc`` naming the input key."""
    out = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        out.append({"loc": [*prefix, *loc], "msg": err["msg"], "type": err["type"]})
    return out
