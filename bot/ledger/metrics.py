"""DORA and model metrics per pipeline and stage, over a window ending at a given time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.ledger.project import DeploymentRow, Projection


@dataclass(frozen=True)
class StageNow:
    """What runs in a stage now, per the ledger."""

    version: str | None
    since: datetime | None
    health: str  # healthy, degraded, failed, unknown
    pull: int | None
    revision: str | None


@dataclass(frozen=True)
class StageMetrics:
    """One row of the board and of `ferrybot metrics`."""

    pipeline: str
    stage: str
    now: StageNow
    deployments: int
    deployments_per_day: float
    lead_time_p50_seconds: float | None
    lead_time_p90_seconds: float | None
    change_failure_rate: float | None
    failed_deployments: int
    time_to_restore_p50_seconds: float | None
    restores: int
    open_incident_since: datetime | None
    model_freshness_seconds: float | None
    promotion_cycle_p50_seconds: float | None
    gate_pass_rate: float | None
    gates: int
    retraining_cycle_p50_seconds: float | None
    retraining_cycles: int

    def as_json(self) -> dict[str, Any]:
        """JSON-ready (times as RFC 3339)."""

        def convert(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            return value

        converted: dict[str, Any] = convert(asdict(self))
        return converted


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): an observed value, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def stage_metrics(
    projection: Projection,
    stages: Sequence[tuple[str, str]],
    now: datetime,
    window_days: int,
) -> list[StageMetrics]:
    """Rows for the (pipeline, stage) pairs given (config order) plus any others the ledger has."""
    start = now - timedelta(days=window_days)
    seen = {(d.pipeline, d.stage) for d in projection.deployments}
    seen |= {(p.pipeline, p.stage) for p in projection.promotions}
    seen |= {(c.pipeline, c.stage) for c in projection.retrain_cycles}
    known = list(stages) + sorted(seen - set(stages))
    last_stage = {pipeline: stage for pipeline, stage in stages}
    rows = []
    for pipeline, stage in known:
        deployed = [d for d in projection.deployments if (d.pipeline, d.stage) == (pipeline, stage)]
        in_window = [d for d in deployed if d.succeeded_at and start <= d.succeeded_at <= now]
        leads = [d.lead_time_seconds for d in in_window if d.lead_time_seconds is not None]
        failed = [d for d in in_window if d.change_failure]
        incidents = [i for i in projection.incidents if (i.pipeline, i.stage) == (pipeline, stage)]
        restored = [
            i.restore_seconds
            for i in incidents
            if i.closed_at and start <= i.closed_at <= now and i.restore_seconds is not None
        ]
        open_incident = next(
            (i for i in incidents if i.closed_at is None and i.opened_at <= now), None
        )
        current = _current(deployed, now)
        gates = [
            g
            for g in projection.gates
            if (g.pipeline, g.stage) == (pipeline, stage) and start <= g.at <= now
        ]
        retrained = [
            c.seconds
            for c in projection.retrain_cycles
            if (c.pipeline, c.stage) == (pipeline, stage) and start <= c.promoted_at <= now
        ]
        rows.append(
            StageMetrics(
                pipeline=pipeline,
                stage=stage,
                now=StageNow(
                    version=current.version if current else None,
                    since=current.succeeded_at if current else None,
                    health=(open_incident.cause if open_incident else "healthy")
                    if current
                    else "unknown",
                    pull=current.pull if current else None,
                    revision=current.revision if current else None,
                ),
                deployments=len(in_window),
                deployments_per_day=round(len(in_window) / window_days, 4),
                lead_time_p50_seconds=percentile(leads, 50),
                lead_time_p90_seconds=percentile(leads, 90),
                change_failure_rate=round(len(failed) / len(in_window), 4) if in_window else None,
                failed_deployments=len(failed),
                time_to_restore_p50_seconds=percentile(restored, 50),
                restores=len(restored),
                open_incident_since=open_incident.opened_at if open_incident else None,
                model_freshness_seconds=_freshness(projection, pipeline, current, now),
                promotion_cycle_p50_seconds=_cycle(projection, pipeline, in_window)
                if last_stage.get(pipeline) == stage
                else None,
                gate_pass_rate=round(sum(g.conclusion == "success" for g in gates) / len(gates), 4)
                if gates
                else None,
                gates=len(gates),
                retraining_cycle_p50_seconds=percentile(retrained, 50),
                retraining_cycles=len(retrained),
            )
        )
    return rows


def _current(deployed: list[DeploymentRow], now: datetime) -> DeploymentRow | None:
    done = [d for d in deployed if d.succeeded_at and d.succeeded_at <= now]
    return max(done, key=lambda d: (d.succeeded_at, d.revision)) if done else None


def _freshness(
    projection: Projection, pipeline: str, current: DeploymentRow | None, now: datetime
) -> float | None:
    if current is None:
        return None
    for artifact in projection.artifacts:
        if artifact.pipeline == pipeline and artifact.version == current.version:
            dated = artifact.trained_at or artifact.created_at
            return (now - dated).total_seconds() if dated else None
    return None


def _cycle(projection: Projection, pipeline: str, in_window: list[DeploymentRow]) -> float | None:
    """Version registered → running in the pipeline's last stage."""
    created = {a.version: a.created_at for a in projection.artifacts if a.pipeline == pipeline}
    cycles = [
        (d.succeeded_at - created_at).total_seconds()
        for d in in_window
        if d.succeeded_at and (created_at := created.get(d.version or "")) is not None
    ]
    return percentile(cycles, 50)
