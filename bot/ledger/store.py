"""The ledger's storage: facts in, derived tables replaced, through SQLAlchemy's async engine."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.ledger import tables
from bot.ledger.facts import Fact, FactKind, utc
from bot.ledger.project import (
    ArtifactRow,
    DeploymentRow,
    GateRow,
    IncidentRow,
    LedgerConfig,
    Projection,
    PromotionRow,
    RetrainCycleRow,
    project,
)
from bot.logs import get_logger

log = get_logger(component="ledger")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x6C656467  # "ledg": the advisory lock PostgreSQL migrations hold
_MIGRATION_ATTEMPTS = 10
_ROWS = {
    tables.promotions: PromotionRow,
    tables.deployments: DeploymentRow,
    tables.incidents: IncidentRow,
    tables.artifacts: ArtifactRow,
    tables.gates: GateRow,
    tables.retrain_cycles: RetrainCycleRow,
}


_migration_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _migration_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _migration_locks.get(loop)
    if lock is None:
        lock = _migration_locks[loop] = asyncio.Lock()
    return lock


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Processes starting together (ingress, worker, ledger) migrate one after the other.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _fact_row(fact: Fact) -> dict[str, Any]:
    row = asdict(fact)
    row["kind"] = fact.kind.value
    return row


def _fact(row: Any) -> Fact:
    values = dict(row._mapping)
    values["kind"] = FactKind(values["kind"])
    values["at"] = utc(values["at"])
    return Fact(**values)


def _aware(values: dict[str, Any]) -> dict[str, Any]:
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in values.items()}


class LedgerStore:
    """One database (SQLite file or PostgreSQL); safe to share between the tasks of a process."""

    def __init__(
        self,
        url: str,
        config: LedgerConfig,
        change_failure_window: float,
        window_days: int = 30,
    ) -> None:
        self._engine: AsyncEngine = create_async_engine(url)
        self.config = config
        self._window = change_failure_window
        self.window_days = window_days
        self.change_failure_window = change_failure_window
        # One writer at a time per process: the projection is replaced whole.
        self._lock = asyncio.Lock()
        self.dialect = make_url(url).get_backend_name()

    async def open(self) -> None:
        """Create or migrate the schema (Alembic, to head)."""
        if self.dialect == "sqlite":
            path = self._engine.url.database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, _MIGRATION_ATTEMPTS + 1):
            try:
                # Alembic's `context` is process-global: one migration at a time per process.
                async with _migration_lock():
                    async with self._engine.begin() as connection:
                        await connection.run_sync(_upgrade)
                break
            except DBAPIError as exc:
                # SQLite has no advisory lock: another process creating the schema right now
                # makes this one fail ("already exists", "locked"); once it is done, the schema
                # is at head and the next attempt changes nothing.
                if attempt == _MIGRATION_ATTEMPTS:
                    raise
                log.info("ledger.migration_retry", attempt=attempt, error=type(exc.orig).__name__)
                await asyncio.sleep(0.1 * attempt)
        log.info("ledger.opened", dialect=self.dialect)

    async def close(self) -> None:
        """Release the connection pool."""
        await self._engine.dispose()

    async def apply(self, facts: list[Fact]) -> int:
        """Record the facts not seen before and re-derive the tables; returns how many were new."""
        if not facts:
            return 0
        async with self._lock, self._engine.begin() as connection:
            unique = {fact.key: fact for fact in facts}
            known = await connection.execute(
                select(tables.facts.c.key).where(tables.facts.c.key.in_(list(unique)))
            )
            for key in known.scalars():
                unique.pop(key, None)
            if not unique:
                return 0
            await connection.execute(insert(tables.facts), [_fact_row(f) for f in unique.values()])
            await self._derive(connection)
        return len(unique)

    async def replace(self, facts: list[Fact]) -> int:
        """Make the facts exactly these (rebuild), in one transaction; returns how many."""
        unique = {fact.key: fact for fact in facts}
        async with self._lock, self._engine.begin() as connection:
            await connection.execute(delete(tables.facts))
            if unique:
                rows = [_fact_row(f) for f in unique.values()]
                await connection.execute(insert(tables.facts), rows)
            await self._derive(connection)
        return len(unique)

    async def _derive(self, connection: AsyncConnection) -> None:
        result = await connection.execute(select(tables.facts))
        projection = project([_fact(row) for row in result], self.config, self._window)
        for table in tables.DERIVED:
            await connection.execute(delete(table))
        for table, rows in (
            (tables.promotions, projection.promotions),
            (tables.deployments, projection.deployments),
            (tables.incidents, projection.incidents),
            (tables.artifacts, projection.artifacts),
            (tables.gates, projection.gates),
            (tables.retrain_cycles, projection.retrain_cycles),
        ):
            if rows:
                await connection.execute(insert(table), [asdict(row) for row in rows])

    async def projection(self) -> Projection:
        """The derived tables as rows."""
        loaded: dict[Any, list[Any]] = {}
        async with self._engine.connect() as connection:
            for table, row_type in _ROWS.items():
                names = [f.name for f in fields(row_type)]
                result = await connection.execute(select(table))
                loaded[table] = [
                    row_type(**{n: v for n, v in _aware(dict(r._mapping)).items() if n in names})
                    for r in result
                ]
        return Projection(
            promotions=loaded[tables.promotions],
            deployments=loaded[tables.deployments],
            incidents=loaded[tables.incidents],
            artifacts=loaded[tables.artifacts],
            gates=loaded[tables.gates],
            retrain_cycles=loaded[tables.retrain_cycles],
        )

    async def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every table, rows sorted: what `ledger rebuild` must reproduce."""
        out: dict[str, list[dict[str, Any]]] = {}
        async with self._engine.connect() as connection:
            for table in (tables.facts, *tables.DERIVED):
                result = await connection.execute(select(table))
                rows = [_aware(dict(r._mapping)) for r in result]
                out[table.name] = sorted(rows, key=lambda r: repr(sorted(r.items())))
        return out

    async def fact_count(self) -> int:
        """How many facts are recorded."""
        async with self._engine.connect() as connection:
            result = await connection.execute(select(func.count()).select_from(tables.facts))
            return int(result.scalar_one())
