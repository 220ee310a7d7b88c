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
    found = _stage_of_branch(config, pull.head.ref, ForgeKind.GITHUB)
    if found is None:
        return None
    pipeline, stage = found
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
    found = _stage_of_branch(config, attributes.source_branch, ForgeKind.GITLAB)
    if found is None:
        return None
    pipeline, stage = found
    # A fork's MR carries the same branch name; only one from the stage's project counts.
    same_project = event.project.path_with_namespace.lower() == stage.repo.lower()
    from_itself = attributes.source_project_id == attributes.target_project_id
    if not same_project or not from_itself or attributes.target_branch != stage.branch:
        return None
    return pipeline, stage


def _stage_of_branch(
    config: BotConfig, branch: str, forge: ForgeKind
) -> tuple[Pipeline, Stage] | None:
    """The configured stage on `forge` a promotion branch names, if any."""
    parsed = parse_promotion_branch(branch)
    if parsed is None:
        return None
    pipeline = config.pipeline(parsed[0])
    stage = pipeline.stage(parsed[1]) if pipeline is not None else None
    if pipeline is None or stage is None or stage.forge is not forge:
        return None
    return pipeline, stage
