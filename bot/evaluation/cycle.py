"""The retraining cycle: from the alert that started training to a new version in the stage."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.context import Context
from bot.evaluation.markers import ref_name
from bot.evaluation.training import training_repository
from schemas.audit import AuditRecord
from schemas.pipelines import Pipeline, Stage


def _numbers(version: str) -> tuple[int, ...] | None:
    parts = version.removeprefix("v").split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def is_newer(version: str, than: str) -> bool:
    """A retrained model has a higher version (or tag) number; other tags just have to differ,
    so a rollback to an older number never counts as the new version."""
    mine, theirs = _numbers(version), _numbers(than)
    if mine is not None and theirs is not None:
        return mine > theirs
    return version not in (than, "none")


async def close_cycle(ctx: Context, pipeline: Pipeline, stage: Stage, promoted: str) -> bool:
    """Audit the cycle when `promoted` (now merged to `stage`) is newer than what was retrained."""
    if pipeline.retrain is None:
        return False
    training = await training_repository(ctx, pipeline.retrain)
    last = ref_name(pipeline.name, "last")
    marker = await training.read_marker(last)
    if marker is None or marker.completed_at or marker.stage != stage.name:
        return False
    if not is_newer(promoted, marker.version):
        return False
    now = datetime.now(UTC)
    fired = datetime.fromisoformat(marker.fired_at)
    seconds = round((now - fired).total_seconds(), 3)
    await ctx.audit(
        AuditRecord(
            id=f"retrain-cycle:{pipeline.name}:{marker.episode}",
            delivery_id=ctx.envelope.id,
            actor="ferrybot",
            action="retrain.cycle_completed",
            subject=f"pipeline/{pipeline.name}/{stage.name}",
            from_value=marker.version,
            to_value=promoted,
            reason=f"{marker.alert} fired at {marker.fired_at}; {promoted} reached "
            f"{stage.name} {seconds:g} s later",
            details={
                "pipeline": pipeline.name,
                "stage": stage.name,
                "alert": marker.alert,
                "fingerprint": marker.fingerprint,
                "fired_at": marker.fired_at,
                "dispatched_at": marker.dispatched_at,
                "promoted_at": now.isoformat(),
                "cycle_seconds": seconds,
                "episode": marker.episode,
            },
        )
    )
    # After the audit: a crash in between re-audits under the same id, which readers dedupe.
    await training.write_marker([last], marker.completed(now, promoted))
    ctx.log.info("retrain.cycle_completed", pipeline=pipeline.name, seconds=seconds)
    return True
