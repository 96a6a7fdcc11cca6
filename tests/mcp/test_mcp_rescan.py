"""The rescans behind tool-list changes (``pixie_host.reload``), one scan at a time on a host that runs nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixie_host.host import Host, HostSettings
from pixie_host.reload import CatalogChange, Reloader
from tests.host.conftest import make_probe

pytestmark = pytest.mark.anyio


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, Host]]:
    tools = tmp_path / "tools"
    tools.mkdir()
    make_probe(tools, "probe")
    host = Host(HostSettings(paths=[tools], data_dir=tmp_path / "data"))
    try:
        yield tools, host
    finally:
        host.store.close()


def _edit(folder: Path, **fields: object) -> None:
    manifest = json.loads((folder / "tool.json").read_text())
    manifest.update(fields)
    (folder / "tool.json").write_text(json.dumps(manifest, indent=1))  # another size: a new stamp whatever the clock


async def test_each_scan_applies_what_changed_on_disk(served: tuple[Path, Host]) -> None:
    tools, host = served
    reloader = Reloader(host)
    heard: list[CatalogChange] = []

    async def listen(change: CatalogChange) -> None:
        heard.append(change)

    reloader.subscribe(listen)
    assert not await reloader.scan()  # what the host loaded is the baseline

    _edit(tools / "probe", name="Probe, renamed")
    assert await reloader.scan() == CatalogChange(reloaded=("probe",))
    entry = host.catalog.get("probe")
    assert entry is not None and entry.manifest is not None and entry.manifest.name == "Probe, renamed"
    slot = host.supervisor.slot("probe")
    assert slot is not None and slot.entry is entry  # the process side follows the catalog

    _edit(tools / "probe", id="sonde")  # a new id: one tool goes, another comes
    assert await reloader.scan() == CatalogChange(added=("sonde",), removed=("probe",))
    assert host.catalog.ids == ["sonde"] and host.supervisor.slot("probe") is None

    make_probe(tools, "sonde")  # a second folder claiming a taken id is refused, and said why
    assert not await reloader.scan()
    assert any("already used" in problem for problem in host.catalog.problems)

    (tools / "probe" / "tool.json").unlink()  # the first folder goes: the refused one gets the id
    assert await reloader.scan() == CatalogChange(added=("sonde",), removed=("sonde",))
    entry = host.catalog.get("sonde")
    assert entry is not None and entry.folder == (tools / "sonde").resolve()
    assert heard == [
        CatalogChange(reloaded=("probe",)),
        CatalogChange(added=("sonde",), removed=("probe",)),
        CatalogChange(added=("sonde",), removed=("sonde",)),
    ]
