"""The output-shape rules of contract §3 and the tolerated variants of §9 (``pixie_sdk.shapes``)."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from pixie_sdk.manifest import parse_manifest
from pixie_sdk.output_specs import OUTPUT_TYPES, SCALAR_OUTPUT_TYPES
from pixie_sdk.shapes import (
    MAX_PROBLEMS,
    MAX_TREE_DEPTH,
    OutputsReport,
    check_outputs,
    is_artefact_ref,
    iter_artefact_refs,
    normalise_output,
    placeholder,
    presentation,
    shape_problems,
    unwrap_scalar,
)

PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR42mNgAAIAAAUAAen63NgAAAAASUVORK5CYII="
)
WAV = "data:audio/wav;base64,UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQIAAACAgA=="


def manifest(*outputs: dict[str, Any]) -> Any:
    return parse_manifest({"id": "t", "name": "T", "inputs": [], "outputs": list(outputs)})


def spec(output_type: str, **fields: Any) -> Any:
    return manifest({"key": "o", "type": output_type, "label": "O", **fields}).outputs[0]


#: One output of every type, keyed by its type name.
ALL_TYPES = manifest(*({"key": t, "type": t, "label": t} for t in OUTPUT_TYPES))

# One good canonical value per type.
GOOD: dict[str, Any] = {
    "text": "hello",
    "markdown": "# Title\n\nbody",
    "latex": r"\frac{a}{b}",
    "code": "print(1)",
    "stream_text": "partial",
    "number": 3.5,
    "boolean": True,
    "progress": 0.4,
    "image": PNG,
    "audio": "https://example.com/a.mp3",
    "video": {"artefact": "clips/out.mp4", "mime_type": "video/mp4"},
    "table": {"columns": [{"key": "a", "label": "A", "type": "number"}, {"key": "b"}], "rows": [{"a": 1, "b": "x"}]},
    "kv": {"pairs": {"rate": 0.05, "name": "loan", "nested": {"any": ["json"]}}},
    "log": {
        "lines": [{"message": "start"}, {"message": "half", "level": "warn", "t": 1.5}, {"message": "x", "t": "t1"}]
    },
    "diff": {"before": "a\n", "after": "b\n", "filename_before": "a.txt"},
    "tree": {"root": {"name": "r", "meta": {"size": 3}, "children": [{"name": "c", "children": []}, {"name": "d"}]}},
    "timeline": {"events": [{"t": "2024-01-01", "title": "start", "description": "go"}, {"t": 3, "title": 2024}]},
    "gantt": {"tasks": [{"name": "a", "start": "2024-01-01", "end": "2024-01-03", "colour": "#f00"}]},
    "chart_line": {"x": [1, 2, 3], "series": [{"name": "a", "y": [1, None, 3]}], "x_label": "t"},
    "chart_area": {"x": ["q1", "q2"], "series": [{"name": "a", "y": [1, 2]}, {"name": "b", "y": [3, 4]}]},
    "chart_bar": {"x": ["a"], "series": [{"name": "n", "y": [5]}]},
    "chart_scatter": {
        "series": [{"name": "s", "points": [{"x": 1, "y": 2, "label": "p", "size": 3}, {"x": "a", "y": 0}]}]
    },
    "chart_pie": {"slices": [{"label": "a", "value": 1}, {"label": 2024, "value": 0}], "donut": True},
    "chart_histogram": {"values": [1, 2, 2.5], "bins": 10},
    "chart_boxplot": {"series": [{"name": "a", "values": [1, 2, 3]}]},
    "chart_heatmap": {"z": [[1, None], [2, 3]], "x_labels": ["a", "b"], "y_labels": ["r1", "r2"]},
    "chart_candlestick": {"points": [{"t": "2024-01-01", "open": 1, "high": 3, "low": 0.5, "close": 2}]},
    "chart_radar": {"axes": ["a", "b", "c"], "series": [{"name": "s", "values": [1, 2, 3]}]},
    "chart_sankey": {
        "nodes": [{"id": "a"}, {"id": "b", "label": "B"}],
        "links": [{"source": "a", "target": "b", "value": 2}],
    },
    "chart_treemap": {"nodes": [{"id": "root", "parent": "", "value": 3}, {"id": "k", "parent": "root", "value": 3}]},
    "chart_network": {"nodes": [{"id": 1}, {"id": 2}], "edges": [{"source": 1, "target": 2, "label": "e"}]},
    "map_points": {"points": [{"lat": 0, "lng": 0, "label": "null island"}, {"lat": -90, "lng": 180}]},
    "map_heatmap": {"points": [{"lat": 51.5, "lng": -0.1, "weight": 2}]},
    "map_route": {"points": [{"lat": 51.5, "lng": -0.1}, {"lat": 52, "lng": 0}]},
    "map_polygons": {"polygons": [{"coords": [[0, 0], [0, 1], [1, 1]], "label": "tri", "colour": "red"}]},
    "map_choropleth": {"geojson": {"type": "FeatureCollection", "features": []}, "values": {"GB": 1.5, "FR": 2}},
    "image_grid": {
        "images": [PNG, {"url": "https://x.test/a.png"}, {"value": PNG, "label": "b"}, {"artefact": "c.png"}]
    },
    "image_compare": {"before": PNG, "after": {"url": "http://x.test/b.png"}, "before_label": "old"},
    "file": {"filename": "out.csv", "data": "data:text/csv;base64,YSxiCjEsMgo=", "mime_type": "text/csv"},
}

# At least one bad value per type, with a substring of the expected problem.
BAD: list[tuple[str, Any, str]] = [
    ("text", 5, "must be a string, got a number"),
    ("text", None, "must be a string, got null"),
    ("text", {"text": "x"}, 'or {"value": <that>}; got an object with keys `text`'),
    ("markdown", ["a"], "must be a string, got a list"),
    ("latex", {"value": 1}, "value must be a string, got a number"),
    ("code", True, "must be a string, got a boolean"),
    ("code", {"value": "x", "language": 3}, "language must be a string"),
    ("stream_text", {"value": None}, "value must be a string, got null"),
    ("number", True, "must be a number, got a boolean"),
    ("number", "3.5", "must be a number, got a string"),
    ("number", float("nan"), "must be a finite number"),
    ("number", {"value": 1, "format": "bold"}, "format must be one of currency, percent, scientific, decimal"),
    ("number", {"value": 1, "precision": "2"}, "precision must be a whole number"),
    ("boolean", 1, "must be true or false, got a number"),
    ("boolean", {"value": True, "true_label": 1}, "true_label must be a string"),
    ("progress", "50%", "must be a number, got a string"),
    ("progress", -0.1, "must not be negative"),
    ("progress", 150, "a percent cannot exceed 100"),
    ("image", "out.png", "must be a data URL, an http(s) URL or an artefact reference"),
    ("image", "out.png", '{"artefact": "out.png"}'),
    ("image", "data:;base64,AAAA", "without a MIME type"),
    ("image", "data:image/png;base64,@@@", "not valid base64"),
    ("image", "data:image/png", "without the `,`"),
    ("image", "ftp://x/a.png", "must be a data URL, an http(s) URL or an artefact reference"),
    ("image", "https://", "must be a data URL"),
    ("image", {"artefact": "/etc/passwd"}, "artefact must be relative to artefacts_dir"),
    ("audio", {"artefact": "../../secret.wav"}, "must stay inside artefacts_dir"),
    ("audio", {"artefact": "a.wav", "mime_type": 3}, "mime_type must be a string"),
    ("video", 7, "must be a data URL, an http(s) URL or an artefact reference, got a number"),
    ("video", {"value": {"artefact": ""}}, "value.artefact must be a non-empty relative path"),
    ("table", "rows", "must be an object with `rows`, got a string"),
    ("table", {"columns": []}, "rows is required"),
    ("table", {"rows": [{"a": 1}, {"a": 2}, "x"]}, "rows[2] must be an object keyed by column, got a string"),
    ("table", {"rows": [[1, 2]]}, "rows[0] is a positional list but the table has no `columns`"),
    ("table", {"columns": ["a", "b"], "rows": [[1, 2], [1]]}, "rows[1] has 1 cell but there are 2 columns"),
    ("table", {"columns": [{"label": "A"}], "rows": []}, "columns[0].key is required"),
    ("table", {"columns": [5], "rows": []}, "columns[0] must be a column `{key, label?, type?}`"),
    ("table", {"columns": ["a", "a"], "rows": []}, 'columns[1].key "a" repeats columns[0]'),
    ("table", {"rows": [], "downloadable": "yes"}, "downloadable must be true or false"),
    ("kv", "a=1", 'must be {"pairs": {key: value}}'),
    ("kv", {"pairs": "a=1"}, "pairs must be"),
    ("kv", [["a", 1], ["b"]], '[1] must be a {key, value} object or a [key, value] pair, got ["b"]'),
    ("kv", {"pairs": [{"key": None, "value": 1}]}, "pairs[0].key must be a string or an integer id"),
    ("log", {"lines": ["started"]}, "lines[0] must be an object with `message`, got a string"),
    ("log", {"lines": [{"message": "x", "level": 3}]}, "lines[0].level must be a string"),
    ("log", {"lines": [{"message": "x", "t": []}]}, "lines[0].t must be a number or a string"),
    ("log", {}, "lines is required"),
    ("diff", {"before": "a"}, "after is required"),
    ("diff", {"before": 1, "after": "b"}, "before must be a string, got a number"),
    ("tree", {"root": {"label": "r"}}, "root.name is required"),
    ("tree", {"root": {"name": "r", "children": [{"name": 5}]}}, "root.children[0].name must be a string"),
    ("tree", {"root": {"name": "r", "children": "x"}}, "root.children must be a list"),
    ("tree", {"root": [{"name": "r"}]}, "root must be a node `{name, meta?, children?}`, got a list"),
    ("timeline", {"events": [{"t": "2024"}]}, "events[0].title is required"),
    ("timeline", {"events": [{"title": "x"}]}, "events[0].t is required"),
    ("gantt", {"tasks": [{"name": "a", "start": 1}]}, "tasks[0].end is required"),
    ("gantt", {"tasks": [{"name": "a", "start": 5, "end": 3}]}, "tasks[0].end (3) is before start (5)"),
    ("gantt", {"tasks": [{"name": "a", "start": None, "end": 3}]}, "tasks[0].start must be a number or a string"),
    (
        "chart_line",
        {"x": [1, 2, 3, 4], "series": [{"name": "a", "y": [1, 2, 3, 4]}, {"name": "b", "y": [1, 2, 3]}]},
        "series[1].y has 3 values but x has 4",
    ),
    ("chart_line", {"x": [1], "series": [{"name": "a", "y": ["1"]}]}, "series[0].y[0] must be a number, got a string"),
    ("chart_line", {"x": [1], "series": [{"y": [1]}]}, "series[0].name is required"),
    ("chart_line", {"x": [1], "series": [], "log_y": "yes"}, "log_y must be true or false"),
    ("chart_area", {"series": []}, "x is required"),
    ("chart_area", {"x": [True], "series": []}, "x[0] must be a number or a string, got a boolean"),
    ("chart_bar", {"x": ["a", "b"], "series": [{"name": "n", "y": [1]}]}, "series[0].y has 1 value but x has 2"),
    ("chart_bar", {"x": [], "series": "x"}, "series must be a list, got a string"),
    ("chart_scatter", {"series": [{"name": "s", "points": [{"x": 1}]}]}, "series[0].points[0].y is required"),
    ("chart_scatter", {"series": [{"name": "s", "points": [[1, 2]]}]}, "series[0].points[0] must be an object"),
    ("chart_pie", {"slices": [{"label": "a", "value": -1}]}, "slices[0].value must not be negative"),
    ("chart_pie", {"slices": [{"label": "a", "value": True}]}, "slices[0].value must be a number, got a boolean"),
    ("chart_pie", {"slices": [], "donut": "yes"}, "donut must be true or false"),
    ("chart_histogram", {"values": [1, "2"]}, "values[1] must be a number"),
    ("chart_histogram", {"values": [], "bins": 0}, "bins must be a positive whole number of bins or a list"),
    ("chart_histogram", {"values": [], "bins": [0, 2, 1]}, "bins must be bin edges in increasing order"),
    (
        "chart_boxplot",
        {"series": [{"name": "a", "values": [1, None]}]},
        "series[0].values[1] must be a number, got null",
    ),
    ("chart_heatmap", {"z": [[1, 2], [3]]}, "z[1] has 1 cell but z[0] has 2"),
    ("chart_heatmap", {"z": [[1, "a"]]}, "z[0][1] must be a number, got a string"),
    ("chart_heatmap", {"z": [1, 2]}, "z[0] must be a list, got a number"),
    ("chart_heatmap", {"z": [[1, 2]], "x_labels": ["a"]}, "x_labels has 1 label but the rows of z have 2 cells"),
    ("chart_heatmap", {"z": [[1], [2]], "y": ["a"]}, "y_labels has 1 label but z has 2 rows"),
    ("chart_candlestick", {"points": [{"t": 1, "open": 1, "high": 2, "low": 0}]}, "points[0].close is required"),
    (
        "chart_candlestick",
        {"points": [{"t": 1, "open": 1, "high": 0, "low": 2, "close": 1}]},
        "points[0].high (0) is below",
    ),
    ("chart_candlestick", {"points": [{"t": None, "open": 1, "high": 2, "low": 0, "close": 1}]}, "points[0].t must be"),
    ("chart_radar", {"axes": ["a", "b"], "series": [{"name": "s", "values": [1]}]}, "series[0].values has 1 value but"),
    ("chart_radar", {"series": []}, "axes is required"),
    (
        "chart_sankey",
        {"nodes": [{"id": "a"}], "links": [{"source": "a", "target": "z", "value": 1}]},
        'links[0].target "z" is not the id of any node',
    ),
    ("chart_sankey", {"nodes": [{"id": "a"}, {"id": "a"}], "links": []}, 'nodes[1].id "a" repeats nodes[0]'),
    ("chart_sankey", {"nodes": [{"id": "a"}], "links": [{"source": "a", "target": "a"}]}, "links[0].value is required"),
    ("chart_treemap", {"nodes": [{"id": "a", "parent": "zz", "value": 1}]}, 'nodes[0].parent "zz" is not the id'),
    ("chart_treemap", {"nodes": [{"id": "a", "value": "1"}]}, "nodes[0].value must be a number"),
    (
        "chart_treemap",
        {"nodes": [{"id": "a", "parent": "b", "value": 1}, {"id": "b", "parent": "a", "value": 1}]},
        "form a loop",
    ),
    ("chart_treemap", {"nodes": [{"id": "a", "parent": "a", "value": 1}]}, "form a loop"),
    ("chart_network", {"nodes": [{"id": 1}], "edges": [{"source": 1, "target": "1"}]}, 'edges[0].target "1" is not'),
    ("chart_network", {"nodes": [{"label": "x"}], "edges": []}, "nodes[0].id is required"),
    ("chart_network", {"nodes": [{"id": True}], "edges": []}, "nodes[0].id must be a string or an integer id"),
    ("map_points", {"points": [{"lat": "51", "lng": 0}]}, "points[0].lat must be a number"),
    ("map_points", {"points": [{"lat": 91, "lng": 0}]}, "points[0].lat must be between -90 and 90"),
    ("map_points", {"points": [{"lat": 0, "lon": 0}]}, "points[0].lng is required"),
    ("map_points", {"points": [], "default_center": [100, 0]}, "default_center[0] must be between -90 and 90"),
    ("map_heatmap", {"points": [{"lat": 0, "lng": 181}]}, "points[0].lng must be between -180 and 180"),
    ("map_heatmap", {"points": [{"lat": 0, "lng": 1, "weight": "hi"}]}, "points[0].weight must be a number"),
    ("map_route", {"points": "a->b"}, "points must be a list, got a string"),
    (
        "map_polygons",
        {"polygons": [{"coords": [[0, 0], [1, 1]]}]},
        "polygons[0].coords must have at least 3 points, got 2",
    ),
    (
        "map_polygons",
        {"polygons": [{"coords": [[0, 0], [1, 1], [2]]}]},
        "polygons[0].coords[2] must be a [lat, lng] pair",
    ),
    ("map_polygons", {"polygons": [{"vertices": []}]}, "polygons[0].coords is required"),
    ("map_choropleth", {"geojson": "x", "values": {}}, "geojson must be an object, got a string"),
    ("map_choropleth", {"geojson": {}, "values": {"GB": "high"}}, "values.GB must be a number, got a string"),
    ("map_choropleth", {"geojson": {}, "values": [1]}, "values must be an object of feature id → number"),
    ("image_grid", {"images": ["a.png"]}, "images[0] must be a data URL, an http(s) URL or an artefact reference"),
    ("image_grid", {"images": [{"label": "x"}]}, "(or an object with `value`, `url` or `data`)"),
    ("image_grid", {"images": [{"url": 5}]}, "images[0].url must be a data URL"),
    ("image_grid", [PNG], "must be an object with `images`, got a list"),
    ("image_compare", {"before": PNG}, "after is required"),
    ("image_compare", {"before": PNG, "after": {"artefact": "../b.png"}}, "after.artefact must stay inside"),
    ("file", {"filename": "a.txt", "data": "data:text/plain;base64,YQ=="}, "mime_type is required"),
    ("file", {"filename": "", "data": "YQ==", "mime_type": "text/plain"}, "filename must not be empty"),
    ("file", {"filename": "a", "data": "not base64!", "mime_type": "text/plain"}, "this string is not valid base64"),
    ("file", {"filename": "a", "data": 5, "mime_type": "text/plain"}, "data must be a data URL, base64 or an artefact"),
    ("file", {"filename": "a", "data": "YQ==", "mime_type": "plain"}, "mime_type must be a MIME type like `text/csv`"),
]

# Values of every JSON type at odd depths; no rule may raise on any of them, for any type.
GARBAGE: list[Any] = [
    None,
    1,
    -1.5,
    float("inf"),
    True,
    "x",
    "data:",
    [],
    {},
    [[None]],
    [{}],
    {"series": "x"},
    {"value": None},
    {"value": {"value": []}},
    {"value": [1], "format": {}, "precision": -1},
    {"x": "abc", "series": [None, {"y": "abc"}]},
    {"x": [1], "series": [{"name": "a", "y": {"a": 1}}]},
    {"rows": [[1]], "columns": [1, None, {"key": {}}]},
    {"rows": "x", "columns": "y"},
    {"pairs": [[{}, 1], None]},
    {"root": {"name": "a", "children": [None, {"children": {}}]}},
    {"nodes": [{"id": []}, None], "links": [{"source": {}, "target": []}], "edges": "x"},
    {"nodes": [{"id": "a", "parent": ["b"]}, {"id": {}, "parent": "a"}]},
    {"z": [1, [None, "a"], {}], "x": 5, "y_labels": {}},
    {"points": [{"lat": [], "lng": {}}, [0, 0], None]},
    {"polygons": [{"coords": [[None, None]] * 4}, {"coords": "x"}]},
    {"images": [{"url": None}, {"artefact": 5}, {"value": {"artefact": "/x"}}]},
    {"before": [], "after": {"data": {}}},
    {"data": {"artefact": 5}, "filename": None, "mime": 3},
    {"geojson": [], "values": {"a": None}},
    {"slices": [{"label": {}, "value": "1"}], "bins": {}, "values": [[]]},
    {"events": [[]], "tasks": [{"start": {}, "end": []}], "lines": [None]},
    {"axes": "abc", "series": [{"name": "s", "values": "abc"}]},
    {1: "non-string key", "artefact": None},
    object(),
    ("a", "tuple"),
]


def test_the_tables_cover_every_output_type() -> None:
    assert set(GOOD) == set(OUTPUT_TYPES)
    assert len(OUTPUT_TYPES) == 39
    assert {t for t, _, _ in BAD} == set(OUTPUT_TYPES)


@pytest.mark.parametrize("output_type", OUTPUT_TYPES)
def test_good_canonical_value_conforms(output_type: str) -> None:
    assert shape_problems(output_type, GOOD[output_type]) == []


@pytest.mark.parametrize(("output_type", "value", "expected"), BAD, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(BAD)])
def test_bad_value_reports_the_expected_problem(output_type: str, value: Any, expected: str) -> None:
    problems = shape_problems(output_type, value)
    assert problems, f"{output_type} accepted {value!r}"
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("output_type", OUTPUT_TYPES)
def test_null_is_allowed_only_for_progress(output_type: str) -> None:
    assert (shape_problems(output_type, None) == []) is (output_type == "progress")


@pytest.mark.parametrize("output_type", sorted(SCALAR_OUTPUT_TYPES))
def test_scalars_may_be_raw_or_wrapped_with_presentation_keys(output_type: str) -> None:
    raw = GOOD[output_type]
    wrapped = {"value": raw, "label": "L", "alt": "a", "poster": PNG, "unit": "u", "caption": "c"}
    assert shape_problems(output_type, raw) == []
    assert shape_problems(output_type, wrapped) == []
    assert normalise_output(output_type, raw) is raw
    assert normalise_output(output_type, wrapped) is wrapped


def test_scalar_presentation_keys_are_typed_only_for_their_own_type() -> None:
    assert shape_problems("number", {"value": 1, "format": "percent", "precision": 2}) == []
    # `format` is a number presentation field; on text it is just an extra key.
    assert shape_problems("text", {"value": "x", "format": "bold"}) == []


def test_progress_over_one_is_a_percent_and_stays() -> None:
    assert shape_problems("progress", 42) == []
    assert normalise_output("progress", 42) == 42
    assert shape_problems("progress", {"value": 100, "label": "done"}) == []


def test_latitude_zero_is_a_value() -> None:
    assert shape_problems("map_points", {"points": [{"lat": 0, "lng": 0}]}) == []
    assert shape_problems("map_polygons", {"polygons": [{"coords": [[0, 0], [0, 0.5], [0.5, 0]]}]}) == []


def test_extra_keys_inside_a_value_are_ignored() -> None:
    value = {"x": [1], "series": [{"name": "a", "y": [1], "colour": "red"}], "title": "t", "x_label": "x"}
    assert shape_problems("chart_line", value) == []
    assert shape_problems("map_points", {"points": [{"lat": 1, "lng": 2, "colour": "red", "size": 3}], "zoom": 4}) == []


def test_optional_keys_given_as_null_count_as_absent() -> None:
    assert shape_problems("table", {"columns": None, "rows": [], "downloadable": None}) == []
    assert shape_problems("diff", {"before": "", "after": "", "filename_before": None}) == []


# --- tolerated variants (§9) --------------------------------------------------------------------------------------

NORMALISED: list[tuple[str, Any, Any]] = [
    ("kv", {"a": 1, "b": [2]}, {"pairs": {"a": 1, "b": [2]}}),
    ("kv", {}, {"pairs": {}}),
    ("kv", [{"key": "a", "value": 1}, {"key": "b", "value": None}], {"pairs": {"a": 1, "b": None}}),
    ("kv", [["a", 1], ("b", 2), [3, "three"]], {"pairs": {"a": 1, "b": 2, "3": "three"}}),
    ("kv", [], {"pairs": {}}),
    ("kv", {"pairs": [["a", 1]], "caption": "c"}, {"pairs": {"a": 1}, "caption": "c"}),
    ("kv", {"pairs": {"a": 1}}, {"pairs": {"a": 1}}),
    (
        "file",
        {"filename": "a", "data": "YQ==", "mime": "text/plain"},
        {"filename": "a", "data": "YQ==", "mime_type": "text/plain"},
    ),
    (
        "file",
        {"filename": "a", "data": "YQ==", "content_type": "text/plain"},
        {"filename": "a", "data": "YQ==", "mime_type": "text/plain"},
    ),
    (
        "file",
        {"filename": "a", "data": "YQ==", "mime_type": "a/b", "mime": "c/d"},
        {"filename": "a", "data": "YQ==", "mime_type": "a/b", "mime": "c/d"},
    ),
    (
        "chart_heatmap",
        {"z": [[1, 2]], "x": ["a", "b"], "y": ["r"]},
        {"z": [[1, 2]], "x_labels": ["a", "b"], "y_labels": ["r"]},
    ),
    ("chart_heatmap", {"z": [[1]], "x": ["a"], "x_labels": ["b"]}, {"z": [[1]], "x": ["a"], "x_labels": ["b"]}),
    (
        "table",
        {"columns": [{"key": "a", "label": "A"}, "b"], "rows": [[1, 2], {"a": 3}]},
        {"columns": [{"key": "a", "label": "A"}, {"key": "b", "label": "b"}], "rows": [{"a": 1, "b": 2}, {"a": 3}]},
    ),
    ("table", [{"a": 1}, {"a": 2}], {"rows": [{"a": 1}, {"a": 2}]}),
    ("table", {"rows": [{"a": 1}]}, {"rows": [{"a": 1}]}),
    ("tree", {"name": "r", "children": [{"name": "c"}]}, {"root": {"name": "r", "children": [{"name": "c"}]}}),
    ("tree", {"root": {"name": "r"}}, {"root": {"name": "r"}}),
    ("chart_line", {"x": [1], "series": []}, {"x": [1], "series": []}),
]


@pytest.mark.parametrize(("output_type", "given", "canonical"), NORMALISED)
def test_tolerated_variant_normalises_and_conforms(output_type: str, given: Any, canonical: Any) -> None:
    before = copy.deepcopy(given)
    assert normalise_output(output_type, given) == canonical
    assert given == before, "normalise_output must not mutate its input"
    assert shape_problems(output_type, given) == [], "accepted as given"
    assert shape_problems(output_type, canonical) == [], "and in canonical form"
    assert normalise_output(output_type, canonical) == canonical, "normalising is idempotent"


def test_positional_rows_of_the_wrong_length_stay_lists_and_are_reported() -> None:
    value = {"columns": ["a", "b"], "rows": [[1, 2], [1, 2, 3]]}
    assert normalise_output("table", value)["rows"] == [{"a": 1, "b": 2}, [1, 2, 3]]
    assert shape_problems("table", value) == ["rows[1] has 3 cells but there are 2 columns"]


@pytest.mark.parametrize("output_type", OUTPUT_TYPES)
@pytest.mark.parametrize("value", GARBAGE, ids=range(len(GARBAGE)))
def test_nothing_raises_on_garbage(output_type: str, value: Any) -> None:
    problems = shape_problems(output_type, value)
    assert isinstance(problems, list) and all(isinstance(p, str) and p for p in problems)
    assert not any(p.startswith("could not be checked") for p in problems), problems
    normalise_output(output_type, value)
    list(iter_artefact_refs(output_type, value))
    presentation(ALL_TYPES.outputs[OUTPUT_TYPES.index(output_type)], value)
    unwrap_scalar(value)
    is_artefact_ref(value)


def test_unknown_output_type() -> None:
    assert shape_problems("foo", 1) == ["unknown output type `foo`"]
    assert normalise_output("foo", {"a": 1}) == {"a": 1}
    with pytest.raises(KeyError):
        placeholder("foo")


def test_problems_are_capped_with_a_count_of_the_rest() -> None:
    problems = shape_problems("table", {"rows": list(range(50))})
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[0] == "rows[0] must be an object keyed by column, got a number"
    assert problems[-1] == f"... and {50 - MAX_PROBLEMS} more"


def test_deep_and_cyclic_trees_are_guarded() -> None:
    node: dict[str, Any] = {"name": "leaf"}
    for _ in range(MAX_TREE_DEPTH + 10):
        node = {"name": "n", "children": [node]}
    assert any(f"deeper than {MAX_TREE_DEPTH} levels" in p for p in shape_problems("tree", {"root": node}))
    cyclic: dict[str, Any] = {"name": "loop", "children": []}
    cyclic["children"].append(cyclic)
    assert any("deeper than" in p for p in shape_problems("tree", {"root": cyclic}))


def test_problem_paths_quote_keys_that_are_not_identifiers() -> None:
    problems = shape_problems("map_choropleth", {"geojson": {}, "values": {"United Kingdom": "x"}})
    assert problems == ['values["United Kingdom"] must be a number, got a string']


# --- placeholders -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_type", OUTPUT_TYPES)
def test_placeholder_is_a_valid_value(output_type: str) -> None:
    assert shape_problems(output_type, placeholder(output_type)) == []


def test_placeholder_examples_and_fresh_copies() -> None:
    assert placeholder("text") == "" and placeholder("number") == 0 and placeholder("boolean") is False
    assert placeholder("progress") is None
    assert placeholder("chart_line") == {"x": [], "series": []}
    assert placeholder("log") == {"lines": []}
    assert placeholder("file") == {
        "filename": "empty.txt",
        "data": "data:text/plain;base64,",
        "mime_type": "text/plain",
    }
    first = placeholder("chart_bar")
    first["x"].append(1)
    assert placeholder("chart_bar") == {"x": [], "series": []}


def test_placeholder_media_decode_to_real_files() -> None:
    png = base64.b64decode(placeholder("image").split(",", 1)[1])
    wav = base64.b64decode(placeholder("audio").split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in png
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert placeholder("image") == PNG and placeholder("audio") == WAV


def test_table_placeholder_does_not_override_spec_columns() -> None:
    table = spec("table", columns=[{"key": "a", "label": "A"}])
    assert presentation(table, placeholder("table"))["columns"] == [{"key": "a", "label": "A"}]


# --- unwrap_scalar, artefact references --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x", ("x", {})),
        (3, (3, {})),
        (None, (None, {})),
        ({"value": 3, "precision": 2}, (3, {"precision": 2})),
        ({"value": None}, (None, {})),
        ({"artefact": "a.png"}, ({"artefact": "a.png"}, {})),
        ({"value": {"artefact": "a.png"}, "alt": "A"}, ({"artefact": "a.png"}, {"alt": "A"})),
    ],
)
def test_unwrap_scalar(value: Any, expected: Any) -> None:
    assert unwrap_scalar(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"artefact": "a.png"}, True),
        ({"artefact": "plots/2024/a.png", "mime_type": "image/png", "url": "/api/runs/r/artefacts/a.png"}, True),
        ({"artefact": "a..b.png"}, True),
        ({"artefact": "a.png", "mime_type": None}, True),
        ({"artefact": ""}, False),
        ({"artefact": "/abs/a.png"}, False),
        ({"artefact": "\\abs\\a.png"}, False),
        ({"artefact": "C:\\a.png"}, False),
        ({"artefact": "~/a.png"}, False),
        ({"artefact": "../a.png"}, False),
        ({"artefact": "a/../../b.png"}, False),
        ({"artefact": "a\\..\\b.png"}, False),
        ({"artefact": "a\x00.png"}, False),
        ({"artefact": 5}, False),
        ({"artefact": "a.png", "mime_type": 5}, False),
        ({"path": "a.png"}, False),
        ("a.png", False),
        (None, False),
    ],
)
def test_is_artefact_ref(value: Any, expected: bool) -> None:
    assert is_artefact_ref(value) is expected


def test_iter_artefact_refs_yields_the_dicts_in_place() -> None:
    ref = {"artefact": "a.png"}
    cases: list[tuple[str, Any, int]] = [
        ("image", {"artefact": "a.png"}, 1),
        ("video", {"value": {"artefact": "v.mp4"}, "poster": {"artefact": "p.png"}}, 2),
        ("audio", "https://x.test/a.mp3", 0),
        ("file", {"filename": "a", "data": {"artefact": "a.csv"}, "mime_type": "text/csv"}, 1),
        ("file", {"filename": "a", "data": "YQ==", "mime": "text/csv"}, 0),
        ("image_grid", {"images": [{"artefact": "1.png"}, {"value": {"artefact": "2.png"}}, {"url": ref}, PNG]}, 3),
        ("image_compare", {"before": {"artefact": "b.png"}, "after": {"data": {"artefact": "a.png"}}}, 2),
        ("image", {"artefact": "../escape.png"}, 0),
        ("image_grid", {"images": [{"artefact": "/abs.png"}]}, 0),
        ("table", {"rows": [{"a": {"artefact": "x.png"}}]}, 0),
    ]
    for output_type, value, count in cases:
        refs = list(iter_artefact_refs(output_type, value))
        assert len(refs) == count, (output_type, value)
        for found in refs:
            found["url"] = f"/api/runs/r/artefacts/{found['artefact']}"
        assert shape_problems(output_type, value) == [] or count == 0
    grid = {"images": [ref]}
    next(iter_artefact_refs("image_grid", grid))["url"] = "/u"
    assert grid["images"][0] == {"artefact": "a.png", "url": "/u"}


# --- presentation -------------------------------------------------------------------------------------------------


def test_presentation_spec_fields_drop_none() -> None:
    number = spec("number", format="percent", precision=1, unit="%")
    assert presentation(number, 0.5) == {"format": "percent", "precision": 1, "unit": "%"}
    assert presentation(spec("text"), "x") == {}
    assert presentation(spec("chart_line", x_label="t"), placeholder("chart_line")) == {
        "x_label": "t",
        "log_x": False,
        "log_y": False,
    }


def test_presentation_value_wins_over_spec() -> None:
    number = spec("number", format="percent", precision=1, caption="from spec")
    value = {"value": 0.5, "precision": 3, "caption": None, "alt": "half"}
    assert presentation(number, value) == {"format": "percent", "precision": 3, "caption": "from spec", "alt": "half"}
    boolean = spec("boolean", true_label="Yes", false_label="No")
    assert presentation(boolean, {"value": True, "true_label": "Oui"}) == {"true_label": "Oui", "false_label": "No"}
    code = spec("code", language="python")
    assert presentation(code, {"value": "x", "language": "sql"}) == {"language": "sql"}
    line = spec("chart_line", x_label="t", log_y=True)
    result = presentation(line, {"x": [], "series": [], "x_label": "time", "log_y": False, "title": "not presentation"})
    assert result == {"x_label": "time", "log_x": False, "log_y": False}
    points = spec("map_points", default_center=[51.5, 0], default_zoom=5)
    assert presentation(points, {"points": [], "default_zoom": 9}) == {"default_center": [51.5, 0], "default_zoom": 9}


def test_presentation_of_table_columns() -> None:
    table = spec("table", columns=[{"key": "a", "label": "A", "type": "number"}], downloadable=True)
    assert presentation(table, {"rows": []}) == {
        "columns": [{"key": "a", "label": "A", "type": "number"}],
        "downloadable": True,
    }
    # The value's columns win, read in canonical form.
    assert presentation(table, {"columns": ["b"], "rows": []})["columns"] == [{"key": "b", "label": "b"}]


def test_presentation_reads_value_only_fields_and_not_data_keys() -> None:
    assert presentation(spec("chart_bar"), {"x": [], "series": [], "y_label": "n"}) == {"y_label": "n"}
    # A plain kv object is data: its `caption` key is a pair, not a presentation field.
    assert presentation(spec("kv"), {"caption": "a pair"}) == {}
    assert presentation(spec("kv"), {"pairs": {}, "caption": "c"}) == {"caption": "c"}


# --- check_outputs ------------------------------------------------------------------------------------------------


def test_check_outputs_conforming_reply() -> None:
    m = manifest({"key": "dose", "type": "number", "label": "Dose"}, {"key": "notes", "type": "kv", "label": "N"})
    report = check_outputs(m, {"dose": 3, "notes": {"a": 1}, "run_id": "r1"})
    assert report == OutputsReport(missing=[], undeclared=[], problems={})
    assert report.ok


def test_check_outputs_missing_undeclared_and_problems() -> None:
    m = manifest(
        {"key": "dose", "type": "number", "label": "Dose"},
        {"key": "chart", "type": "chart_line", "label": "C"},
        {"key": "done", "type": "progress", "label": "P"},
    )
    report = check_outputs(m, {"dose": "3", "done": None, "extra": 1, "run_id": "r"})
    assert report.missing == ["chart"]
    assert report.undeclared == ["extra"]
    assert report.problems == {"dose": ["must be a number, got a string"]}
    assert not report.ok


def test_undeclared_keys_are_only_a_warning() -> None:
    m = manifest({"key": "t", "type": "text", "label": "T"})
    report = check_outputs(m, {"t": "x", "debug": {}})
    assert report.undeclared == ["debug"] and report.ok


@pytest.mark.parametrize("reply", [None, [], "ok", 1, [{"t": "x"}]])
def test_check_outputs_non_object_reply(reply: Any) -> None:
    report = check_outputs(manifest({"key": "t", "type": "text", "label": "T"}), reply)
    assert not report.ok and report.missing == [] and report.undeclared == []
    assert list(report.problems) == [""]
    assert report.problems[""][0].startswith("the reply must be a JSON object keyed by output key, got ")


def test_check_outputs_accepts_placeholders_for_every_type() -> None:
    report = check_outputs(ALL_TYPES, {t: placeholder(t) for t in OUTPUT_TYPES})
    assert report.ok, report
    report = check_outputs(ALL_TYPES, dict(GOOD))
    assert report.ok, report
