"""A merged promotion PR: announce it, and open the next stage's PR when that stage is automatic."""

from __future__ import annotations

from bot.context import Context
from bot.pipeline.dispatch import on
from bot.promotion.engine import PromotionRequest, promote, stage_files
from bot.promotion.lookup import promotion_of
from bot.promotion.plan import read_deployed
from bot.promotion.resolve import candidate_from_deployed
from schemas.audit import AuditRecord
from schemas.github import PullRequestEvent
from schemas.notification import Notification, NotificationKind


@on("pull_request.closed")
async def next_stage_on_merge(ctx: Context) -> None:
    """Stage N merged → stage N+1's promotion PR with what stage N now runs."""
    event = ctx.event(PullRequestEvent)
    found = promotion_of(ctx.config, event)
    if found is None or not event.pull_request.merged:
        return
    pipeline, stage = found
    pull = event.pull_request
    _, files = await stage_files(ctx.gh, stage)
    deployed = read_deployed(stage, files)
    subject = f"pipeline/{pipeline.name}/{stage.name}"
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:merged:{pipeline.name}:{stage.name}",
            delivery_id=ctx.envelope.id,
            actor=event.sender.login,
            action="promotion.merged",
            subject=subject,
            to_value=deployed.label,
            reason=f"#{pull.number} merged",
            # The ledger ties deployments to this PR by the merge commit GitOps controllers sync.
            details={
                "pipeline": pipeline.name,
                "stage": stage.name,
                "repo": stage.repo,
                "pull": pull.number,
                "url": pull.html_url,
                "merge_commit_sha": pull.merge_commit_sha,
                "merged_at": pull.merged_at,
            },
        )
    )
    upcoming = pipeline.next_stage(stage.name)
    waiting = upcoming is not None and not upcoming.auto
    text = f"Next: `/promote {pipeline.name} to {upcoming.name}`." if upcoming and waiting else ""
    await ctx.notify(
        Notification(
            kind=NotificationKind.PROMOTION_MERGED,
            subject=subject,
            title=f"{pipeline.name} {deployed.label} merged to {stage.name}",
            text=text,
            fields={"pipeline": pipeline.name, "stage": stage.name, "by": event.sender.login},
            links={f"#{pull.number}": pull.html_url} if pull.html_url else {},
            delivery_id=ctx.envelope.id,
            repository=stage.repo,
            pipeline=pipeline.name,
        )
    )
    if upcoming is None or waiting:
        ctx.log.info("promotion.merged", pipeline=pipeline.name, stage=stage.name, waiting=waiting)
        return
    candidate = await candidate_from_deployed(ctx, pipeline, deployed)
    reason = f"{stage.name} promotion #{pull.number} merged by {event.sender.login}"
    await promote(ctx, PromotionRequest(pipeline, upcoming, candidate, event.sender.login, reason))
