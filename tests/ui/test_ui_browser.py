"""The web UI in a real browser against real hosts: every page, every widget and output type, live runs."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.host.conftest import EXAMPLES, WAIT_SECONDS
from tests.ui.conftest import Page

pytestmark = pytest.mark.subprocess

#: The kitchen sink's one remote media URL (its video output); every other request stays on the host.
REMOTE_VIDEO = "https://interactive-examples.mdn.mozilla.net/"
CHART_TYPES = ("line", "area", "bar", "scatter", "pie", "histogram", "boxplot", "heatmap", "candlestick", "radar",
               "sankey", "treemap", "network")  # fmt: skip


def manifest(example: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / example / "tool.json").read_text()))


def out(key: str) -> str:
    return f'section.output[data-key="{key}"]'


def count(ui: Page, selector: str) -> int:
    return int(ui.page.locator(selector).count())


def wait_status(ui: Page, *statuses: str) -> None:
    wanted = ", ".join(f'.run-view[data-status="{s}"]' for s in statuses)
    ui.page.wait_for_selector(wanted)


def wait_validated(host: Any, path: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while host.client.get(path).json()["last_validation"] is None:
        assert time.monotonic() < deadline, f"{path} was never validated"
        time.sleep(0.05)


def test_tool_list_with_a_prefix_themes_and_a_narrow_window(hosts: Any, ui: Page) -> None:
    host = hosts([EXAMPLES / "kitchen-sink", EXAMPLES / "streaming-story"], "--prefix", "/px")
    for tool in ("kitchen-sink", "streaming-story"):  # the host validates each tool once it has started
        wait_validated(host, f"/px/api/tools/{tool}")
    shell = host.client.get("/px/")
    assert shell.status_code == 200 and "script-src 'self'" in shell.headers["content-security-policy"]
    assert host.client.get("/px/ui-static/vendor/echarts/echarts.min.js").status_code == 200

    page = ui.page
    page.goto(f"{host.url}/px/")
    page.wait_for_selector(".tool-card")
    assert count(ui, ".tool-card") == 2
    card = page.locator('.tool-card[data-tool="kitchen-sink"]')
    assert card.locator("h2").inner_text() == "Kitchen sink"
    assert "examples › reference" in card.inner_text()
    assert card.locator(".tag").all_inner_texts() == ["example", "reference", "all-types"]
    assert card.locator(".state[data-state]").count() == 1
    assert card.locator('[data-validation="pass"]').count() == 1
    ui.shot("tools")

    page.keyboard.press("/")
    page.keyboard.type("stream")
    page.wait_for_function("() => document.querySelectorAll('.tool-card').length === 1")
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")

    page.click("[data-action=theme]")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    ui.shot("tools-dark")
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    ui.shot("tools-narrow")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("[data-action=theme]")

    page.click('.tool-card[data-tool="streaming-story"] h2 a')
    page.wait_for_selector(".run-form")
    assert page.url == f"{host.url}/px/tools/streaming-story"
    assert ui.off_host(host.url) == []


def test_kitchen_sink_draws_every_input_and_output_type(hosts: Any, ui: Page) -> None:
    host = hosts([EXAMPLES / "kitchen-sink"])
    spec = manifest("kitchen-sink")
    page = ui.page
    page.goto(f"{host.url}/")  # one tool: the root is its page (what `pixie run` opens)
    page.wait_for_selector(".run-form")
    assert page.url.endswith("/tools/kitchen-sink")

    # A widget for each of the 28 input types (hidden has none), grouped, labelled, defaults filled in.
    for item in spec["inputs"]:
        fields = count(ui, f'.field[data-key="{item["key"]}"]')
        assert fields == (0 if item["type"] == "hidden" else 1), item["key"]
    assert page.locator("fieldset.group legend").all_text_contents() == ["About you", "Order", "When", "Files", "Style",
                                                                       "Places"]  # fmt: skip
    assert page.input_value('.field[data-key="name"] input') == "Pixie"
    assert page.locator('.field[data-key="items"] tbody tr').count() == 3
    page.wait_for_selector('.field[data-key="location"] .leaflet-container')
    assert page.is_visible('.field[data-key="notes"]')
    page.uncheck('.field[data-key="extras"] input')  # show_if: notes is shown only while extras is true
    assert page.is_hidden('.field[data-key="notes"]')
    page.check('.field[data-key="extras"] input')
    ui.shot("tool-form")

    # Client-side checks give the server's own 422 messages, before anything is sent.
    server = host.run("kitchen-sink", {"quantity": 99, "colour": "red"})
    assert server.status_code == 422
    messages = {e["loc"][2]: e["msg"] for e in server.json()["detail"]}
    page.fill('.field[data-key="quantity"] input', "99")
    page.fill('.field[data-key="colour"] input[type="text"]', "red")
    page.click("[data-action=run]")
    assert page.inner_text('.field[data-key="quantity"] .field-error') == messages["quantity"]
    assert page.inner_text('.field[data-key="colour"] .field-error') == messages["colour"]
    runs_before = len(host.client.get("/api/runs").json())
    page.fill('.field[data-key="quantity"] input', "3")
    page.fill('.field[data-key="colour"] input[type="text"]', "#3366cc")

    # A file chosen in the picker travels as a data URL with its name.
    picker = page.locator('.field[data-key="data_file"] input[type="file"]')
    picker.set_input_files(files=[{"name": "numbers.csv", "mimeType": "text/csv", "buffer": b"x,y\n1,2\n3,5\n"}])
    page.wait_for_selector('.field[data-key="data_file"] .file-name:text("numbers.csv")')

    page.keyboard.press("Control+Enter")  # from inside the form
    wait_status(ui, "ok")
    assert len(host.client.get("/api/runs").json()) == runs_before + 1
    run_id = page.url.split("run=")[1]
    assert host.record(run_id)["source"] == "ui"

    # Every output type is drawn.
    assert "Hello, Pixie!" in page.inner_text(out("text"))
    assert page.inner_text(f"{out('markdown')} .prose strong") == "kitchen sink"
    page.wait_for_selector(f"{out('latex')} .katex")
    page.wait_for_selector(f"{out('code')} code.hljs span")
    assert "may also arrive whole" in page.inner_text(f"{out('stream_text')} .out-stream")
    assert "36.75" in page.inner_text(f"{out('number')} .out-number")
    assert page.inner_text(f"{out('boolean')} .out-boolean.yes").endswith("Yes")
    assert page.get_attribute(f"{out('progress')} .progress", "aria-valuenow") == "100"
    page.wait_for_function(f"() => document.querySelector('{out('image')} img.out-image')?.naturalWidth > 0")
    assert page.get_attribute(f"{out('audio')} audio", "src").startswith("data:audio/wav")
    assert page.get_attribute(f"{out('video')} video", "poster").startswith("data:image/png")
    assert page.locator(f"{out('table')} tr[data-row]").count() == 3
    assert page.locator(f"{out('table')} [data-csv]").count() == 1
    assert page.locator(f"{out('kv')} dt").count() >= 25
    assert page.locator(f"{out('log')} li.log-line").count() >= 2
    page.wait_for_selector(f"{out('diff')} tr.diff-add")
    assert page.locator(f"{out('tree')} .tree-name").first.inner_text() == "inputs"
    assert page.locator(f"{out('timeline')} .timeline-item").count() == 4
    assert page.locator(f"{out('gantt')} .gantt-bar").count() == 3
    for kind in CHART_TYPES:
        page.wait_for_selector(f'{out("chart_" + kind)} .chart[data-drawn="true"] canvas')
    for kind in ("points", "route", "polygons", "choropleth"):
        page.wait_for_selector(f'{out("map_" + kind)} .map[data-drawn="true"] svg path.leaflet-interactive')
    page.wait_for_selector(f'{out("map_heatmap")} .map[data-drawn="true"] canvas.leaflet-heatmap-layer')
    assert page.locator(f"{out('image_grid')} img").count() == 4
    assert page.locator(f"{out('image_compare')} img").count() == 2
    assert page.get_attribute(f"{out('file')} a[data-download]", "download") == "order.csv"
    kv = page.inner_text(out("kv"))
    assert "numbers.csv (text/csv" in kv
    states = page.eval_on_selector_all("section.output", "els => els.map(e => e.dataset.state)")
    assert len(states) == len(spec["outputs"]) == 39 and set(states) == {"ready"}

    # Tables page, filter and download as CSV.
    page.fill(f'{out("table")} input[type="search"]', "jam")
    assert page.locator(f"{out('table')} tr[data-row]").count() == 1
    with page.expect_download() as download:
        page.click(f"{out('table')} [data-csv]")
    csv_path = Path(download.value.path())
    assert csv_path.read_text().splitlines()[:2] == ["Item,Qty,Price,Total", "Jam,1,3.25,3.25"]
    page.fill(f'{out("table")} input[type="search"]', "")

    # Log level filter.
    page.select_option(f"{out('log')} select", "warning")
    assert page.locator(f"{out('log')} li.log-line").count() == 0
    page.select_option(f"{out('log')} select", "all")

    ui.shot("tool-kitchen-sink")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: one column, nothing wider than the window
    page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    ui.shot("tool-kitchen-sink-narrow", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("[data-action=theme]")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    page.wait_for_selector(f'{out("chart_line")} .chart[data-drawn="true"] canvas')
    ui.shot("tool-kitchen-sink-dark")
    assert ui.off_host(host.url) == [u for u in ui.off_host(host.url) if u.startswith(REMOTE_VIDEO)]


def test_streaming_run_updates_live(hosts: Any, ui: Page) -> None:
    host = hosts([EXAMPLES / "streaming-story"])
    page = ui.page
    page.goto(f"{host.url}/tools/streaming-story")
    page.wait_for_selector(".run-form")
    page.fill('.field[data-key="sentences"] input', "6")
    page.fill('.field[data-key="delay"] input', "0.6")
    page.click("[data-action=run]")

    # While the run is still going: text has arrived and grows, the chart has some points, progress is partial.
    page.wait_for_function(
        """() => document.querySelector('.run-view').dataset.status === 'running'
             && document.querySelector('section[data-key="story"]').dataset.state === 'streaming'
             && document.querySelector('section[data-key="story"] .out-stream').textContent.length > 0"""
    )
    first = page.inner_text('section[data-key="story"] .out-stream')
    live = page.wait_for_function(
        """(first) => {
            const el = document.querySelector('section[data-key="words"] .chart');
            const chart = window.echarts && el ? window.echarts.getInstanceByDom(el) : null;
            const text = document.querySelector('section[data-key="story"] .out-stream').textContent;
            const option = chart ? chart.getOption() : null;
            const points = option && option.series && option.series[0] ? option.series[0].data.length : 0;
            const bar = document.querySelector('.run-view > .progress-wrap .progress');
            const progress = Number(bar.getAttribute('aria-valuenow') || 0);
            const running = document.querySelector('.run-view').dataset.status === 'running';
            return running && text.length > first.length && points >= 1 && points < 6 && progress > 0
                && {points, progress, elapsed: document.querySelector('.run-status .elapsed').textContent};
        }""",
        arg=first,
    ).json_value()
    assert 0 < live["progress"] < 100
    assert re.fullmatch(r"\d+(\.\d)? (ms|s)", live["elapsed"])
    ui.shot("tool-streaming-live")

    wait_status(ui, "ok")
    story = page.inner_text('section[data-key="story"] .out-stream')
    assert story.startswith("Once upon a time") and story.count(".") == 6
    final_points = page.evaluate(
        """() => echarts.getInstanceByDom(document.querySelector('section[data-key="words"] .chart'))
                   .getOption().series[0].data.length"""
    )
    assert final_points == 6
    ui.shot("tool-streaming-done")


def test_queue_place_and_cancel_stop_runs(hosts: Any, ui: Page, tmp_path: Path) -> None:
    folder = tmp_path / "slow-cancellable"
    shutil.copytree(EXAMPLES / "slow-cancellable", folder, ignore=shutil.ignore_patterns("__pycache__"))
    data = json.loads((folder / "tool.json").read_text())
    (folder / "tool.json").write_text(json.dumps({**data, "concurrent": False}))  # one run at a time: a queue
    host = hosts([folder])
    first = host.start_run("slow-cancellable", {"seconds": 60})
    host.wait_status(first, "running")

    page = ui.page
    page.goto(f"{host.url}/tools/slow-cancellable")
    page.wait_for_selector(".run-form")
    page.click("[data-action=run]")
    page.wait_for_selector('.run-status .queue-note:text("Place in queue: 1")')
    wait_status(ui, "queued")
    ui.shot("tool-queued")
    page.click("[data-action=cancel]")
    wait_status(ui, "cancelled")
    queued = page.url.split("run=")[1]
    assert host.record(queued)["status"] == "cancelled"

    # Cancel from the run page of a run started elsewhere: it really stops.
    page.goto(f"{host.url}/runs/{first}")
    wait_status(ui, "running")
    page.wait_for_selector(".run-status .elapsed:text-matches('\\\\d')")
    ui.shot("run-running")
    page.click("[data-action=cancel]")
    wait_status(ui, "cancelled")
    record = host.wait_status(first, "cancelled")
    assert record["duration_ms"] < 30_000
    assert page.locator(".run-error.soft").count() == 1
    ui.shot("run-cancelled")


def test_errors_show_the_detail_and_stderr_and_artefacts_load(hosts: Any, ui: Page) -> None:
    host = hosts([EXAMPLES / "artefact-writer"])
    page = ui.page
    page.goto(f"{host.url}/tools/artefact-writer")
    page.wait_for_selector(".run-form")

    page.check('.field[data-key="crash"] input')
    page.click("[data-action=run]")
    wait_status(ui, "error")
    panel = page.locator('.run-error[data-code="handler_error"]')
    assert "RuntimeError: boom" in panel.inner_text()
    assert page.is_hidden(".stderr pre")
    page.click(".stderr summary")
    assert "Traceback" in page.inner_text(".stderr pre")
    assert page.locator('section.output[data-state="none"]').count() == 3
    ui.shot("tool-error-stderr")

    page.uncheck('.field[data-key="crash"] input')
    page.fill('.field[data-key="rows"] input', "0")
    page.click("[data-action=run]")
    page.wait_for_selector('.run-error[data-code="bad_rows"]')
    assert "rows must be at least 1" in page.inner_text(".run-error")
    assert page.locator(".run-error .stderr").count() == 0  # a ToolError is the tool speaking: no stderr

    page.fill('.field[data-key="rows"] input', "90")
    page.click("[data-action=run]")
    wait_status(ui, "ok")
    run_id = page.url.split("run=")[1]
    image = f'section[data-key="chart"] img[src="/api/runs/{run_id}/artefacts/charts/sin-cos.png"]'
    page.wait_for_function(
        f"() => document.querySelector('{image}') && document.querySelector('{image}').naturalWidth > 0"
    )
    link = page.get_attribute('section[data-key="table_file"] a[data-download]', "href")
    assert link == f"/api/runs/{run_id}/artefacts/table.csv"
    assert host.client.get(link).text.startswith("n,degrees,sin,cos")
    ui.shot("tool-artefacts")


def test_history_filters_stars_reruns_and_opens_runs(hosts: Any, ui: Page) -> None:
    host = hosts([EXAMPLES / "compound-interest", EXAMPLES / "artefact-writer"])
    ok = host.run("compound-interest", {"years": 5}).json()["run_id"]
    failed = host.run("artefact-writer", {"crash": True}).json()["run_id"]
    host.run("artefact-writer", {"rows": 3})
    page = ui.page
    page.goto(f"{host.url}/runs")
    page.wait_for_selector("tr[data-run]")
    assert count(ui, "tr[data-run]") == 3
    ui.shot("history")

    page.select_option('select[aria-label="Status"]', "error")
    page.wait_for_function("() => document.querySelectorAll('tr[data-run]').length === 1")
    assert page.get_attribute("tr[data-run]", "data-run") == failed
    assert "status=error" in page.url
    page.select_option('select[aria-label="Status"]', "")
    page.select_option('select[aria-label="Tool"]', "compound-interest")
    page.wait_for_function("() => document.querySelectorAll('tr[data-run]').length === 1")
    page.click(f'tr[data-run="{ok}"] [data-action=star]')
    page.wait_for_selector(f'tr[data-run="{ok}"] [data-action=star][aria-pressed="true"]')
    assert host.record(ok)["starred"] is True
    page.select_option('select[aria-label="Tool"]', "")
    page.check("text=Starred only")
    page.wait_for_function("() => document.querySelectorAll('tr[data-run]').length === 1")
    ui.shot("history-starred")

    # Open a past run: its inputs and outputs, drawn.
    page.click(f'tr[data-run="{ok}"] [data-action=open]')
    page.wait_for_selector('.run-view[data-status="ok"]')
    assert page.url.endswith(f"/runs/{ok}")
    page.wait_for_selector('section[data-key="growth_chart"] .chart[data-drawn="true"] canvas')
    assert page.locator('section[data-key="yearly_breakdown"] tr[data-row]').count() == 6
    assert "5" in page.inner_text(".pane-form .kv")
    ui.shot("run-page")

    # Re-run with the same inputs: a new run, opened when it starts.
    page.click("[data-action=rerun]")
    page.wait_for_function(f"() => location.pathname.startsWith('/runs/') && !location.pathname.endsWith('{ok}')")
    wait_status(ui, "ok")
    rerun = page.url.rsplit("/", 1)[1]
    assert host.record(rerun)["inputs"] == {"years": 5}
    assert host.record(rerun)["source"] == "ui"

    # Edit: the tool page with the form holding that run's inputs.
    page.goto(f"{host.url}/tools/compound-interest?from={ok}")
    page.wait_for_function("() => document.querySelector('.field[data-key=\"years\"] input')?.value === '5'")


def layout_copy(parent: Path, tool_id: str, layout: str) -> Path:
    folder = parent / tool_id
    shutil.copytree(EXAMPLES / "compound-interest", folder, ignore=shutil.ignore_patterns("__pycache__"))
    data = json.loads((folder / "tool.json").read_text())
    (folder / "tool.json").write_text(json.dumps({**data, "id": tool_id, "layout": layout}))
    return folder


def test_chat_and_split_layouts(hosts: Any, ui: Page, tmp_path: Path) -> None:
    host = hosts([layout_copy(tmp_path, "ci-chat", "chat"), layout_copy(tmp_path, "ci-split", "split")])
    page = ui.page
    page.goto(f"{host.url}/tools/ci-chat")
    page.wait_for_selector('[data-layout="chat"] .run-form')
    for years in ("3", "7"):
        page.fill('.field[data-key="years"] input', years)
        page.click("[data-action=run]")
        page.wait_for_function(
            "(n) => document.querySelectorAll('.chat-turn .run-view[data-status=\"ok\"]').length === n",
            arg=int(years == "7") + 1,
        )
    turns = page.locator(".chat-turn")
    assert turns.count() == 2
    assert "Years" in turns.nth(1).locator(".bubble-user").inner_text()
    assert turns.nth(1).locator('section[data-key="yearly_breakdown"] tr[data-row]').count() == 8
    ui.shot("tool-chat")

    page.goto(f"{host.url}/tools/ci-split")
    page.wait_for_selector('[data-layout="split"] .run-form')
    divider = page.locator('[role="separator"]')
    divider.focus()
    page.keyboard.press("ArrowRight")
    assert divider.get_attribute("aria-valuenow") == "55"
    page.click("[data-action=run]")
    wait_status(ui, "ok")
    page.wait_for_selector('section[data-key="growth_chart"] .chart[data-drawn="true"] canvas')
    ui.shot("tool-split")
