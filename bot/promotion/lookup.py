"""From a pull request back to its pipeline and stage (never trusting the branch name alone)."""

from __future__ import annotations

from bot.promotion.branches import parse_promotion_branch
from schemas.config import BotConfig
from schemas.github import PullRequestEvent
from schemas.pipelines import Pipeline, Stage


def promotion_of(config: BotConfig, event: PullRequestEvent) -> tuple[Pipeline, Stage] | None:
    """The pipeline and stage of a promotion PR whose branch, repo and base all match."""
    pull = event.pull_request
    parsed = parse_promotion_branch(pull.head.ref)
    if parsed is None:
        return None
    pipeline = config.pipeline(parsed[0])
    stage = pipeline.stage(parsed[1]) if pipeline is not None else None
    if pipeline is None or stage is None:
        return None
    # Anyone can push a branch with this name to any repo; only the stage's own repo counts.
    same_repo = event.repository.full_name.lower() == stage.repo.lower()
    head_repo = pull.head.repo.full_name.lower() if pull.head.repo else stage.repo.lower()
    if not same_repo or head_repo != stage.repo.lower() or pull.base.ref != stage.branch:
        return None
    return pipeline, stage
