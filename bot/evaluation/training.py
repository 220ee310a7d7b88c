"""The training repository, on either forge: remembered dispatches (markers) and the dispatch."""

from __future__ import annotations

from typing import Protocol

from bot.context import Context
from bot.evaluation.dispatch import TrainingRequest
from bot.evaluation.markers import Marker
from bot.forges.github.training import GitHubTraining
from bot.forges.gitlab.training import GitLabTraining
from bot.pipeline.retry import PermanentError
from bot.promotion.gitdata import RepoRef
from schemas.evaluation import RetrainConfig
from schemas.forges import ForgeKind


class TrainingRepository(Protocol):
    """What retraining needs from the repository whose workflow or pipeline trains the model."""

    async def read_marker(self, name: str) -> Marker | None:
        """The marker stored under `name`, or None."""
        ...

    async def write_marker(self, names: list[str], marker: Marker) -> None:
        """Store `marker` under every name in `names` (created or replaced)."""
        ...

    async def dispatch(self, request: TrainingRequest) -> str:
        """Start training; the run's URL when the forge says it."""
        ...


async def training_repository(ctx: Context, config: RetrainConfig) -> TrainingRepository:
    """The training repository of `config`, through the client that covers it."""
    if config.forge is ForgeKind.GITLAB:
        if ctx.forges is None:
            raise PermanentError("retraining is on GitLab, but no GitLab client is set up")
        return GitLabTraining(ctx.forges.gitlab.client, config)
    if ctx.sources is None:
        return GitHubTraining(ctx.gh, config)
    repo = RepoRef.parse(config.repo)
    return GitHubTraining(await ctx.sources.github_for(repo.owner, repo.name), config)
