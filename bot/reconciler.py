"""Polls MLflow for the aliases, tags and versions of configured models that webhooks missed."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import aiohttp

from bot.logs import get_logger
from bot.mlflow.client import MlflowClient
from bot.pipeline.bus import BusUnavailable, EventProducer
from bot.pipeline.retry import PermanentError, TransientError
from bot.settings import Settings
from schemas.envelope import Envelope, Source
from schemas.pipelines import ModelArtifact

log = get_logger(component="reconciler")


def _envelope(entity: str, action: str, data: dict[str, str], key: str) -> Envelope:
    # The id is deterministic from what was seen, so repeated polls dedupe in the worker, and
    # the promotion itself is idempotent when a webhook already delivered the same change.
    return Envelope(
        id=f"reconcile:{data['name']}:{key}"[:200],
        source=Source.MLFLOW,
        event=entity,
        action=action,
        subject=f"model/{data['name']}",
        payload={
            "entity": entity,
            "action": action,
            "timestamp": datetime.now(UTC).isoformat(),
            "data": data,
        },
    )


async def model_envelopes(mlflow: MlflowClient, model: ModelArtifact) -> list[Envelope]:
    """The trigger events a model's current MLflow state implies, as MLflow would send them."""
    name = model.name
    found: list[Envelope] = []
    if model.alias is not None:
        version = await mlflow.version_by_alias(name, model.alias)
        if version is not None:
            data = {"name": name, "alias": model.alias, "version": version.version}
            key = f"alias:{model.alias}:{version.version}"
            found.append(_envelope("model_version_alias", "created", data, key))
    if model.tag or model.on_created:
        versions = await mlflow.versions(name)
        for key, value in model.tag.items():
            tagged = next((v for v in versions if v.tag_map.get(key) == value), None)
            if tagged is not None:
                data = {"name": name, "version": tagged.version, "key": key, "value": value}
                event_key = f"tag:{key}={value}:{tagged.version}"
                found.append(_envelope("model_version_tag", "set", data, event_key))
        if model.on_created and versions:
            data = {"name": name, "version": versions[0].version}
            found.append(_envelope("model_version", "created", data, f"created:{data['version']}"))
    return found


class Reconciler:
    """Every `reconcile_interval_seconds`, emits the configured models' trigger events."""

    def __init__(
        self, settings: Settings, producer: EventProducer, session: aiohttp.ClientSession
    ) -> None:
        self._settings = settings
        self._producer = producer
        url = settings.mlflow_tracking_url
        self._mlflow = MlflowClient(session, url) if url else None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Nothing to connect: MLflow is asked on each round."""
        enabled = self._mlflow is not None and self._settings.reconcile_enabled
        log.info("reconciler.started", models=len(self._models()), enabled=enabled)

    def _models(self) -> list[ModelArtifact]:
        return [p.model for p in self._settings.bot.pipelines if p.model is not None]

    async def poll_once(self) -> list[Envelope]:
        """One round: every configured model's events, produced to the events topic."""
        if self._mlflow is None:
            return []
        produced: list[Envelope] = []
        for model in self._models():
            try:
                envelopes = await model_envelopes(self._mlflow, model)
                for envelope in envelopes:
                    await self._producer.send_envelope(envelope)
                    produced.append(envelope)
            # One model's failure (MLflow down, a deleted model) must not stop the others;
            # the next round tries again.
            except (TransientError, PermanentError, aiohttp.ClientError, BusUnavailable) as exc:
                log.warning("reconciler.model_failed", model=model.name, error=str(exc)[:300])
        log.info("reconciler.polled", produced=len(produced))
        return produced

    async def run(self) -> None:
        """Poll until `stop` (when disabled, only wait for it: ending early means failure)."""
        if not self._settings.reconcile_enabled:
            await self._stopping.wait()
            return
        while not self._stopping.is_set():
            await self.poll_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), self._settings.reconcile_interval_seconds
                )
        log.info("reconciler.stopped")

    def stop(self) -> None:
        """Finish the current round and return from `run`."""
        self._stopping.set()
