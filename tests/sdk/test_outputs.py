"""The output helpers build values that pass the shape rules of their type."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from pixie_sdk import RunContext, outputs
from pixie_sdk.files import parse_data_url
from pixie_sdk.manifest import parse_manifest
from pixie_sdk.shapes import shape_problems

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


class FakeFrame:
    """What pandas' DataFrame offers the helper: ``columns`` and ``to_dict("records")``."""

    columns = ["city", "people"]

    def to_dict(self, orient: str) -> list[dict[str, Any]]:
        assert orient == "records"
        return [{"city": "Leeds", "people": 812000}, {"city": "York", "people": 202800}]


def ctx(tmp_path: Path) -> RunContext:
    manifest = parse_manifest({"id": "t", "name": "T", "inputs": [], "outputs": [{"key": "o", "type": "file",
                                                                                  "label": "O"}]})  # fmt: skip
    return RunContext(run_id="r1", manifest=manifest, artefacts_dir=str(tmp_path / "art"), publish=lambda k, v: None)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("table", outputs.table([{"a": 1, "b": "x"}])),
        ("table", outputs.table([{"a": 1}], columns=["a"])),
        ("table", outputs.table(FakeFrame(), infer_columns=True)),
        ("chart_line", outputs.chart_line([1, 2, 3], {"up": [1, 2, 3], "down": [3, 2, 1]})),
        ("chart_area", outputs.chart_line([1, 2], [("a", [1, 2])])),
        ("chart_bar", outputs.chart_bar(["a", "b"], {"n": [1, 2]})),
        ("chart_scatter", outputs.chart_scatter({"pts": [(1, 2), (3, 4)]})),
        ("chart_pie", outputs.chart_pie({"a": 1, "b": 2}, donut=True)),
        ("kv", outputs.kv({"rate": 0.05})),
        ("markdown", outputs.markdown("# hi")),
        ("number", outputs.number(0.05, format="percent", precision=1)),
        ("number", outputs.number(3)),
        ("log", outputs.log(["start", ("warn", "careful"), {"level": "error", "message": "bad"}])),
        ("image", outputs.image(PNG)),
        ("image", outputs.image(PNG, alt="a dot")),
        ("audio", outputs.audio(b"RIFF\x00\x00\x00\x00WAVEfmt ", mime_type="audio/wav")),
        ("file", outputs.file("a,b\n1,2\n", "data.csv")),
    ],
)
def test_helper_values_conform(kind: str, value: Any) -> None:
    assert shape_problems(kind, value) == []
    json.dumps(value)


def test_table_from_a_frame_keeps_its_column_order() -> None:
    value = outputs.table(FakeFrame(), infer_columns=True)
    assert [c["key"] for c in value["columns"]] == ["city", "people"]
    assert value["columns"][1]["type"] == "number"


def test_table_leaves_declared_columns_alone_by_default() -> None:
    assert "columns" not in outputs.table([{"a": 1}])


def test_image_from_a_path_is_a_data_url(tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    parsed = parse_data_url(outputs.image(path))
    assert parsed is not None and parsed[0] == "image/png" and parsed[1] == PNG


def test_large_media_becomes_an_artefact_when_a_context_is_given(tmp_path: Path) -> None:
    big = PNG + b"\x00" * (outputs.INLINE_MEDIA_MAX_BYTES + 1)
    value = outputs.image(big, ctx=ctx(tmp_path), mime_type="image/png")
    assert value == {"artefact": "output.png", "mime_type": "image/png"}
    assert (tmp_path / "art" / "output.png").stat().st_size == len(big)
    assert shape_problems("image", value) == []


def test_file_helper_names_its_mime_type() -> None:
    value = outputs.file("a,b\n", "data.csv")
    assert value["mime_type"] == "text/csv" and value["filename"] == "data.csv"


def test_artefact_names_cannot_escape(tmp_path: Path) -> None:
    c = ctx(tmp_path)
    for bad in ("../x", "/etc/passwd", ""):
        with pytest.raises(ValueError, match="relative path"):
            c.artefact(bad, b"x")
    c.artefact("sub/dir/x.txt", "hi")
    assert oct((tmp_path / "art" / "sub").stat().st_mode & 0o777) == "0o700"
