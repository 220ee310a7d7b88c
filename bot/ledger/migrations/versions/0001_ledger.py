"""The ledger's first schema: facts and the derived tables."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ledger_facts",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("pipeline", sa.String(100)),
        sa.Column("stage", sa.String(100)),
        sa.Column("repo", sa.String(300)),
        sa.Column("revision", sa.String(64)),
        sa.Column("version", sa.String(200)),
        sa.Column("target", sa.String(300)),
        sa.Column("pull", sa.Integer),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_ledger_facts_kind", "ledger_facts", ["kind"])
    op.create_index("ix_ledger_facts_revision", "ledger_facts", ["revision"])
    op.create_table(
        "ledger_promotions",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("stage", sa.String(100), primary_key=True),
        sa.Column("pull", sa.Integer, primary_key=True),
        sa.Column("repo", sa.String(300)),
        sa.Column("version", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("merged_at", _TIME),
        sa.Column("merge_sha", sa.String(64)),
        sa.Column("head_sha", sa.String(64)),
        sa.Column("url", sa.Text),
        sa.Column("rollback", sa.Boolean, nullable=False),
    )
    op.create_table(
        "ledger_deployments",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("stage", sa.String(100), primary_key=True),
        sa.Column("revision", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(200)),
        sa.Column("pull", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sources", sa.String(200), nullable=False),
        sa.Column("targets", sa.Text, nullable=False),
        sa.Column("started_at", _TIME),
        sa.Column("succeeded_at", _TIME),
        sa.Column("lead_time_seconds", sa.Float),
        sa.Column("change_failure", sa.Boolean, nullable=False),
        sa.Column("rollback", sa.Boolean, nullable=False),
    )
    op.create_table(
        "ledger_incidents",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("stage", sa.String(100), primary_key=True),
        sa.Column("opened_at", _TIME, primary_key=True),
        sa.Column("revision", sa.String(64), nullable=False),
        sa.Column("cause", sa.String(20), nullable=False),
        sa.Column("closed_at", _TIME),
        sa.Column("restored_by", sa.String(64)),
    )
    op.create_table(
        "ledger_artifacts",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("version", sa.String(200), primary_key=True),
        sa.Column("created_at", _TIME),
        sa.Column("trained_at", _TIME),
    )
    op.create_table(
        "ledger_gates",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("stage", sa.String(100), primary_key=True),
        sa.Column("head_sha", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(200)),
        sa.Column("conclusion", sa.String(20), nullable=False),
        sa.Column("at", _TIME, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ledger_gates",
        "ledger_artifacts",
        "ledger_incidents",
        "ledger_deployments",
        "ledger_promotions",
        "ledger_facts",
    ):
        op.drop_table(table)
