"""SQL export: each successful run of a route as one row of an external table (SQLAlchemy Core).

The row holds ``run_id``, ``tool_id``, ``finished_at``, the route's inputs and outputs (scalars
as themselves, anything else as JSON text). The table is created when missing, with columns
typed from the manifest and the ``key`` columns as its primary key (``merge`` needs a unique
key); an existing table is used as it is. ``insert`` adds a row, ``update`` changes the row
matching ``key`` (no match is reported, not inserted), ``merge`` upserts on ``key``.
Any failure comes back as ``{"ok": false, "error": ...}``: the run itself is never lost.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from pixie_host.services.config import ConfigError, ExportSQL
from pixie_sdk.shapes import unwrap_scalar
from pixie_sdk.types import JSON, JSONObject

if TYPE_CHECKING:
    from pixie_host.services.routes import ResolvedRoute

__all__ = ["SqlExporter", "check_url", "redact"]

#: Seconds to wait for the database to accept a connection before the export is reported failed.
CONNECT_TIMEOUT_SECONDS = 5
_FLOAT_TYPES = frozenset({"number", "slider", "progress"})
_BOOL_TYPES = frozenset({"checkbox", "toggle", "boolean"})
_TEXT_TYPES = frozenset(
    {"text", "textarea", "markdown", "code", "colour", "date", "time", "datetime", "select", "radio"}
)


def redact(url: str) -> str:
    """The URL with its password hidden (for messages and dry runs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def check_url(url: str, where: str) -> None:
    """The URL parses and its driver is installed (no connection is made).

    Raises:
        ConfigError: naming the route.
    """
    try:
        parsed = make_url(url)
        parsed.get_dialect().import_dbapi()
    except ArgumentError:
        raise ConfigError(f"{where}: export_sql.db_connect is not a SQLAlchemy URL: {redact(url)}") from None
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"{where}: export_sql.db_connect needs a driver that is not installed: {exc}") from None


def _column_type(kind: str) -> sa.types.TypeEngine[Any]:
    if kind in _FLOAT_TYPES:
        return sa.Float()
    if kind in _BOOL_TYPES:
        return sa.Boolean()
    return sa.Text()


def _cell(kind: str, value: JSON) -> Any:
    inner, _ = unwrap_scalar(value)
    if inner is None:
        return None
    if kind in _FLOAT_TYPES:
        return float(inner) if isinstance(inner, int | float) and not isinstance(inner, bool) else None
    if kind in _BOOL_TYPES:
        return bool(inner)
    if isinstance(inner, str):
        return inner
    return json.dumps(inner, separators=(",", ":"))


class SqlExporter:
    """One route's export target; ``write`` is blocking (call it in a thread)."""

    def __init__(self, config: ExportSQL, route: ResolvedRoute) -> None:
        self.config = config
        self.route = route
        self._engine: Engine | None = None
        self._table: sa.Table | None = None
        self._lock = threading.Lock()
        manifest = route.entry.manifest
        assert manifest is not None
        kinds_in = {s.key: s.type for s in route.inputs}
        kinds_out = route.entry.output_types
        self.columns: dict[str, tuple[str, str]] = {}
        """Column name to (``input``/``output``, value type); an output named like an input gets ``out_``."""
        for key, kind in kinds_in.items():
            self.columns[key] = ("input", kind)
        for key in route.outputs:
            name = key if key not in self.columns else f"out_{key}"
            self.columns[name] = ("output", kinds_out[key])
        reserved = {"run_id", "tool_id", "finished_at"}
        missing = [k for k in config.key if k not in self.columns and k not in reserved]
        if missing:
            raise ConfigError(f"route {route.config.path}: export_sql.key {missing} names no column of the row")

    def _prepare(self) -> sa.Table:
        if self._table is not None:
            return self._table
        engine = sa.create_engine(
            self.config.db_connect,
            pool_pre_ping=True,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
            if self.config.db_connect.startswith("postgres")
            else {},
        )
        metadata = sa.MetaData(schema=self.config.db_schema)
        inspector = sa.inspect(engine)
        if inspector.has_table(self.config.table, schema=self.config.db_schema):
            table = sa.Table(self.config.table, metadata, autoload_with=engine)
        else:
            key = set(self.config.key) or {"run_id"}
            cols: list[sa.schema.SchemaItem] = [
                sa.Column("run_id", sa.String(64), primary_key="run_id" in key),
                sa.Column("tool_id", sa.String(200), nullable=False),
                sa.Column("finished_at", sa.Float()),
            ]
            cols += [
                sa.Column(name, _column_type(kind), primary_key=name in key)
                for name, (_s, kind) in self.columns.items()
            ]
            table = sa.Table(self.config.table, metadata, *cols)
            metadata.create_all(engine, checkfirst=True)
        self._engine, self._table = engine, table
        return table

    def row(self, result: JSONObject, inputs: JSONObject) -> dict[str, Any]:
        outputs = result.get("outputs") or {}
        assert isinstance(outputs, dict)
        row: dict[str, Any] = {"run_id": result["run_id"], "tool_id": result["tool_id"], "finished_at": time.time()}
        for name, (side, kind) in self.columns.items():
            key = name if side == "input" or name in outputs else name.removeprefix("out_")
            row[name] = _cell(kind, (inputs if side == "input" else outputs).get(key))
        return row

    def write(self, result: JSONObject, inputs: JSONObject) -> JSONObject:
        """Write one run's row; the outcome as a JSON object (never raises)."""
        target = f"{self.config.db_schema + '.' if self.config.db_schema else ''}{self.config.table}"
        outcome: JSONObject = {
            "ok": False,
            "table": target,
            "method": self.config.method,
            "db": redact(self.config.db_connect),
        }
        try:
            with self._lock:
                table = self._prepare()
                assert self._engine is not None
                row = {k: v for k, v in self.row(result, inputs).items() if k in table.c}
                unknown = [k for k in self.columns if k not in table.c]
                if unknown:
                    outcome["warning"] = f"the table has no column for {unknown}; those values were not written"
                with self._engine.begin() as conn:
                    count = self._execute(conn, table, row)
        except SQLAlchemyError as exc:
            outcome["error"] = (
                f"{type(exc).__name__}: {str(exc.orig if hasattr(exc, 'orig') and exc.orig else exc)[:500]}"
            )
            return outcome
        except (OSError, ValueError) as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"
            return outcome
        if count == 0:
            outcome["error"] = f"no row of {target} matches {self.config.key} for update"
            return outcome
        outcome.update(ok=True, rows=count)
        return outcome

    def _execute(self, conn: sa.Connection, table: sa.Table, row: dict[str, Any]) -> int:
        method = self.config.method
        if method == "insert":
            conn.execute(table.insert().values(row))
            return 1
        key = self.config.key
        match = sa.and_(*(table.c[k] == row.get(k) for k in key))
        changes = {k: v for k, v in row.items() if k not in key}
        if method == "update":
            return int(conn.execute(table.update().where(match).values(changes)).rowcount)
        dialect = conn.dialect.name
        if dialect in ("postgresql", "sqlite"):
            stmt = (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)).values(row)
            conn.execute(stmt.on_conflict_do_update(index_elements=[table.c[k] for k in key], set_=changes))
            return 1
        # Other databases: update, and insert when nothing matched, inside the one transaction.
        if conn.execute(table.update().where(match).values(changes)).rowcount == 0:
            conn.execute(table.insert().values(row))
        return 1

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
