"""Where promotions read artifacts from: MLflow and the container registries."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bot.mlflow.client import MlflowClient
from bot.registry.client import RegistryClient
from bot.settings import Settings


@dataclass(frozen=True)
class ArtifactSources:
    """The clients a promotion handler uses besides GitHub; `mlflow` is None when unset."""

    mlflow: MlflowClient | None
    registry: RegistryClient

    @classmethod
    def from_settings(cls, settings: Settings, session: aiohttp.ClientSession) -> ArtifactSources:
        """Clients on the worker's shared session."""
        url = settings.mlflow_tracking_url
        return cls(
            mlflow=MlflowClient(session, url) if url else None,
            registry=RegistryClient(session, settings.registry_urls),
        )
