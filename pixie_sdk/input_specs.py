"""The 28 input types of tool.json as pydantic models, and the ``InputSpec`` union over them.

What a *value* of each type looks like at run time lives in ``pixie_sdk.run_input``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr

from pixie_sdk._base import PixieModel

__all__ = [
    "INPUT_TYPES",
    "AudioInput",
    "AutocompleteInput",
    "CheckboxInput",
    "CodeInput",
    "ColourInput",
    "Column",
    "DateInput",
    "DateRangeInput",
    "DatetimeInput",
    "FileInput",
    "HiddenInput",
    "ImageInput",
    "InputSpec",
    "JsonInput",
    "MapBboxInput",
    "MapMultipointInput",
    "MapPointInput",
    "MapPolygonInput",
    "MarkdownInput",
    "MultiselectInput",
    "NumberInput",
    "Option",
    "RadioInput",
    "SelectInput",
    "ShowIf",
    "SliderInput",
    "TableInput",
    "TagsInput",
    "TextInput",
    "TextareaInput",
    "TimeInput",
    "ToggleInput",
]

Number: TypeAlias = StrictInt | StrictFloat
OptionValue: TypeAlias = StrictBool | StrictInt | StrictFloat | StrictStr


class Option(PixieModel):
    """One choice of a select, radio or multiselect input."""

    value: OptionValue
    """What the tool receives when this option is picked; its JSON type is kept."""
    label: StrictStr
    """What the person sees."""


class Column(PixieModel):
    """A column of a table input or a table output."""

    key: StrictStr
    """The row key this column reads."""
    label: StrictStr
    """The column heading."""
    type: StrictStr | None = None
    """A display hint: ``number``, ``currency``, ``percent``, ``date``, ``boolean``; anything else is text."""


class ShowIf(PixieModel):
    """Show the input only while another input equals a value."""

    key: StrictStr
    """The other input's key."""
    equals: Any
    """The value that makes this input visible."""


class _InputBase(PixieModel):
    key: StrictStr = Field(min_length=1)
    """The name of the value in the run body's ``inputs``."""
    label: StrictStr
    """The form label."""
    description: StrictStr | None = None
    """Help text under the field."""
    default: Any = None
    """Pre-filled value; also what the validator's sample run sends."""
    required: StrictBool = True
    """A required input must be present in every run (unless hidden by ``show_if``)."""
    group: StrictStr | None = None
    """Consecutive inputs with the same group are drawn under one heading."""
    show_if: ShowIf | None = None
    """Visibility rule; a hidden input is left out of the run body."""


class _MapBase(_InputBase):
    default_center: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = None
    """``[lat, lng]`` the map opens on."""
    default_zoom: StrictInt | None = None
    """Zoom level the map opens at."""


class _FileBase(_InputBase):
    accept: StrictStr | list[StrictStr] | None = None
    """Accepted MIME types or extensions (``image/*``, ``.csv``), a string or a list."""
    max_size_mb: Number | None = None
    """Largest accepted file, in MiB."""
    multiple: StrictBool = False
    """Accept several files; the value is then a list."""


class TextInput(_InputBase):
    """A one-line string."""

    type: Literal["text"]
    placeholder: StrictStr | None = None
    max_length: StrictInt | None = Field(default=None, ge=0)


class TextareaInput(_InputBase):
    """A multi-line string."""

    type: Literal["textarea"]
    placeholder: StrictStr | None = None
    max_length: StrictInt | None = Field(default=None, ge=0)
    monospace: StrictBool = False


class NumberInput(_InputBase):
    """A number, optionally bounded."""

    type: Literal["number"]
    min: Number | None = None
    max: Number | None = None
    step: Number | None = Field(default=None, gt=0)
    unit: StrictStr | None = None


class SliderInput(_InputBase):
    """A bounded number picked on a slider; a ``[lo, hi]`` pair when ``range``."""

    type: Literal["slider"]
    min: Number
    max: Number
    step: Number | None = Field(default=None, gt=0)
    range: StrictBool = False


class SelectInput(_InputBase):
    """One option from a drop-down."""

    type: Literal["select"]
    options: list[Option] = Field(min_length=1)
    searchable: StrictBool = False


class RadioInput(_InputBase):
    """One option from radio buttons."""

    type: Literal["radio"]
    options: list[Option] = Field(min_length=1)
    searchable: StrictBool = False


class MultiselectInput(_InputBase):
    """Any number of options; the value is a list of option values."""

    type: Literal["multiselect"]
    options: list[Option] = Field(min_length=1)
    searchable: StrictBool = False


class CheckboxInput(_InputBase):
    """A boolean checkbox."""

    type: Literal["checkbox"]


class ToggleInput(_InputBase):
    """A boolean switch."""

    type: Literal["toggle"]


class DateInput(_InputBase):
    """A calendar date, ``YYYY-MM-DD``."""

    type: Literal["date"]
    min: StrictStr | None = None
    max: StrictStr | None = None


class TimeInput(_InputBase):
    """A time of day, ``HH:MM``."""

    type: Literal["time"]


class DatetimeInput(_InputBase):
    """A local date and time, ``YYYY-MM-DDTHH:MM[:SS]``."""

    type: Literal["datetime"]


class DateRangeInput(_InputBase):
    """Two dates, ``["YYYY-MM-DD", "YYYY-MM-DD"]``."""

    type: Literal["date_range"]


class FileInput(_FileBase):
    """Any file, sent as a data URL (or a multipart part)."""

    type: Literal["file"]


class ImageInput(_FileBase):
    """An image file."""

    type: Literal["image"]


class AudioInput(_FileBase):
    """An audio file."""

    type: Literal["audio"]


class ColourInput(_InputBase):
    """A colour, ``#rrggbb``."""

    type: Literal["colour"]


class JsonInput(_InputBase):
    """Any JSON value, checked against ``schema`` when given."""

    type: Literal["json"]
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    """A JSON Schema the value must satisfy."""


class CodeInput(_InputBase):
    """Source code in an editor."""

    type: Literal["code"]
    language: StrictStr | None = None


class MarkdownInput(_InputBase):
    """Markdown text."""

    type: Literal["markdown"]


class TagsInput(_InputBase):
    """A list of strings."""

    type: Literal["tags"]
    suggestions: list[StrictStr] = []


class AutocompleteInput(_InputBase):
    """A string picked from suggestions the tool serves at ``/autocomplete/<endpoint>``."""

    type: Literal["autocomplete"]
    endpoint: StrictStr = Field(min_length=1)


class TableInput(_InputBase):
    """Rows typed into an editable table; the value is a list of objects keyed by column key."""

    type: Literal["table"]
    columns: list[Column] = Field(min_length=1)
    min_rows: StrictInt | None = Field(default=None, ge=0)
    max_rows: StrictInt | None = Field(default=None, ge=0)


class MapPointInput(_MapBase):
    """One point, ``[lat, lng]``."""

    type: Literal["map_point"]


class MapBboxInput(_MapBase):
    """A box, ``[[south, west], [north, east]]``."""

    type: Literal["map_bbox"]


class MapPolygonInput(_MapBase):
    """A polygon of three or more ``[lat, lng]`` points."""

    type: Literal["map_polygon"]


class MapMultipointInput(_MapBase):
    """Several ``[lat, lng]`` points."""

    type: Literal["map_multipoint"]


class HiddenInput(_InputBase):
    """A value the form never shows; always its ``default``."""

    type: Literal["hidden"]


InputSpec: TypeAlias = Annotated[
    TextInput
    | TextareaInput
    | NumberInput
    | SliderInput
    | SelectInput
    | RadioInput
    | MultiselectInput
    | CheckboxInput
    | ToggleInput
    | DateInput
    | TimeInput
    | DatetimeInput
    | DateRangeInput
    | FileInput
    | ImageInput
    | AudioInput
    | ColourInput
    | JsonInput
    | CodeInput
    | MarkdownInput
    | TagsInput
    | AutocompleteInput
    | TableInput
    | MapPointInput
    | MapBboxInput
    | MapPolygonInput
    | MapMultipointInput
    | HiddenInput,
    Field(discriminator="type"),
]

#: Every input type name, in the contract's order.
INPUT_TYPES: tuple[str, ...] = (
    "text", "textarea", "number", "slider", "select", "radio", "multiselect", "checkbox", "toggle", "date",
    "time", "datetime", "date_range", "file", "image", "audio", "colour", "json", "code", "markdown", "tags",
    "autocomplete", "table", "map_point", "map_bbox", "map_polygon", "map_multipoint", "hidden",
)  # fmt: skip
