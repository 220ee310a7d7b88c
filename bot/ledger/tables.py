"""The ledger's tables (SQLAlchemy Core); Alembic's migrations create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# Every fact ever applied; its key makes applying an event twice change nothing.
facts = Table(
    "ledger_facts",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("kind", String(20), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(40), nullable=False),
    Column("source", String(40), nullable=False),
    Column("pipeline", String(100)),
    Column("stage", String(100)),
    Column("repo", String(300)),
    Column("revision", String(64), index=True),
    Column("version", String(200)),
    Column("target", String(300)),
    Column("pull", Integer),
    Column("data", JSON, nullable=False),
)

promotions = Table(
    "ledger_promotions",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("stage", String(100), primary_key=True),
    Column("pull", Integer, primary_key=True),
    Column("repo", String(300)),
    Column("version", String(200)),
    Column("status", String(20), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("merged_at", DateTime(timezone=True)),
    Column("merge_sha", String(64)),
    Column("head_sha", String(64)),
    Column("url", Text),
    Column("rollback", Boolean, nullable=False),
)

deployments = Table(
    "ledger_deployments",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("stage", String(100), primary_key=True),
    Column("revision", String(64), primary_key=True),
    Column("version", String(200)),
    Column("pull", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("sources", String(200), nullable=False),
    Column("targets", Text, nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("succeeded_at", DateTime(timezone=True)),
    Column("lead_time_seconds", Float),
    Column("change_failure", Boolean, nullable=False),
    Column("rollback", Boolean, nullable=False),
)

incidents = Table(
    "ledger_incidents",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("stage", String(100), primary_key=True),
    Column("opened_at", DateTime(timezone=True), primary_key=True),
    Column("revision", String(64), nullable=False),
    Column("cause", String(20), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("restored_by", String(64)),
)

artifacts = Table(
    "ledger_artifacts",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("version", String(200), primary_key=True),
    Column("created_at", DateTime(timezone=True)),
    Column("trained_at", DateTime(timezone=True)),
)

gates = Table(
    "ledger_gates",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("stage", String(100), primary_key=True),
    Column("head_sha", String(64), primary_key=True),
    Column("version", String(200)),
    Column("conclusion", String(20), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

retrain_cycles = Table(
    "ledger_retrain_cycles",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("episode", String(200), primary_key=True),
    Column("stage", String(100), nullable=False),
    Column("fingerprint", String(200)),
    Column("version", String(200)),
    Column("fired_at", DateTime(timezone=True), nullable=False),
    Column("promoted_at", DateTime(timezone=True), nullable=False),
    Column("seconds", Float, nullable=False),
)

# The derived tables, in the order they are replaced.
DERIVED = (promotions, deployments, incidents, artifacts, gates, retrain_cycles)
