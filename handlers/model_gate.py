"""`ferrybot/model-gate` on promotion PRs whose head moved (the bot's own commits run it inline)."""

from __future__ import annotations

from bot.context import Context
from bot.forges.github.changes import change_from_pull
from bot.forges.github.gitops import GitHubGitOps
from bot.pipeline.dispatch import on
from bot.promotion.engine import run_model_gate, stage_files
from bot.promotion.lookup import promotion_of
from bot.promotion.plan import read_deployed
from bot.promotion.resolve import model_candidate
from schemas.github import PullRequestEvent


@on("pull_request.opened", "pull_request.reopened", "pull_request.synchronize")
async def model_gate(ctx: Context) -> None:
    """Gate the version the PR head names against the version the base branch runs."""
    event = ctx.event(PullRequestEvent)
    found = promotion_of(ctx.config, event)
    if found is None:
        return
    pipeline, stage = found
    if stage.gate is None or pipeline.model is None:
        return
    head = event.pull_request.head.sha
    forge = GitHubGitOps(ctx.gh)
    _, head_files = await stage_files(forge, stage, ref=head)
    _, base_files = await stage_files(forge, stage)
    proposed = read_deployed(stage, head_files)
    if proposed.version is None:
        ctx.log.info("gate.no_version", pipeline=pipeline.name, stage=stage.name)
        return
    candidate = await model_candidate(ctx, pipeline, proposed.version)
    deployed = read_deployed(stage, base_files)
    change = change_from_pull(
        event.repository.owner_login,
        event.repository.name,
        event.pull_request,
        event.pull_request.label_names,
    )
    await run_model_gate(ctx, forge, pipeline, stage, candidate, deployed, change)
