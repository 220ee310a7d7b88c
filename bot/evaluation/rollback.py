"""`rollback`: an alert soon after a promotion puts the stage back on its previous version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.context import Context
from bot.forges.port import GitOpsForge
from bot.promotion.branches import promotion_branch
from bot.promotion.engine import PromotionRequest, gitops_forge, promote, stage_files
from bot.promotion.history import previous_deployed
from bot.promotion.plan import read_deployed
from bot.promotion.resolve import candidate_from_deployed
from schemas.pipelines import Pipeline, Stage


@dataclass(frozen=True)
class RollbackOutcome:
    """The rollback PR when one is open now, and why (not)."""

    reason: str
    pull: int | None = None
    url: str = ""
    to_version: str = ""


async def last_promoted_at(forge: GitOpsForge, stage: Stage) -> datetime | None:
    """When the stage's file last changed on its branch (the promotion's merge), from git."""
    history = await forge.file_history(stage.repo, stage.branch, stage.writes[0].file, 1)
    return history[0][1] if history else None


async def rollback_after_alert(
    ctx: Context,
    pipeline: Pipeline,
    stage: Stage,
    fired_at: datetime,
    window_seconds: int,
    labels: list[str],
    why: str,
) -> RollbackOutcome:
    """Open the rollback PR when the stage was promoted within the window before the alert."""
    forge = await gitops_forge(ctx, stage)
    promoted_at = await last_promoted_at(forge, stage)
    if promoted_at is None:
        return RollbackOutcome(f"`{stage.name}`'s file has no history: nothing to roll back")
    if promoted_at > fired_at:
        return RollbackOutcome(
            f"`{stage.name}` was promoted at {promoted_at.isoformat()}, after the alert fired"
        )
    if fired_at - promoted_at > timedelta(seconds=window_seconds):
        return RollbackOutcome(
            f"the last promotion to `{stage.name}` ({promoted_at.isoformat()}) is older than "
            f"the {window_seconds} s rollback window"
        )
    _, files = await stage_files(forge, stage)
    current = read_deployed(stage, files)
    earlier = await previous_deployed(forge, stage, current)
    if earlier is None:
        return RollbackOutcome(f"`{stage.name}` has run only {current.label}: no earlier version")
    branch = promotion_branch(pipeline.name, stage.name)
    pending = await forge.open_change(stage.repo, branch)
    if pending is not None:
        _, proposed_files = await stage_files(forge, stage, ref=pending.head_sha)
        proposed = read_deployed(stage, proposed_files)
        if proposed.label != earlier.label:
            return RollbackOutcome(
                f"a newer promotion is open: #{pending.number} proposes {proposed.label}",
                pending.number,
                pending.url,
            )
    candidate = await candidate_from_deployed(ctx, pipeline, earlier)
    reason = f"{why}; rolling `{stage.name}` back from {current.label} to {earlier.label}"
    # rollback=True: the delivery ledger counts the deployment it replaces as a change failure.
    result = await promote(
        ctx,
        PromotionRequest(pipeline, stage, candidate, "alertmanager", reason, rollback=True),
    )
    if result.pull is None:
        return RollbackOutcome(f"`{stage.name}` already runs {earlier.label}")
    if result.change is not None:
        await forge.add_labels(result.change, labels)
    return RollbackOutcome(
        f"rollback PR #{result.pull.number} to {earlier.label}",
        result.pull.number,
        result.pull.html_url,
        earlier.label,
    )
