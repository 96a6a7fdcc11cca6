"""The web UI's end-to-end tests: real hosts (``tests.host.conftest``) driven by Debian's headless Chromium.

Playwright's Python package drives ``/usr/bin/chromium`` (never Playwright's own browser download).
Each test gets a fresh browser context; uncaught page errors fail the test, and a screenshot of
each page is written under ``test-artifacts/ui/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.host.conftest import ROOT, hosts  # noqa: F401

#: Debian's Chromium; CI installs it. Without it the UI tests are skipped, saying why.
CHROMIUM = Path(os.environ.get("PIXIE_UI_CHROMIUM", "/usr/bin/chromium"))
#: Without the networking flags Chromium stalls on a closed network (component updates, sync...).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Where the screenshots go (one per page and state), kept as test artefacts.
ARTIFACTS = ROOT / "test-artifacts" / "ui"
#: Bound on any one DOM condition; generous, the tests wait on conditions, never on time.
UI_WAIT_MS = 30_000
#: A desktop window; the narrow-window checks set their own size.
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"the web UI tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


class Page:
    """A page in a fresh context, with what went wrong in it (uncaught errors, requests off the host)."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.page = context.new_page()
        self.page.set_default_timeout(UI_WAIT_MS)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("request", lambda request: self.requests.append(request.url))

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def off_host(self, base: str) -> list[str]:
        """Requests that went anywhere but the host (a vendored-only page makes none of its own)."""
        return [u for u in self.requests if not u.startswith((base, "data:", "blob:"))]


@pytest.fixture
def ui(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light", accept_downloads=True)
    page = Page(context)
    try:
        yield page
    finally:
        context.close()
    assert not page.errors, f"uncaught errors in the page: {page.errors}"
