"""The 39 output types of tool.json as pydantic models, and the ``OutputSpec`` union over them.

Only the spec lives here; what a *value* of each type looks like lives in ``pixie_sdk.shapes``.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr

from pixie_sdk._base import PixieModel
from pixie_sdk.input_specs import Column

__all__ = [
    "OUTPUT_TYPES",
    "SCALAR_OUTPUT_TYPES",
    "BooleanOutput",
    "ChartAreaOutput",
    "ChartLineOutput",
    "CodeOutput",
    "MapPointsOutput",
    "NumberOutput",
    "OutputSpec",
    "PlainOutput",
    "TableOutput",
]

Number: TypeAlias = StrictInt | StrictFloat


class _OutputBase(PixieModel):
    key: StrictStr = Field(min_length=1)
    """The key of this output in the ``/run`` reply."""
    label: StrictStr
    """The card title."""
    description: StrictStr | None = None
    caption: StrictStr | None = None
    """Small text under the card."""
    unit: StrictStr | None = None
    streaming: StrictBool = False
    """The value arrives in pieces over ``/stream``."""
    layout: Literal["panel", "tab", "inline"] = "panel"
    """Consecutive outputs with the same layout share a tab strip (``tab``) or a row (``inline``)."""
    default_export_format: StrictStr | None = None
    supported_export_formats: list[StrictStr] | None = None


class NumberOutput(_OutputBase):
    """A number, formatted by ``format`` and ``precision``."""

    type: Literal["number"]
    format: Literal["currency", "percent", "scientific", "decimal"] = "decimal"
    precision: StrictInt | None = Field(default=None, ge=0)


class BooleanOutput(_OutputBase):
    """A yes/no value."""

    type: Literal["boolean"]
    true_label: StrictStr | None = None
    false_label: StrictStr | None = None


class TableOutput(_OutputBase):
    """Rows and columns."""

    type: Literal["table"]
    columns: list[Column] | None = None
    downloadable: StrictBool = False


class ChartLineOutput(_OutputBase):
    """Lines over a shared x axis."""

    type: Literal["chart_line"]
    x_label: StrictStr | None = None
    y_label: StrictStr | None = None
    log_x: StrictBool = False
    log_y: StrictBool = False


class ChartAreaOutput(_OutputBase):
    """Stacked areas over a shared x axis."""

    type: Literal["chart_area"]
    x_label: StrictStr | None = None
    y_label: StrictStr | None = None
    log_x: StrictBool = False
    log_y: StrictBool = False


class MapPointsOutput(_OutputBase):
    """Markers on a map."""

    type: Literal["map_points"]
    default_center: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = None
    default_zoom: StrictInt | None = None


class CodeOutput(_OutputBase):
    """Source code, highlighted."""

    type: Literal["code"]
    language: StrictStr | None = None


#: Output types with no spec fields beyond the shared ones.
PlainOutputType: TypeAlias = Literal[
    "text", "markdown", "latex", "stream_text", "progress", "image", "audio", "video",
    "kv", "log", "diff", "tree", "timeline", "gantt",
    "chart_bar", "chart_scatter", "chart_pie", "chart_histogram", "chart_boxplot", "chart_heatmap",
    "chart_candlestick", "chart_radar", "chart_sankey", "chart_treemap", "chart_network",
    "map_heatmap", "map_route", "map_polygons", "map_choropleth",
    "image_grid", "image_compare", "file",
]  # fmt: skip


class PlainOutput(_OutputBase):
    """Any output type whose spec has only the shared fields."""

    type: PlainOutputType


OutputSpec: TypeAlias = Annotated[
    NumberOutput
    | BooleanOutput
    | TableOutput
    | ChartLineOutput
    | ChartAreaOutput
    | MapPointsOutput
    | CodeOutput
    | PlainOutput,
    Field(discriminator="type"),
]

#: Every output type name, in the contract's order.
OUTPUT_TYPES: tuple[str, ...] = (
    "text", "markdown", "latex", "code", "stream_text", "number", "boolean", "progress", "image", "audio",
    "video", "table", "kv", "log", "diff", "tree", "timeline", "gantt", "chart_line", "chart_area", "chart_bar",
    "chart_scatter", "chart_pie", "chart_histogram", "chart_boxplot", "chart_heatmap", "chart_candlestick",
    "chart_radar", "chart_sankey", "chart_treemap", "chart_network", "map_points", "map_heatmap", "map_route",
    "map_polygons", "map_choropleth", "image_grid", "image_compare", "file",
)  # fmt: skip

#: Types whose value is a bare scalar or ``{"value": <scalar>, ...presentation}``.
SCALAR_OUTPUT_TYPES: frozenset[str] = frozenset(
    {"text", "markdown", "latex", "code", "stream_text", "number", "boolean", "progress", "image", "audio", "video"}
)
