"""The scaffold tests' fixtures: the host tests' ``hosts``, and a cookiecutter that keeps out of the home folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.host.conftest import hosts

__all__ = ["cookiecutter_config", "hosts", "isolated_cookiecutter"]


def cookiecutter_config(folder: Path) -> Path:
    """A cookiecutter config file that puts its replay and clone folders under ``folder`` (not in ``~``)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "cookiecutter.yaml"
    config.write_text(f"cookiecutters_dir: {folder / 'clones'}\nreplay_dir: {folder / 'replay'}\n")
    return config


@pytest.fixture(autouse=True)
def isolated_cookiecutter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``COOKIECUTTER_CONFIG`` for ``pixie new`` and any cookiecutter call made without ``config_file``."""
    config = cookiecutter_config(tmp_path / "cookiecutter-home")
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(config))
    return config
