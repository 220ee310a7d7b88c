"""The retraining cycles: alert fired → retrained version promoted to the stage."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ledger_retrain_cycles",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("episode", sa.String(200), primary_key=True),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(200)),
        sa.Column("version", sa.String(200)),
        sa.Column("fired_at", _TIME, nullable=False),
        sa.Column("promoted_at", _TIME, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_retrain_cycles")
