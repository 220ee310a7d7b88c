"""Where promotions read artifacts from: MLflow and the container registries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from gidgethub.abc import GitHubAPI

from bot.mlflow.client import MlflowClient
from bot.registry.client import RegistryClient
from bot.settings import Settings
from bot.trust.cache import VerdictCache
from bot.trust.images import ImageVerdict


@dataclass(frozen=True)
class ArtifactSources:
    """The clients a promotion handler uses besides the event's GitHub client.

    `mlflow` is None when no tracking URL is set; `github_for(owner, repo)` gives a client
    for the installation covering a GitOps repository (MLflow and registry events have none).
    """

    mlflow: MlflowClient | None
    registry: RegistryClient
    github_for: Callable[[str, str], Awaitable[GitHubAPI]]
    # Image verdicts per digest, key set and policy, for as long as `trust.cache_seconds`.
    image_verdicts: VerdictCache[ImageVerdict] = field(default_factory=VerdictCache)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        session: aiohttp.ClientSession,
        github_for: Callable[[str, str], Awaitable[GitHubAPI]],
    ) -> ArtifactSources:
        """Clients on the worker's shared session."""
        url = settings.mlflow_tracking_url
        return cls(
            mlflow=MlflowClient(session, url) if url else None,
            registry=RegistryClient(session, settings.registry_urls, settings.registry_credentials),
            github_for=github_for,
        )
