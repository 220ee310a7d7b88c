"""Alembic environment: migrations run on the connection the ledger store hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.ledger.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("the ledger runs its migrations itself: `ferrybot ledger` or `ferrybot run`")
_run(_connection)
