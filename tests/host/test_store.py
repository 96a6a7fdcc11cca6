"""The run history store against real SQLite files."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest

from pixie_host.store import (
    SCHEMA_VERSION,
    SPILL_BYTES,
    TERMINAL_STATUSES,
    RunError,
    RunRecord,
    RunStore,
    database_path,
    default_data_dir,
)

ROOT = Path(__file__).resolve().parents[2]
#: A child that only imports the store and writes one row is done well within this.
CHILD_TIMEOUT_SECONDS = 60


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "nested" / "runs.sqlite3"


@pytest.fixture
def store(db: Path) -> Iterator[RunStore]:
    s = RunStore(db)
    try:
        yield s
    finally:
        s.close()


def _raw(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _run(tool: str = "echo", **fields: object) -> RunRecord:
    return RunRecord.model_validate({"tool_id": tool, **fields})


def test_creates_parent_dirs_and_schema(store: RunStore, db: Path) -> None:
    assert db.is_file()
    tables = {row[0] for row in _raw(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "validations"} <= tables
    assert _raw(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_insert_get_roundtrip_with_json_columns(store: RunStore, tmp_path: Path) -> None:
    record = _run(
        status="error",
        source="ui",
        inputs={"text": "hé", "n": [1, 2, {"deep": True}]},
        outputs={"result": "ok", "scores": [0.5, 1.5]},
        error={"code": "bad_input", "detail": [{"loc": ["text"], "msg": "too long"}], "status_code": 422},
        stderr_tail="Traceback...\n",
        events=[{"event": "progress", "data": {"p": 0.5}}, {"event": "result", "data": {}}],
        meta={"export": {"path": "x.zip"}},
        queued_at=100.0,
        started_at=100.5,
        ready_at=100.7,
        finished_at=101.0,
        duration_ms=500.0,
        artefacts_dir=str(tmp_path / "art"),
    )
    store.insert(record)
    got = store.get(record.id)
    assert got == record
    assert isinstance(got.error, RunError)
    assert store.get("no-such-run") is None

    public = got.public()
    assert "artefacts_dir" not in public
    assert public["error"] == {
        "code": "bad_input",
        "detail": [{"loc": ["text"], "msg": "too long"}],
        "status_code": 422,
    }
    json.dumps(public, allow_nan=False)


def test_defaults(store: RunStore) -> None:
    record = RunRecord(tool_id="echo")
    store.insert(record)
    got = store.get(record.id)
    assert got is not None
    assert got.status == "queued" and got.source == "api" and got.inputs == {} and got.starred is False
    assert got.outputs is None and got.error is None and got.events is None and got.meta is None


def test_update(store: RunStore) -> None:
    record = _run(status="running")
    store.insert(record)
    store.update(
        record.id,
        status="error",
        outputs={"partial": [1, 2]},
        error={"code": "boom", "detail": "it broke"},
        finished_at=5.0,
        duration_ms=12.5,
        meta={"k": 1},
    )
    got = store.get(record.id)
    assert got is not None
    assert got.status == "error"
    assert got.outputs == {"partial": [1, 2]}
    assert got.error == RunError(code="boom", detail="it broke", status_code=None)
    assert (got.finished_at, got.duration_ms, got.meta) == (5.0, 12.5, {"k": 1})

    store.update(record.id, error=None, outputs=None)
    got = store.get(record.id)
    assert got is not None and got.error is None and got.outputs is None

    store.update(record.id)  # nothing to set is fine
    store.update("no-such-run", status="ok")  # a missing run is left alone
    with pytest.raises(TypeError, match="id"):
        store.update(record.id, id="other")
    with pytest.raises(TypeError, match="colour"):
        store.update(record.id, colour="red")
    with pytest.raises(pydantic.ValidationError):
        store.update(record.id, status="exploded")
    with pytest.raises(pydantic.ValidationError):
        store.update(record.id, finished_at=math.nan)


def test_list_runs_filters_order_limit(store: RunStore) -> None:
    rows = [
        _run("a", status="ok", queued_at=1.0),
        _run("b", status="error", queued_at=2.0),
        _run("a", status="running", queued_at=3.0),
        _run("a", status="ok", queued_at=4.0, starred=True),
        _run("b", status="ok", queued_at=5.0),
    ]
    for row in rows:
        store.insert(row)

    def ids(runs: list[RunRecord]) -> list[str]:
        return [r.id for r in runs]

    assert ids(store.list_runs()) == [r.id for r in reversed(rows)]
    assert ids(store.list_runs(tool="a")) == [rows[3].id, rows[2].id, rows[0].id]
    assert ids(store.list_runs(status="ok")) == [rows[4].id, rows[3].id, rows[0].id]
    assert ids(store.list_runs(starred=True)) == [rows[3].id]
    assert len(store.list_runs(starred=False)) == 4
    assert ids(store.list_runs(limit=2)) == [rows[4].id, rows[3].id]
    assert ids(store.list_runs(before=4.0)) == [rows[2].id, rows[1].id, rows[0].id]
    assert ids(store.list_runs(tool="a", status="ok", starred=False)) == [rows[0].id]
    assert store.list_runs(tool="nope") == []
    with pytest.raises(ValueError, match="limit"):
        store.list_runs(limit=0)


def test_list_runs_same_timestamp_newest_insert_first(store: RunStore) -> None:
    first, second = _run(queued_at=7.0), _run(queued_at=7.0)
    store.insert(first)
    store.insert(second)
    assert [r.id for r in store.list_runs()] == [second.id, first.id]


def test_star(store: RunStore) -> None:
    record = _run(status="ok")
    store.insert(record)
    assert store.star(record.id, True) is True
    assert store.get(record.id).starred is True  # type: ignore[union-attr]
    assert store.star(record.id, False) is True
    assert store.get(record.id).starred is False  # type: ignore[union-attr]
    assert store.star("no-such-run", True) is False


@pytest.mark.parametrize("close_first", [True, False], ids=["closed", "left-open"])
def test_mark_interrupted_after_restart(db: Path, close_first: bool) -> None:
    first = RunStore(db)
    running, queued, done = _run(status="running"), _run(status="queued"), _run(status="ok", finished_at=9.0)
    for row in (running, queued, done):
        first.insert(row)
    if close_first:
        first.close()
    try:
        with RunStore(db) as second:
            assert second.mark_interrupted() == 2
            for row in (running, queued):
                got = second.get(row.id)
                assert got is not None
                assert got.status == "interrupted"
                assert got.finished_at is not None and got.finished_at > 0
                assert got.error == RunError(
                    code="interrupted", detail="the host stopped before this run finished", status_code=None
                )
            assert second.get(done.id) == done
            assert second.mark_interrupted() == 0
    finally:
        first.close()


def test_mark_interrupted_after_real_crash(db: Path) -> None:
    # The child writes a running row and dies without closing anything, as a killed host would.
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from pixie_host.store import RunRecord, RunStore
        store = RunStore(Path({str(db)!r}))
        store.insert(RunRecord(id="crashed", tool_id="echo", status="running"))
        store.insert(RunRecord(id="fine", tool_id="echo", status="ok"))
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=CHILD_TIMEOUT_SECONDS)
    with RunStore(db) as store:
        assert store.mark_interrupted() == 1
        assert store.get("crashed").status == "interrupted"  # type: ignore[union-attr]
        assert store.get("fine").status == "ok"  # type: ignore[union-attr]


def test_prune(store: RunStore, tmp_path: Path) -> None:
    def make(i: int, **fields: object) -> RunRecord:
        folder = tmp_path / "artefacts" / f"run{i}"
        folder.mkdir(parents=True)
        (folder / "file.bin").write_bytes(b"x")
        record = _run("tool", queued_at=float(i), artefacts_dir=str(folder), **fields)
        store.insert(record)
        return record

    oldest_starred = make(0, status="ok", starred=True)
    old = [make(i, status="ok") for i in range(1, 4)]
    live = make(4, status="running")
    errored = make(5, status="error")
    newest = make(6, status="timeout")
    other_tool = _run("other", status="ok", queued_at=0.5)
    store.insert(other_tool)

    deleted = store.prune("tool", keep=3)
    assert sorted(deleted) == sorted([old[0].id, old[1].id])
    for record in (old[0], old[1]):
        assert store.get(record.id) is None
        assert not Path(record.artefacts_dir).exists()  # type: ignore[arg-type]
    for record in (oldest_starred, old[2], live, errored, newest, other_tool):
        assert store.get(record.id) is not None
    assert Path(oldest_starred.artefacts_dir).exists()  # type: ignore[arg-type]

    assert store.prune("tool", keep=3) == []
    assert sorted(store.prune("tool", keep=0)) == sorted([old[2].id, errored.id, newest.id])
    assert {r.id for r in store.list_runs(tool="tool")} == {oldest_starred.id, live.id}
    with pytest.raises(ValueError, match="keep"):
        store.prune("tool", keep=-1)


def test_prune_never_removes_the_database_folder(store: RunStore, db: Path) -> None:
    record = _run(status="ok", artefacts_dir=str(db.parent))
    store.insert(record)
    assert store.prune("echo", keep=0) == [record.id]
    assert db.is_file()


def test_large_outputs_spill_to_artefacts_dir(store: RunStore, db: Path, tmp_path: Path) -> None:
    art = tmp_path / "art" / "run1"
    big = {"blob": "x" * (SPILL_BYTES + 10)}
    record = _run(
        status="ok", outputs=big, events=[{"event": "log", "data": "y" * SPILL_BYTES}], artefacts_dir=str(art)
    )
    store.insert(record)

    spilled = art / "_outputs.json"
    assert json.loads(spilled.read_text()) == big
    assert stat.S_IMODE(spilled.stat().st_mode) == 0o600
    assert (art / "_events.json").is_file()
    raw = _raw(db, "SELECT outputs, events FROM runs WHERE id = ?", record.id)
    assert [json.loads(str(v)) for v in raw[0]] == [{"$spilled": "_outputs.json"}, {"$spilled": "_events.json"}]

    assert store.get(record.id) == record
    assert store.list_runs()[0].outputs == big

    spilled.unlink()
    got = store.get(record.id)
    assert got is not None and got.outputs is None and got.events == record.events


def test_update_spills_using_the_rows_artefacts_dir(store: RunStore, db: Path, tmp_path: Path) -> None:
    art = tmp_path / "art" / "run2"
    record = _run(status="running", artefacts_dir=str(art))
    store.insert(record)
    big = ["z" * 1000] * (SPILL_BYTES // 1000 + 1)
    store.update(record.id, status="ok", outputs=big)
    assert (art / "_outputs.json").is_file()
    assert store.get(record.id).outputs == big  # type: ignore[union-attr]

    # Small again: stored inline, no file needed to read it back.
    store.update(record.id, outputs={"small": 1})
    (art / "_outputs.json").unlink()
    assert store.get(record.id).outputs == {"small": 1}  # type: ignore[union-attr]


def test_large_outputs_without_artefacts_dir_stay_inline(store: RunStore) -> None:
    big = {"blob": "x" * (SPILL_BYTES + 10)}
    record = _run(status="ok", outputs=big)
    store.insert(record)
    assert store.get(record.id).outputs == big  # type: ignore[union-attr]


def test_fire_and_forget_writes_are_ordered(store: RunStore) -> None:
    record = _run(status="queued")
    events: list[dict[str, object]] = [{"event": "progress", "data": 1}]
    store.insert_later(record)
    store.update_later(record.id, status="running", started_at=1.0)
    store.update_later(record.id, events=events)
    events.append({"event": "late", "data": 2})  # serialised at call time: this must not leak in
    store.update_later(record.id, status="ok", outputs={"n": 3}, finished_at=2.0)
    got = store.get(record.id)
    assert got is not None
    assert (got.status, got.started_at, got.finished_at, got.outputs) == ("ok", 1.0, 2.0, {"n": 3})
    assert got.events == [{"event": "progress", "data": 1}]


def test_fire_and_forget_failures_are_logged_not_raised(store: RunStore, caplog: pytest.LogCaptureFixture) -> None:
    record = _run(status="ok")
    store.insert(record)
    with caplog.at_level(logging.ERROR, logger="pixie.host.store"):
        store.insert_later(record)  # duplicate id: fails on the worker
        store.update_later(record.id, status="exploded")  # fails validation in the caller
        store.update_later(record.id, outputs=object())  # cannot be encoded
        store.prune_later("echo", keep=-1)
        store.flush()
    assert len([r for r in caplog.records if r.name == "pixie.host.store"]) == 4
    assert store.get(record.id) == record


def test_a_failing_write_in_a_batch_loses_only_itself(store: RunStore, caplog: pytest.LogCaptureFixture) -> None:
    existing = _run(status="ok")
    store.insert(existing)
    fresh = _run(status="queued")
    with caplog.at_level(logging.ERROR, logger="pixie.host.store"):
        store.insert_later(existing)  # duplicate id: the batch's one INSERT fails, then each run is replayed alone
        store.insert_later(fresh)
        store.update_later(fresh.id, status="ok", finished_at=5.0)
        store.update_later(existing.id, stderr_tail="later")
        store.flush()
    assert [r.getMessage() for r in caplog.records] == [f"run store: insert of run {existing.id} failed"]
    got = store.get(fresh.id)
    assert got is not None and (got.status, got.finished_at) == ("ok", 5.0)
    assert store.get(existing.id).stderr_tail == "later"  # type: ignore[union-attr]


def test_prune_later(store: RunStore, tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    old, new = _run(status="ok", queued_at=1.0, artefacts_dir=str(folder)), _run(status="ok", queued_at=2.0)
    store.insert(old)
    store.insert(new)
    store.prune_later("echo", keep=1)
    assert store.get(old.id) is None
    assert not folder.exists()


def test_async_methods(store: RunStore) -> None:
    async def main() -> None:
        record = _run(status="queued", queued_at=1.0)
        await store.ainsert(record)
        await store.aupdate(record.id, status="ok", outputs=[1, 2])
        got = await store.aget(record.id)
        assert got is not None and got.status == "ok" and got.outputs == [1, 2]
        assert await store.astar(record.id, True) is True
        assert [r.id for r in await store.alist_runs(starred=True)] == [record.id]

        extra = _run(status="ok", queued_at=2.0)
        store.insert_later(extra)
        await store.aflush()
        assert [r.id for r in await store.alist_runs(tool="echo")] == [extra.id, record.id]
        assert await store.aprune("echo", 0) == [extra.id]  # the starred one stays

        assert await store.alast_validation("echo") is None
        await store.arecord_validation("echo", True, {"passed": 3})
        validation = await store.alast_validation("echo")
        assert validation is not None and validation.ok and validation.summary == {"passed": 3}

        # Many concurrent tasks: all land, and the loop never blocks on the database.
        ids = [f"r{i}" for i in range(20)]
        await asyncio.gather(*(store.ainsert(_run(id=i, status="ok", queued_at=10.0 + n)) for n, i in enumerate(ids)))
        assert {r.id for r in await store.alist_runs(limit=100)} >= set(ids)

    asyncio.run(main())


def test_all_database_work_runs_on_one_worker_thread(store: RunStore) -> None:
    seen: set[str] = set()
    for _ in range(3):
        store._submit(lambda: seen.add(threading.current_thread().name)).result()
    assert len(seen) == 1 and next(iter(seen)).startswith("pixie-store")


def test_wal_mode_is_on(store: RunStore, db: Path) -> None:
    assert _raw(db, "PRAGMA journal_mode") == [("wal",)]


def test_second_store_sees_committed_rows(store: RunStore, db: Path) -> None:
    with RunStore(db) as reader:
        record = _run(status="running")
        store.insert(record)
        assert reader.get(record.id) == record
        store.update(record.id, status="ok")
        assert reader.get(record.id).status == "ok"  # type: ignore[union-attr]
        assert [r.id for r in reader.list_runs()] == [record.id]
        store.insert_later(_run(status="ok"))
        store.flush()
        assert len(reader.list_runs()) == 2


def test_nan_in_outputs_is_stored_as_null(store: RunStore, db: Path) -> None:
    record = _run(status="ok", outputs={"x": math.nan, "y": [1.0, math.inf, -math.inf], "s": "NaN"})
    store.insert(record)
    got = store.get(record.id)
    assert got is not None and got.outputs == {"x": None, "y": [1.0, None, None], "s": "NaN"}
    store.update(record.id, events=[{"event": "progress", "data": math.nan}])
    assert store.get(record.id).events == [{"event": "progress", "data": None}]  # type: ignore[union-attr]
    (raw,) = _raw(db, "SELECT outputs FROM runs WHERE id = ?", record.id)[0]
    assert "NaN" not in str(raw).replace('"NaN"', "")


def test_durable_across_reopen(db: Path, tmp_path: Path) -> None:
    records = [_run(f"t{i % 2}", status="ok", queued_at=float(i), outputs={"i": i}, starred=i == 3) for i in range(10)]
    with RunStore(db) as first:
        for record in records[:5]:
            first.insert(record)
        for record in records[5:]:
            first.insert_later(record)
        first.record_validation("t0", False, {"failed": ["4"]})
    with RunStore(db) as second:
        assert second.list_runs(limit=100) == list(reversed(records))
        validation = second.last_validation("t0")
        assert validation is not None and validation.ok is False and validation.summary == {"failed": ["4"]}
        assert second.mark_interrupted() == 0


def test_record_validation_upserts(store: RunStore) -> None:
    store.record_validation("echo", False, {"failed": 2})
    store.record_validation("echo", True, {"failed": 0})
    validation = store.last_validation("echo")
    assert validation is not None
    assert (validation.tool_id, validation.ok, validation.summary) == ("echo", True, {"failed": 0})
    assert validation.ts > 0
    assert store.last_validation("other") is None


def test_migration_adds_missing_columns(db: Path) -> None:
    # A file from an older host: no meta column, no indexes, user_version 0.
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    try:
        conn.execute(
            "CREATE TABLE runs (id TEXT PRIMARY KEY, tool_id TEXT NOT NULL, status TEXT NOT NULL, "
            "source TEXT NOT NULL DEFAULT 'api', inputs TEXT NOT NULL DEFAULT '{}', outputs TEXT, error TEXT, "
            "stderr_tail TEXT, events TEXT, queued_at FLOAT NOT NULL, started_at FLOAT, ready_at FLOAT, "
            "finished_at FLOAT, duration_ms FLOAT, artefacts_dir TEXT)"
        )
        conn.execute("INSERT INTO runs (id, tool_id, status, queued_at) VALUES ('old', 'echo', 'ok', 1.0)")
        conn.commit()
    finally:
        conn.close()

    with RunStore(db) as store:
        got = store.get("old")
        assert got is not None and got.meta is None and got.starred is False
        store.update("old", meta={"added": True}, starred=True)
    with RunStore(db) as store:  # a second open finds nothing left to migrate
        assert store.get("old").meta == {"added": True}  # type: ignore[union-attr]
    columns = {row[1] for row in _raw(db, "PRAGMA table_info(runs)")}
    assert {"meta", "starred"} <= columns
    indexes = {row[1] for row in _raw(db, "PRAGMA index_list(runs)")}
    assert "ix_runs_tool_queued" in indexes
    assert _raw(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_close_is_idempotent_and_final(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = RunStore(db)
    store.close()
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.get("x")
    with caplog.at_level(logging.ERROR, logger="pixie.host.store"):
        store.update_later("x", status="ok")  # logged, not raised
    assert any("closed" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_terminal_statuses() -> None:
    assert frozenset({"ok", "error", "timeout", "cancelled", "oom", "interrupted"}) == TERMINAL_STATUSES


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIXIE_DATA_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "explicit"
    monkeypatch.delenv("PIXIE_DATA_DIR")
    assert default_data_dir() == tmp_path / "xdg" / "pixie"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    monkeypatch.setattr(sys, "platform", "linux")
    assert default_data_dir() == Path.home() / ".local" / "share" / "pixie"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_data_dir() == Path.home() / "Library" / "Application Support" / "pixie"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert default_data_dir() == tmp_path / "local" / "pixie"
    assert database_path(tmp_path) == tmp_path / "runs.sqlite3"
