"""A merged promotion PR: announce it, and open the next stage's PR when that stage is automatic."""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import Context
from bot.forges.github.gitops import GitHubGitOps
from bot.forges.port import GitOpsForge
from bot.pipeline.dispatch import on
from bot.promotion.engine import PromotionRequest, gitops_forge, promote, stage_files
from bot.promotion.lookup import gitlab_promotion_of, promotion_of
from bot.promotion.plan import read_deployed
from bot.promotion.resolve import candidate_from_deployed
from schemas.audit import AuditRecord
from schemas.envelope import Source
from schemas.github import PullRequestEvent
from schemas.gitlab import MergeRequestHook
from schemas.notification import Notification, NotificationKind
from schemas.pipelines import Pipeline, Stage


@dataclass(frozen=True)
class Merged:
    """A merged promotion change request, whichever forge it was on."""

    reference: str  # `#12` on GitHub, `!12` on GitLab
    number: int
    url: str | None
    merged_by: str
    merge_commit_sha: str | None
    merged_at: str | None


@on("pull_request.closed")
async def next_stage_on_merge(ctx: Context) -> None:
    """Stage N merged → stage N+1's promotion PR with what stage N now runs."""
    event = ctx.event(PullRequestEvent)
    found = promotion_of(ctx.config, event)
    if found is None or not event.pull_request.merged:
        return
    pipeline, stage = found
    pull = event.pull_request
    merged = Merged(
        f"#{pull.number}",
        pull.number,
        pull.html_url,
        event.sender.login,
        pull.merge_commit_sha,
        pull.merged_at,
    )
    await advance_after_merge(ctx, GitHubGitOps(ctx.gh), pipeline, stage, merged)


@on("merge_request.merge", source=Source.GITLAB)
async def next_stage_on_gitlab_merge(ctx: Context) -> None:
    """A merged promotion merge request on GitLab → the next stage, as on GitHub."""
    event = ctx.event(MergeRequestHook)
    attributes = event.object_attributes
    found = gitlab_promotion_of(ctx.config, event)
    if found is None or attributes.state != "merged":
        return
    pipeline, stage = found
    merged = Merged(
        f"!{attributes.iid}",
        attributes.iid,
        attributes.url,
        event.user.username,
        attributes.merge_commit_sha,
        attributes.updated_at,
    )
    await advance_after_merge(ctx, await gitops_forge(ctx, stage), pipeline, stage, merged)


async def advance_after_merge(
    ctx: Context, forge: GitOpsForge, pipeline: Pipeline, stage: Stage, merged: Merged
) -> None:
    """Record the merge, announce it, and promote the next stage when that one is automatic."""
    _, files = await stage_files(forge, stage)
    deployed = read_deployed(stage, files)
    subject = f"pipeline/{pipeline.name}/{stage.name}"
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:merged:{pipeline.name}:{stage.name}",
            delivery_id=ctx.envelope.id,
            actor=merged.merged_by,
            action="promotion.merged",
            subject=subject,
            to_value=deployed.label,
            reason=f"{merged.reference} merged",
            # The ledger ties deployments to this PR by the merge commit GitOps controllers sync.
            details={
                "pipeline": pipeline.name,
                "stage": stage.name,
                "repo": stage.repo,
                "forge": stage.forge.value,
                "pull": merged.number,
                "url": merged.url,
                "merge_commit_sha": merged.merge_commit_sha,
                "merged_at": merged.merged_at,
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
            fields={"pipeline": pipeline.name, "stage": stage.name, "by": merged.merged_by},
            links={merged.reference: merged.url} if merged.url else {},
            delivery_id=ctx.envelope.id,
            repository=stage.repo,
            pipeline=pipeline.name,
        )
    )
    if upcoming is None or waiting:
        ctx.log.info("promotion.merged", pipeline=pipeline.name, stage=stage.name, waiting=waiting)
        return
    candidate = await candidate_from_deployed(ctx, pipeline, deployed)
    reason = f"{stage.name} promotion {merged.reference} merged by {merged.merged_by}"
    await promote(ctx, PromotionRequest(pipeline, upcoming, candidate, merged.merged_by, reason))
