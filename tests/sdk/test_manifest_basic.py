from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixie_sdk import ManifestError, load_manifest


def _write(tmp_path: Path, data: object) -> Path:
    (tmp_path / "tool.json").write_text(json.dumps(data))
    return tmp_path


def test_minimal_manifest_loads_with_contract_defaults(tmp_path: Path) -> None:
    m = load_manifest(_write(tmp_path, {"id": "x", "name": "X", "inputs": [], "outputs": [
        {"key": "o", "type": "text", "label": "O"}]}))  # fmt: skip
    assert (m.warm_keep_seconds, m.max_memory_mb, m.max_runtime_seconds, m.retain_runs) == (300, 512, 60, 100)
    assert m.entrypoint == "main.py" and m.concurrent is True and m.layout == "form"


def test_unknown_input_type_names_the_input_and_lists_types(tmp_path: Path) -> None:
    bad = {"id": "x", "name": "X", "inputs": [{"key": "rate", "type": "numbr", "label": "R"}],
           "outputs": [{"key": "o", "type": "text", "label": "O"}]}  # fmt: skip
    with pytest.raises(ManifestError) as info:
        load_manifest(_write(tmp_path, bad))
    text = str(info.value)
    assert "tool.json" in text and "input `rate`" in text and "unknown type `numbr`" in text
    assert "number" in text and "union" not in text.lower()
