"""A small MLflow REST client on the shared aiohttp session: versions, aliases, run metrics."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.pipeline.retry import PermanentError, TransientError
from schemas.mlflow import ModelVersion, RunData, RunInfo

_TIMEOUT = aiohttp.ClientTimeout(total=15)
_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}


class MlflowClient:
    """Reads the model registry; a missing entity is None, failures are typed for retry."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")

    async def _get(self, endpoint: str, params: dict[str, str]) -> dict[str, Any] | None:
        url = f"{self.base_url}/api/2.0/mlflow/{endpoint}"
        async with self._session.get(url, params=params, timeout=_TIMEOUT) as response:
            try:
                body: Any = await response.json(content_type=None)
            except ValueError:
                body = None
            if response.status == 200 and isinstance(body, dict):
                return body
            code = body.get("error_code") if isinstance(body, dict) else None
            if response.status == 404 or code in _NOT_FOUND:
                return None
            if response.status == 429 or response.status >= 500:
                raise TransientError(f"MLflow answered {response.status} on {endpoint}")
            raise PermanentError(
                f"MLflow refused {endpoint} with {response.status} {code or ''}".rstrip()
            )

    async def model_version(self, name: str, version: str) -> ModelVersion | None:
        """The registered version, or None when MLflow does not know it."""
        body = await self._get("model-versions/get", {"name": name, "version": version})
        return None if body is None else ModelVersion.model_validate(body["model_version"])

    async def version_by_alias(self, name: str, alias: str) -> ModelVersion | None:
        """The version an alias points at, or None."""
        body = await self._get("registered-models/alias", {"name": name, "alias": alias})
        return None if body is None else ModelVersion.model_validate(body["model_version"])

    async def versions(self, name: str) -> list[ModelVersion]:
        """Every version of a model (the reconciler's view), newest first."""
        found: list[ModelVersion] = []
        token: str | None = None
        while True:
            params = {"filter": f"name='{name}'", "max_results": "200"}
            if token:
                params["page_token"] = token
            body = await self._get("model-versions/search", params) or {}
            found += [ModelVersion.model_validate(v) for v in body.get("model_versions", [])]
            token = body.get("next_page_token")
            if not token:
                return sorted(found, key=lambda v: int(v.version), reverse=True)

    async def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of each metric logged on a run (empty when the run is gone)."""
        return (await self.run(run_id))[0]

    async def run(self, run_id: str) -> tuple[dict[str, float], RunInfo]:
        """A run's latest metric values and its start/end times (empty when the run is gone)."""
        body = await self._get("runs/get", {"run_id": run_id})
        if body is None:
            return {}, RunInfo()
        run = body.get("run", {})
        data = RunData.model_validate(run.get("data", {}))
        return {metric.key: metric.value for metric in data.metrics}, RunInfo.model_validate(
            run.get("info", {})
        )

    async def run_params(self, run_id: str) -> dict[str, str]:
        """The parameters logged on a run (empty when the run is gone)."""
        body = await self._get("runs/get", {"run_id": run_id})
        if body is None:
            return {}
        data = RunData.model_validate(body.get("run", {}).get("data", {}))
        return {param.key: param.value for param in data.params}

    async def run_artifact_uri(self, run_id: str) -> str | None:
        """Where a run's artifacts are stored (`info.artifact_uri`), None when the run is gone."""
        body = await self._get("runs/get", {"run_id": run_id})
        uri = (body or {}).get("run", {}).get("info", {}).get("artifact_uri")
        return uri if isinstance(uri, str) and uri else None

    def version_url(self, name: str, version: str) -> str:
        """The registry page of a version, for PR bodies and chat."""
        return f"{self.base_url}/#/models/{name}/versions/{version}"
