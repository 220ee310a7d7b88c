"""`ferrybot/model-gate` on promotion PRs and MRs whose head moved (the bot's own run it inline)."""

from __future__ import annotations

from bot.context import Context
from bot.forges.github.changes import change_from_pull
from bot.forges.github.gitops import GitHubGitOps
from bot.forges.port import ChangeRequest, GitOpsForge
from bot.pipeline.dispatch import on
from bot.promotion.engine import gitops_forge, run_model_gate, stage_files
from bot.promotion.lookup import gitlab_promotion_of, promotion_of
from bot.promotion.plan import read_deployed
from bot.promotion.resolve import model_candidate
from schemas.envelope import Source
from schemas.github import PullRequestEvent
from schemas.gitlab import MergeRequestHook
from schemas.pipelines import Pipeline, Stage


@on("pull_request.opened", "pull_request.reopened", "pull_request.synchronize")
async def model_gate(ctx: Context) -> None:
    """Gate the version the PR head names against the version the base branch runs."""
    event = ctx.event(PullRequestEvent)
    found = promotion_of(ctx.config, event)
    if found is None:
        return
    pipeline, stage = found
    change = change_from_pull(
        event.repository.owner_login,
        event.repository.name,
        event.pull_request,
        event.pull_request.label_names,
    )
    await gate_head(ctx, GitHubGitOps(ctx.gh), pipeline, stage, change)


@on("merge_request.update", source=Source.GITLAB)
async def gitlab_model_gate(ctx: Context) -> None:
    """Gate a GitLab promotion MR again when commits were pushed to it (`oldrev` set)."""
    event = ctx.event(MergeRequestHook)
    found = gitlab_promotion_of(ctx.config, event)
    if found is None or event.object_attributes.oldrev is None:
        return
    pipeline, stage = found
    await gate_head(ctx, await gitops_forge(ctx, stage), pipeline, stage, await ctx.change())


async def gate_head(
    ctx: Context, forge: GitOpsForge, pipeline: Pipeline, stage: Stage, change: ChangeRequest
) -> None:
    """The gate for the version the change's head names, against what the base runs now."""
    if stage.gate is None or pipeline.model is None:
        return
    _, head_files = await stage_files(forge, stage, ref=change.head_sha)
    _, base_files = await stage_files(forge, stage)
    proposed = read_deployed(stage, head_files)
    if proposed.version is None:
        ctx.log.info("gate.no_version", pipeline=pipeline.name, stage=stage.name)
        return
    candidate = await model_candidate(ctx, pipeline, proposed.version)
    deployed = read_deployed(stage, base_files)
    await run_model_gate(ctx, forge, pipeline, stage, candidate, deployed, change)
