"""Retraining on GitHub: markers as refs, training through workflow or repository dispatch."""

from __future__ import annotations

from gidgethub.abc import GitHubAPI

from bot.evaluation.dispatch import TrainingRequest, dispatch_training
from bot.evaluation.markers import Marker, read_marker, write_marker
from bot.promotion.gitdata import RepoRef
from schemas.evaluation import RetrainConfig


class GitHubTraining:
    """The training repository on GitHub, through the installation client covering it."""

    def __init__(self, gh: GitHubAPI, config: RetrainConfig) -> None:
        self._gh = gh
        self._config = config
        self._repo = RepoRef.parse(config.repo)

    async def read_marker(self, name: str) -> Marker | None:
        """The marker commit a ref under `refs/ferrybot/retrain/` points at."""
        return await read_marker(self._gh, self._repo, name)

    async def write_marker(self, names: list[str], marker: Marker) -> None:
        """One parentless marker commit, every ref pointed at it."""
        await write_marker(self._gh, self._repo, self._config.ref, names, marker)

    async def dispatch(self, request: TrainingRequest) -> str:
        """The workflow or repository dispatch."""
        return await dispatch_training(self._gh, self._config, request)
