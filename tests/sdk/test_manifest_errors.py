"""Every broken tool.json in tests/fixtures/manifests/bad gives its expected plain-words message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pixie_sdk import ManifestError, load_manifest

BAD = Path(__file__).resolve().parent.parent / "fixtures" / "manifests" / "bad"
CASES = sorted(p.stem for p in BAD.glob("*.json"))


def test_the_bad_folder_has_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_broken_manifest_gives_expected_message(case: str, tmp_path: Path) -> None:
    folder = tmp_path / "bad-tool"
    folder.mkdir()
    shutil.copy(BAD / f"{case}.json", folder / "tool.json")
    with pytest.raises(ManifestError) as info:
        load_manifest(folder)
    message = str(info.value)
    assert str(folder / "tool.json") in message, "the message names the file"
    for expected in (BAD / f"{case}.expected").read_text().splitlines():
        assert expected in message, f"{expected!r} not in:\n{message}"
    # pydantic's machinery never leaks into the words a tool author reads
    for jargon in ("union_tag", "tagged-union", "function-after", "inputs.0", "model_type", "For further information"):
        assert jargon not in message
