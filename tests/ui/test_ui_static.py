"""The UI package without a browser: the vendored files match vendor.json, the shell is safe, the pages mount."""

from __future__ import annotations

import json
import re

from fastapi import FastAPI

import pixie_host.ui as ui
from pixie_host.ui.vendor import MANIFEST, VENDOR_DIR

#: A vendored library folder may hold only what vendor.json lists, its VERSION stamp and nothing else.
STAMP = "VERSION"


def test_every_vendored_library_is_pinned_and_present() -> None:
    libraries = json.loads(MANIFEST.read_text())["libraries"]
    assert {lib["dir"] for lib in libraries} == {p.name for p in VENDOR_DIR.iterdir() if p.is_dir()}
    for lib in libraries:
        assert re.fullmatch(r"\d+\.\d+\.\d+", lib["version"]), lib
        folder = VENDOR_DIR / lib["dir"]
        assert (folder / STAMP).read_text().strip() == f"{lib['package']}@{lib['version']}"
        for pattern, target in lib["files"].items():
            if target.endswith("/"):
                assert any((folder / target).iterdir()), pattern
            else:
                assert (folder / target).is_file(), (lib["package"], target)


def test_the_page_loads_nothing_from_outside_the_host() -> None:
    sources = [*(VENDOR_DIR.parent / "js").glob("*.js"), VENDOR_DIR.parent / "app.css"]
    for path in sources:
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", path.read_text()), path.name
    assert "http" not in ui.page_html("").replace("http-equiv", "")


def test_the_shell_escapes_the_prefix_and_every_page_is_mounted() -> None:
    assert '<meta name="pixie-prefix" content="/a&quot;b">' in ui.page_html('/a"b')
    app = FastAPI()

    class Settings:
        clean_prefix = "/px"

    class FakeHost:
        settings = Settings()

    ui.mount(app, FakeHost())  # type: ignore[arg-type]
    paths = {getattr(route, "path", None) for route in app.routes}
    assert {
        "/px",
        "/px/",
        "/px/tools",
        "/px/tools/{tool_id}",
        "/px/runs",
        "/px/runs/{run_id}",
        "/px/ui-static",
    } <= paths
