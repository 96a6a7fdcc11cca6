"""The host's run history: one SQLite file, SQLAlchemy Core, every query on one worker thread.

The store serves an asyncio app (the host) and plain sync code (the CLI, possibly in another
process while the host runs; WAL lets readers and the one writer get along). Each ``RunStore``
owns a single-threaded executor, so its operations run strictly in submission order: a read
submitted after a write, fire-and-forget or not, sees that write.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateColumn

from pixie_sdk._jsonenc import dumps

__all__ = [
    "artefact_file",
    "BUSY_TIMEOUT_MS",
    "MAX_LIST_LIMIT",
    "SCHEMA_VERSION",
    "SPILL_BYTES",
    "TERMINAL_STATUSES",
    "RunError",
    "RunRecord",
    "RunSource",
    "RunStatus",
    "RunStore",
    "ValidationRecord",
    "database_path",
    "default_data_dir",
]

_log = logging.getLogger("pixie.host.store")

RunStatus = Literal["queued", "running", "ok", "error", "timeout", "cancelled", "oom", "interrupted"]
RunSource = Literal["api", "ui", "service", "mcp", "cli"]

#: A run in one of these states is over: nothing will write to it again (and prune may drop it).
TERMINAL_STATUSES: frozenset[RunStatus] = frozenset({"ok", "error", "timeout", "cancelled", "oom", "interrupted"})
_LIVE_STATUSES = ("queued", "running")

#: Bump together with a step in ``_MIGRATIONS``; stored in SQLite's ``PRAGMA user_version``.
SCHEMA_VERSION = 1
#: Outputs/events JSON above this goes to a file: big rows bloat the WAL and slow every list query.
SPILL_BYTES = 256 * 1024
#: How long a batch of fire-and-forget writes gathers before it is written (a read waits at most this).
DRAIN_GATHER_SECONDS = 0.005
#: How long a connection waits for another process's write lock before failing (a CLI and the host share the file).
BUSY_TIMEOUT_MS = 5000
#: A page of history is read whole (spilled files included), so one request cannot pull the entire table.
MAX_LIST_LIMIT = 1000
#: Ids per ``DELETE ... IN (...)``: safely under old SQLite builds' 999 bound-parameter ceiling.
_DELETE_CHUNK = 500

_DB_FILE = "runs.sqlite3"
_SPILL_MARKER = "$spilled"
_SPILL_FILES = {"outputs": "_outputs.json", "events": "_events.json"}
_JSON_COLUMNS = ("inputs", "outputs", "error", "events", "meta")
_INTERRUPTED_ERROR = {"code": "interrupted", "detail": "the host stopped before this run finished", "status_code": None}

T = TypeVar("T")


# --------------------------------------------------------------------------- models


class RunError(BaseModel):
    """Why a run did not end ``ok``: the tool's error code, its detail and the HTTP status it came with."""

    model_config = ConfigDict(extra="allow")

    code: str
    detail: str | list[Any]
    status_code: int | None = None


class RunRecord(BaseModel):
    """One row of ``runs``. Times are unix seconds; JSON columns hold the plain values."""

    # Timestamps must be real numbers: NaN would sort nowhere in "newest first".
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    tool_id: str
    status: RunStatus = "queued"
    source: RunSource = "api"
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: Any = None
    error: RunError | None = None
    stderr_tail: str | None = None
    events: list[dict[str, Any]] | None = None
    meta: dict[str, Any] | None = None
    queued_at: float = Field(default_factory=time.time)
    started_at: float | None = None
    ready_at: float | None = None
    finished_at: float | None = None
    duration_ms: float | None = None
    starred: bool = False
    artefacts_dir: str | None = None

    def public(self) -> dict[str, Any]:
        """JSON-ready dict for API replies: everything but the host-local artefacts path."""
        return self.model_dump(mode="json", exclude={"artefacts_dir"})


class ValidationRecord(BaseModel):
    """The last ``pixie-validate`` result the host recorded for a tool."""

    tool_id: str
    ts: float
    ok: bool
    summary: dict[str, Any]


# Validates ``update(**fields)`` one field at a time, as the model would.
_FIELD_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(info.annotation if info.annotation is not None else Any, config=ConfigDict(allow_inf_nan=False))
    for name, info in RunRecord.model_fields.items()
    if name != "id"
}


# --------------------------------------------------------------------------- schema

_metadata = sa.MetaData()

_runs = sa.Table(
    "runs",
    _metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tool_id", sa.Text, nullable=False),
    # No CHECK on status: SQLite cannot alter a constraint, and the model validates anyway.
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False, server_default="api"),
    sa.Column("inputs", sa.Text, nullable=False, server_default="{}"),
    sa.Column("outputs", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("stderr_tail", sa.Text),
    sa.Column("events", sa.Text),
    sa.Column("meta", sa.Text),
    sa.Column("queued_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("ready_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("duration_ms", sa.Float),
    sa.Column("starred", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("artefacts_dir", sa.Text),
    # A tool's history page and prune both walk one tool newest first.
    sa.Index("ix_runs_tool_queued", "tool_id", "queued_at"),
    # The all-tools history page walks every run newest first.
    sa.Index("ix_runs_queued", "queued_at"),
)

_validations = sa.Table(
    "validations",
    _metadata,
    sa.Column("tool_id", sa.Text, primary_key=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
)

# Insertion order breaks ties between runs queued in the same clock tick.
_NEWEST_FIRST: tuple[sa.UnaryExpression[Any], ...] = (_runs.c.queued_at.desc(), sa.literal_column("runs.rowid").desc())

# Version -> a data step (backfill, rewrite) run once when a file is first opened at that version.
# Plain new columns need no step: ``_migrate`` adds any column of ``_metadata`` a file lacks.
_MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL: the CLI reads while the host writes. NORMAL under WAL may lose the last commits to a power cut
    # but never corrupts the file, and it spares an fsync per run update.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _migrate(conn: Connection) -> None:
    # IMMEDIATE takes the write lock first, so two processes opening an old file do not both ALTER it.
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    _metadata.create_all(conn)
    for table in _metadata.sorted_tables:
        have = {row[1] for row in conn.exec_driver_sql(f'PRAGMA table_info("{table.name}")')}
        for column in table.columns:
            if column.name not in have:
                spec = CreateColumn(column).compile(dialect=conn.dialect)
                conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN {spec}')
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
    if version > SCHEMA_VERSION:
        # A newer host wrote this file; its changes are additive, so reading and writing still work.
        _log.warning("%s has schema version %d, newer than this host's %d", conn.engine.url, version, SCHEMA_VERSION)
    for step_version in range(version + 1, SCHEMA_VERSION + 1):
        step = _MIGRATIONS.get(step_version)
        if step is not None:
            step(conn)
    if version < SCHEMA_VERSION:
        conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.commit()


# --------------------------------------------------------------------------- JSON columns


def _finite(value: Any) -> Any:
    # Strict JSON has no NaN/Infinity; a tool's stray NaN must not lose the whole run, so it becomes null.
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_finite(v) for v in value]
    for attr in ("tolist", "item"):  # numpy arrays and scalars hide their floats behind these
        fn = getattr(value, attr, None)
        if callable(fn):
            return _finite(fn())
    return value


def _encode(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        value = value.model_dump()
    try:
        return dumps(value)
    except ValueError:
        return dumps(_finite(value))


def _write_private(path: Path, data: bytes) -> None:
    # Outputs may hold user data: owner-only, and replaced whole so a reader never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _column_text(name: str, data: bytes | None, artefacts_dir: str | None) -> str | None:
    if data is None:
        return None
    spill = _SPILL_FILES.get(name)
    if spill is not None and artefacts_dir and len(data) > SPILL_BYTES:
        _write_private(Path(artefacts_dir) / spill, data)
        return json.dumps({_SPILL_MARKER: spill})
    return data.decode()


def _load_spilled(artefacts_dir: str | None, name: str) -> Any:
    # A pruned-by-hand or unreadable spill file loses only that value, never the row.
    if not artefacts_dir:
        return None
    try:
        return json.loads((Path(artefacts_dir) / name).read_bytes())
    except (OSError, ValueError):
        return None


def _row_to_record(row: RowMapping) -> RunRecord:
    data = dict(row)
    for name in _JSON_COLUMNS:
        text = data[name]
        value = None if text is None else json.loads(text)
        spill = _SPILL_FILES.get(name)
        # Only our own marker is honoured: a path from the row is never followed anywhere else.
        if spill is not None and value == {_SPILL_MARKER: spill}:
            value = _load_spilled(data["artefacts_dir"], spill)
        data[name] = value
    if data["inputs"] is None:
        data["inputs"] = {}
    return RunRecord.model_validate(data)


_INSERT_RUN = _runs.insert()
_RUN_ID_PARAM = "run_id_"


@functools.cache
def _update_statement(columns: frozenset[str]) -> sa.Update:
    """One UPDATE per set of columns, with bound parameters (built once; SQLAlchemy caches its compilation)."""
    return _runs.update().where(_runs.c.id == sa.bindparam(_RUN_ID_PARAM)).values({c: sa.bindparam(c) for c in columns})


def _prepare_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Validated column values; JSON columns as encoded bytes (spill is decided on the worker)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        adapter = _FIELD_ADAPTERS.get(name)
        if adapter is None:
            raise TypeError(f"`{name}` is not an updatable run field")
        valid = adapter.validate_python(value)
        out[name] = _encode(valid) if name in _JSON_COLUMNS else valid
    return out


def _prepare_record(record: RunRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in RunRecord.model_fields}
    for name in _JSON_COLUMNS:
        values[name] = _encode(values[name])
    return values


def _insert_row(values: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(values)
    for name in _JSON_COLUMNS:
        row[name] = _column_text(name, row[name], row["artefacts_dir"])
    if row["inputs"] is None:
        row["inputs"] = "{}"
    return row


def _update_row(conn: Connection, run_id: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The parameters of ``_update_statement(frozenset(values))`` for one run; None when there is nothing to set."""
    if not values:
        return None
    row = dict(values)
    big = [n for n in _SPILL_FILES if isinstance(row.get(n), bytes) and len(row[n]) > SPILL_BYTES]
    artefacts_dir = row.get("artefacts_dir")
    if big and "artefacts_dir" not in row:
        found = conn.execute(sa.select(_runs.c.artefacts_dir).where(_runs.c.id == run_id)).first()
        artefacts_dir = found[0] if found is not None else None
    for name in _JSON_COLUMNS:
        if name in row:
            row[name] = _column_text(name, row[name], artefacts_dir)
    if "inputs" in row and row["inputs"] is None:
        row["inputs"] = "{}"
    row[_RUN_ID_PARAM] = run_id
    return row


# Starred and live runs are neither kept-count nor deleted: only unstarred terminal runs age out.
_DOOMED_RUNS = (
    sa.select(_runs.c.id, _runs.c.artefacts_dir)
    .where(
        _runs.c.tool_id == sa.bindparam("tool_id"),
        _runs.c.starred.is_(sa.false()),
        _runs.c.status.in_(sorted(TERMINAL_STATUSES)),
    )
    .order_by(*_NEWEST_FIRST)
    .offset(sa.bindparam("keep", type_=sa.Integer))
)


def _doomed_runs(conn: Connection, tool_id: str, keep: int) -> list[tuple[str, str | None]]:
    """Delete a tool's runs beyond the newest ``keep`` (uncommitted); their ids and artefacts folders."""
    doomed = [(row.id, row.artefacts_dir) for row in conn.execute(_DOOMED_RUNS, {"tool_id": tool_id, "keep": keep})]
    ids = [run_id for run_id, _folder in doomed]
    for start in range(0, len(ids), _DELETE_CHUNK):
        conn.execute(_runs.delete().where(_runs.c.id.in_(ids[start : start + _DELETE_CHUNK])))
    return doomed


def _remove_folders(folders: list[str], db_path: Path, recycle: Callable[[str], bool] | None = None) -> None:
    for name in folders:
        if recycle is not None and recycle(name):
            continue
        try:
            os.rmdir(name)  # most runs write no artefacts: one syscall, and it cannot remove a folder with files
        except FileNotFoundError:
            continue
        except OSError:
            folder = Path(name)
            # A bad row must never take the database (or a folder holding it) down with it.
            if db_path.is_relative_to(folder.resolve()):
                _log.warning("not removing %s: it holds the run database", folder)
                continue
            shutil.rmtree(folder, ignore_errors=True)


def _artefact_dirs_work(conn: Connection) -> list[str]:
    query = sa.select(_runs.c.artefacts_dir).where(_runs.c.artefacts_dir.is_not(None))
    return [row[0] for row in conn.execute(query)]


class _Batch:
    """Fire-and-forget writes waiting for the store's worker, merged per run.

    A run queued, started and finished within one gather becomes one INSERT; a tool pruned many
    times, one prune (after the batch's writes, so it counts them).
    """

    def __init__(self) -> None:
        self.inserts: dict[str, dict[str, Any]] = {}
        self.updates: dict[str, dict[str, Any]] = {}
        self.prunes: dict[str, int] = {}
        # What updates added to a queued insert: if that insert fails (a duplicate id), they still apply.
        self.merged: dict[str, dict[str, Any]] = {}

    def insert(self, values: dict[str, Any]) -> None:
        run_id = values["id"]
        if run_id in self.inserts:  # as in the table: the same id twice, the second fails and the first stands
            _log.error("run store: insert of run %s failed: that id is already queued", run_id)
            return
        self.inserts[run_id] = dict(values)
        # An update queued before its run's insert found no row, as it would have written alone.
        self.updates.pop(run_id, None)

    def update(self, run_id: str, values: dict[str, Any]) -> None:
        target = self.inserts.get(run_id)
        if target is None:
            self.updates.setdefault(run_id, {}).update(values)
            return
        target.update(values)
        self.merged.setdefault(run_id, {}).update(values)

    def prune(self, tool_id: str, keep: int) -> None:
        self.prunes[tool_id] = keep

    def write(self, conn: Connection) -> list[str]:
        """All of it in the caller's transaction, one statement per kind of write; the folders to remove later."""
        if self.inserts:
            conn.execute(_INSERT_RUN, [_insert_row(v) for v in self.inserts.values()])
        by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
        for run_id, values in self.updates.items():
            row = _update_row(conn, run_id, values)
            if row is not None:
                by_columns.setdefault(frozenset(values), []).append(row)
        for columns, rows in by_columns.items():
            conn.execute(_update_statement(columns), rows)
        return [
            folder
            for tool_id, keep in self.prunes.items()
            for _id, folder in _doomed_runs(conn, tool_id, keep)
            if folder
        ]

    def replay(self, conn: Connection) -> list[str]:
        """After a failed ``write``: one transaction per write, so only the failing one is lost."""
        folders: list[str] = []
        for run_id, values in self.inserts.items():
            if not self._replayed(conn, f"insert of run {run_id}", RunStore._insert_work(values)):
                self.updates.setdefault(run_id, {}).update(self.merged.get(run_id, {}))
        for run_id, values in self.updates.items():
            self._replayed(conn, f"update of run {run_id}", RunStore._update_work(run_id, values))
        for tool_id, keep in self.prunes.items():
            try:
                doomed = _doomed_runs(conn, tool_id, keep)
                conn.commit()
            except Exception:
                conn.rollback()
                _log.exception("run store: prune of %s failed", tool_id)
            else:
                folders += [folder for _id, folder in doomed if folder]
        return folders

    @staticmethod
    def _replayed(conn: Connection, what: str, work: Callable[[Connection], None]) -> bool:
        try:
            work(conn)
            conn.commit()
        except Exception:
            conn.rollback()
            _log.exception("run store: %s failed", what)
            return False
        return True


# --------------------------------------------------------------------------- paths


def artefact_file(artefacts_dir: str | None, name: str, *, private: bool = False) -> Path | None:
    """The file ``name`` inside a run's artefacts folder, or None (missing, a folder, or outside it).

    Top-level names starting with ``_`` are the store's own files (spilled outputs and events):
    None for them unless ``private``.
    """
    if not artefacts_dir or not name or (not private and name.split("/", 1)[0].startswith("_")):
        return None
    base = Path(artefacts_dir).resolve()
    target = (base / name).resolve()
    if not target.is_relative_to(base) or target == base or not target.is_file():
        return None
    return target


def default_data_dir() -> Path:
    """Where the host keeps its history: ``$PIXIE_DATA_DIR``, ``$XDG_DATA_HOME/pixie`` or the platform's default."""
    explicit = os.environ.get("PIXIE_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "pixie"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "pixie"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "pixie"
    return Path.home() / ".local" / "share" / "pixie"


def database_path(data_dir: Path) -> Path:
    """The history database inside ``data_dir``."""
    return data_dir / _DB_FILE


# --------------------------------------------------------------------------- the store


def _log_failure(what: str) -> Callable[[Future[Any]], None]:
    def callback(fut: Future[Any]) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            _log.error("run store: %s failed", what, exc_info=exc)

    return callback


class RunStore:
    """Run history in one SQLite file. Thread-safe; every query runs on the store's own worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        #: Called on the worker thread with each pruned run's folder; True when it took the folder
        #: over (the host reuses empty ones for new runs), False to have the store remove it.
        self.recycle_folder: Callable[[str], bool] | None = None
        # NullPool: the one Connection below is the only one, opened and closed on the worker thread,
        # so pysqlite's same-thread check always holds and no pooled connection outlives close().
        self._engine = sa.create_engine(sa.URL.create("sqlite+pysqlite", database=str(self.path)), poolclass=NullPool)
        sa.event.listen(self._engine, "connect", _on_connect)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixie-store")
        self._pending = _Batch()
        self._pending_lock = threading.Lock()
        self._drain_scheduled = False
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._db_path = self.path.resolve()
        try:
            self._submit_db(_migrate).result()
        except BaseException:
            self.close()
            raise

    # ---- plumbing

    def _submit(self, fn: Callable[[], T]) -> Future[T]:
        # The flag and the submit share a lock so nothing can slip in behind close()'s final task.
        with self._lock:
            if self._closed:
                raise RuntimeError(f"the run store for {self.path} is closed")
            return self._executor.submit(fn)

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def _submit_db(self, work: Callable[[Connection], T]) -> Future[T]:
        def run() -> T:
            conn = self._connection()
            try:
                result = work(conn)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            return result

        return self._submit(run)

    def _later(self, what: str, add: Callable[[_Batch], None]) -> None:
        # The hot path must never fail because history could not be written: log and carry on.
        try:
            with self._pending_lock:
                add(self._pending)
                if self._drain_scheduled:
                    return
                self._drain_scheduled = True
            self._submit(self._drain).add_done_callback(_log_failure("a batch of writes"))
        except Exception:
            _log.exception("run store: %s failed", what)

    def _drain(self) -> None:
        """Write every fire-and-forget write queued so far in one transaction: a commit costs more than the writes.

        If the batch fails, it is replayed a run at a time, so only that run's write is lost. A read
        submitted after a write is queued behind this drain (or a later one), so it sees the write.
        """
        # Let the writes of the next few milliseconds join this batch: each wake of this thread takes the
        # GIL from the event loop, so fewer, larger batches cost the run path less.
        time.sleep(DRAIN_GATHER_SECONDS)
        with self._pending_lock:
            batch, self._pending = self._pending, _Batch()
            self._drain_scheduled = False
        conn = self._connection()
        try:
            folders = batch.write(conn)
            conn.commit()
        except Exception:
            conn.rollback()
            folders = batch.replay(conn)
        _remove_folders(folders, self._db_path, self.recycle_folder)

    def _close_connection(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    # ---- work (runs on the worker thread)

    @staticmethod
    def _insert_work(values: dict[str, Any]) -> Callable[[Connection], None]:
        def work(conn: Connection) -> None:
            conn.execute(_INSERT_RUN, _insert_row(values))

        return work

    @staticmethod
    def _update_work(run_id: str, values: dict[str, Any]) -> Callable[[Connection], None]:
        def work(conn: Connection) -> None:
            row = _update_row(conn, run_id, values)
            if row is not None:
                conn.execute(_update_statement(frozenset(values)), row)

        return work

    def _prune(self, tool_id: str, keep: int) -> list[str]:
        # Files go only once the rows are surely gone: a failed commit leaves history intact.
        conn = self._connection()
        try:
            doomed = _doomed_runs(conn, tool_id, keep)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        _remove_folders([folder for _id, folder in doomed if folder], self._db_path, self.recycle_folder)
        return [run_id for run_id, _folder in doomed]

    @staticmethod
    def _get_work(run_id: str) -> Callable[[Connection], RunRecord | None]:
        def work(conn: Connection) -> RunRecord | None:
            row = conn.execute(sa.select(_runs).where(_runs.c.id == run_id)).mappings().first()
            return None if row is None else _row_to_record(row)

        return work

    @staticmethod
    def _list_work(
        tool: str | None, status: str | None, starred: bool | None, limit: int, before: float | None
    ) -> Callable[[Connection], list[RunRecord]]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        query = sa.select(_runs).order_by(*_NEWEST_FIRST).limit(min(limit, MAX_LIST_LIMIT))
        if tool is not None:
            query = query.where(_runs.c.tool_id == tool)
        if status is not None:
            query = query.where(_runs.c.status == status)
        if starred is not None:
            query = query.where(_runs.c.starred == starred)
        if before is not None:
            query = query.where(_runs.c.queued_at < before)

        def work(conn: Connection) -> list[RunRecord]:
            return [_row_to_record(row) for row in conn.execute(query).mappings()]

        return work

    @staticmethod
    def _star_work(run_id: str, starred: bool) -> Callable[[Connection], bool]:
        def work(conn: Connection) -> bool:
            result = conn.execute(_runs.update().where(_runs.c.id == run_id).values(starred=starred))
            return bool(result.rowcount)

        return work

    @staticmethod
    def _mark_interrupted_work(conn: Connection) -> int:
        result = conn.execute(
            _runs.update()
            .where(_runs.c.status.in_(_LIVE_STATUSES))
            .values(status="interrupted", finished_at=time.time(), error=json.dumps(_INTERRUPTED_ERROR))
        )
        return int(result.rowcount)

    @staticmethod
    def _record_validation_work(tool_id: str, ok: bool, summary: dict[str, Any]) -> Callable[[Connection], None]:
        values = {"tool_id": tool_id, "ts": time.time(), "ok": ok, "summary": (_encode(summary) or b"{}").decode()}

        def work(conn: Connection) -> None:
            stmt = sqlite_insert(_validations).values(**values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["tool_id"], set_=dict(stmt.excluded)))

        return work

    @staticmethod
    def _last_validation_work(tool_id: str) -> Callable[[Connection], ValidationRecord | None]:
        def work(conn: Connection) -> ValidationRecord | None:
            row = conn.execute(sa.select(_validations).where(_validations.c.tool_id == tool_id)).mappings().first()
            if row is None:
                return None
            return ValidationRecord(
                tool_id=row["tool_id"], ts=row["ts"], ok=row["ok"], summary=json.loads(row["summary"])
            )

        return work

    # ---- sync API

    def insert(self, record: RunRecord) -> None:
        """Add a run (its id must be new)."""
        self._submit_db(self._insert_work(_prepare_record(record))).result()

    def update(self, run_id: str, **fields: Any) -> None:
        """Set ``RunRecord`` fields of a run; a missing run is left alone. Values are serialised now."""
        self._submit_db(self._update_work(run_id, _prepare_fields(fields))).result()

    def get(self, run_id: str) -> RunRecord | None:
        """One run, spilled outputs/events loaded back."""
        return self._submit_db(self._get_work(run_id)).result()

    def list_runs(
        self,
        *,
        tool: str | None = None,
        status: str | None = None,
        starred: bool | None = None,
        limit: int = 50,
        before: float | None = None,
    ) -> list[RunRecord]:
        """Runs newest first by ``queued_at``; ``before`` pages on (runs queued strictly earlier)."""
        return self._submit_db(self._list_work(tool, status, starred, limit, before)).result()

    def star(self, run_id: str, starred: bool) -> bool:
        """Star or unstar a run; False when there is no such run."""
        return self._submit_db(self._star_work(run_id, starred)).result()

    def artefact_dirs(self) -> list[str]:
        """Every recorded run's artefacts folder."""
        return self._submit_db(_artefact_dirs_work).result()

    def mark_interrupted(self) -> int:
        """Close out runs a previous host left queued/running; call once at host start-up, before new runs."""
        return self._submit_db(self._mark_interrupted_work).result()

    def prune(self, tool_id: str, keep: int) -> list[str]:
        """Delete a tool's unstarred terminal runs beyond the newest ``keep`` (and their folders); the ids."""
        if keep < 0:
            raise ValueError(f"keep must not be negative, not {keep}")
        return self._submit(functools.partial(self._prune, tool_id, keep)).result()

    def record_validation(self, tool_id: str, ok: bool, summary: dict[str, Any]) -> None:
        """Remember a tool's latest validation result (replaces the previous one)."""
        self._submit_db(self._record_validation_work(tool_id, ok, summary)).result()

    def last_validation(self, tool_id: str) -> ValidationRecord | None:
        """The latest validation result recorded for a tool."""
        return self._submit_db(self._last_validation_work(tool_id)).result()

    def flush(self) -> None:
        """Wait until everything submitted so far (fire-and-forget writes included) is done."""
        self._submit(lambda: None).result()

    def close(self) -> None:
        """Finish queued work, close the connection and the worker. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # Queued behind every earlier task (FIFO), so pending writes still land first.
            closing = self._executor.submit(self._close_connection)
        self._executor.shutdown(wait=True)
        exc = closing.exception()
        if exc is not None:
            _log.error("run store: closing %s failed", self.path, exc_info=exc)
        self._engine.dispose()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- fire-and-forget (hot path): submit, return, log failures

    def insert_later(self, record: RunRecord) -> None:
        """``insert`` without waiting; failures are logged, never raised."""
        try:
            values = _prepare_record(record)
        except Exception:
            _log.exception("run store: insert of run %s failed", record.id)
            return
        self._later(f"insert of run {record.id}", lambda batch: batch.insert(values))

    def update_later(self, run_id: str, **fields: Any) -> None:
        """``update`` without waiting; values are serialised now, so the caller may keep mutating them."""
        try:
            values = _prepare_fields(fields)
        except Exception:
            _log.exception("run store: update of run %s failed", run_id)
            return
        self._later(f"update of run {run_id}", lambda batch: batch.update(run_id, values))

    def prune_later(self, tool_id: str, keep: int) -> None:
        """``prune`` without waiting; failures are logged, never raised."""

        if keep < 0:
            _log.error("run store: prune of %s failed: keep must not be negative, not %d", tool_id, keep)
            return
        self._later(f"prune of {tool_id}", lambda batch: batch.prune(tool_id, keep))

    # ---- async API

    async def _await_write(self, fut: Future[T]) -> T:
        # Shielded: a write already submitted still lands if the awaiting task is cancelled.
        return await asyncio.shield(asyncio.wrap_future(fut))

    async def ainsert(self, record: RunRecord) -> None:
        """``insert`` for the event loop."""
        await self._await_write(self._submit_db(self._insert_work(_prepare_record(record))))

    async def aupdate(self, run_id: str, **fields: Any) -> None:
        """``update`` for the event loop."""
        await self._await_write(self._submit_db(self._update_work(run_id, _prepare_fields(fields))))

    async def aget(self, run_id: str) -> RunRecord | None:
        """``get`` for the event loop."""
        return await asyncio.wrap_future(self._submit_db(self._get_work(run_id)))

    async def alist_runs(
        self,
        *,
        tool: str | None = None,
        status: str | None = None,
        starred: bool | None = None,
        limit: int = 50,
        before: float | None = None,
    ) -> list[RunRecord]:
        """``list_runs`` for the event loop."""
        return await asyncio.wrap_future(self._submit_db(self._list_work(tool, status, starred, limit, before)))

    async def astar(self, run_id: str, starred: bool) -> bool:
        """``star`` for the event loop."""
        return await self._await_write(self._submit_db(self._star_work(run_id, starred)))

    async def aprune(self, tool_id: str, keep: int) -> list[str]:
        """``prune`` for the event loop."""
        if keep < 0:
            raise ValueError(f"keep must not be negative, not {keep}")
        return await self._await_write(self._submit(functools.partial(self._prune, tool_id, keep)))

    async def arecord_validation(self, tool_id: str, ok: bool, summary: dict[str, Any]) -> None:
        """``record_validation`` for the event loop."""
        await self._await_write(self._submit_db(self._record_validation_work(tool_id, ok, summary)))

    async def alast_validation(self, tool_id: str) -> ValidationRecord | None:
        """``last_validation`` for the event loop."""
        return await asyncio.wrap_future(self._submit_db(self._last_validation_work(tool_id)))

    async def aflush(self) -> None:
        """``flush`` for the event loop."""
        await asyncio.wrap_future(self._submit(lambda: None))
