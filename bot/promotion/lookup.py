"""From a pull or merge request back to its pipeline and stage (never the branch name alone)."""

from __future__ import annotations

from bot.promotion.branches import parse_promotion_branch
from schemas.config import BotConfig
from schemas.forges import ForgeKind
from schemas.github import PullRequestEvent
from schemas.gitlab import MergeRequestHook
from schemas.pipelines import Pipeline, Stage


def promotion_of(config: BotConfig, event: PullRequestEvent) -> tuple[Pipeline, Stage] | None:
    """The pipeline and stage of a promotion PR whose branch, repo and base all match."""
    pull = event.pull_request
    parsed = parse_promotion_branch(pull.head.ref)
    if parsed is None:
        return None
    pipeline = config.pipeline(parsed[0])
    stage = pipeline.stage(parsed[1]) if pipeline is not None else None
    if pipeline is None or stage is None or stage.forge is not ForgeKind.GITHUB:
        return None
    # Anyone can push a branch with this name to any repo; only the stage's own repo counts.
    same_repo = event.repository.full_name.lower() == stage.repo.lower()
    head_repo = pull.head.repo.full_name.lower() if pull.head.repo else stage.repo.lower()
    if not same_repo or head_repo != stage.repo.lower() or pull.base.ref != stage.branch:
        return None
    return pipeline, stage


def gitlab_promotion_of(
    config: BotConfig, event: MergeRequestHook
) -> tuple[Pipeline, Stage] | None:
    """The pipeline and stage of a GitLab promotion MR from the stage's own project."""
    attributes = event.object_attributes
    parsed = parse_promotion_branch(attributes.source_branch)
    if parsed is None:
        return None
    pipeline = config.pipeline(parsed[0])
    stage = pipeline.stage(parsed[1]) if pipeline is not None else None
    if pipeline is None or stage is None or stage.forge is not ForgeKind.GITLAB:
        return None
    # A fork's MR carries the same branch name; only one from the stage's project counts.
    same_project = event.project.path_with_namespace.lower() == stage.repo.lower()
    from_itself = attributes.source_project_id == attributes.target_project_id
    if not same_project or not from_itself or attributes.target_branch != stage.branch:
        return None
    return pipeline, stage
