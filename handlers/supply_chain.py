"""`ferrybot/supply-chain` again when a promotion PR's head moves (someone pushed to its branch)."""

from __future__ import annotations

from bot.context import Context
from bot.forges.github.changes import change_from_pull
from bot.pipeline.dispatch import on
from bot.promotion.candidate import Candidate
from bot.promotion.engine import gitops_forge, stage_files
from bot.promotion.lookup import promotion_of
from bot.promotion.plan import read_deployed
from bot.promotion.resolve import image_candidate, model_candidate
from bot.promotion.supply_chain import verify_candidate
from bot.registry.client import ImageRef
from schemas.github import PullRequestEvent


@on("pull_request.opened", "pull_request.reopened", "pull_request.synchronize")
async def supply_chain(ctx: Context) -> None:
    """Verify what the PR head deploys that the base does not, and publish the verdict there."""
    event = ctx.event(PullRequestEvent)
    found = promotion_of(ctx.config, event)
    if found is None:
        return
    pipeline, stage = found
    if stage.supply_chain is None:
        return
    forge = await gitops_forge(ctx, stage)
    head = event.pull_request.head.sha
    _, head_files = await stage_files(forge, stage, ref=head)
    _, base_files = await stage_files(forge, stage)
    proposed, deployed = read_deployed(stage, head_files), read_deployed(stage, base_files)
    model = image = None
    if pipeline.model is not None and proposed.version and proposed.version != deployed.version:
        model = (await model_candidate(ctx, pipeline, proposed.version)).model
    moved = (proposed.tag, proposed.digest) != (deployed.tag, deployed.digest)
    if pipeline.image is not None and proposed.tag and moved:
        if proposed.digest is not None:
            image = ImageRef(pipeline.image.repository, proposed.tag, proposed.digest)
        else:
            resolved = await image_candidate(ctx, pipeline, proposed.tag)
            image = resolved.image if resolved is not None else None
    if model is None and image is None and not (proposed.tag and moved):
        ctx.log.info("supply_chain.nothing_moves", pipeline=pipeline.name, stage=stage.name)
        return
    candidate = Candidate(model=model, image=image)
    result = await verify_candidate(ctx, pipeline, stage, candidate, ctx.config.trust)
    assert result is not None
    change = change_from_pull(
        event.repository.owner_login,
        event.repository.name,
        event.pull_request,
        event.pull_request.label_names,
    )
    await forge.set_check(change, result.check(candidate))
    ctx.log.info("supply_chain.published", passed=result.passed, sha=head)
