"""Recovers what webhooks missed: MLflow aliases, tags and versions; failed GitHub deliveries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
import gidgethub

from bot.github.deliveries import DeliveryRecovery
from bot.logs import get_logger
from bot.mlflow.client import MlflowClient
from bot.pipeline.bus import BusUnavailable, EventProducer
from bot.pipeline.retry import PermanentError, TransientError
from bot.publisher import Publisher
from bot.settings import Settings
from schemas.audit import AuditRecord
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
    """Every `reconcile_interval_seconds`, emits the configured models' trigger events; under
    App auth, every `delivery_recovery_interval_seconds` (and at start), has GitHub redeliver
    the webhook deliveries that failed."""

    def __init__(
        self, settings: Settings, producer: EventProducer, session: aiohttp.ClientSession
    ) -> None:
        self._settings = settings
        self._producer = producer
        self._publisher = Publisher(settings, producer)
        url = settings.mlflow_tracking_url
        self._mlflow = MlflowClient(session, url) if url else None
        app_auth = settings.github_app_id is not None and settings.private_key_pem() is not None
        # Only an App has a delivery log to read (GET /app/hook/deliveries takes the App JWT).
        self._deliveries = (
            DeliveryRecovery(settings, session)
            if app_auth and not settings.effective_dry_run
            else None
        )
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Nothing to connect: MLflow and GitHub are asked on each round."""
        enabled = self._mlflow is not None and self._settings.reconcile_enabled
        log.info(
            "reconciler.started",
            models=len(self._models()),
            enabled=enabled,
            delivery_recovery=self._deliveries is not None,
        )

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

    async def recover_deliveries_once(self) -> int:
        """One round of delivery recovery; how many deliveries GitHub was asked to redeliver."""
        if self._deliveries is None:
            return 0
        try:
            asked = await self._deliveries.recover_once()
        # GitHub down or rate-limiting: the next round looks back to the last good one.
        except (gidgethub.GitHubException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("deliveries.recovery_failed", error=str(exc)[:300])
            return 0
        log.info("deliveries.redelivered", count=len(asked))
        if asked:
            await self._audit_recovery([d.guid for d in asked])
        return len(asked)

    async def _audit_recovery(self, guids: list[str]) -> None:
        record = AuditRecord(
            id=f"deliveries.redelivered:{','.join(guids)}"[:500],
            delivery_id=guids[0],
            actor="ferrybot",
            action="deliveries.redelivered",
            subject="github",
            reason=f"{len(guids)} webhook deliveries had failed; GitHub was asked to redeliver",
            details={"count": len(guids), "deliveries": guids},
        )
        try:
            await self._publisher.audit(record)
        except BusUnavailable:
            log.warning("deliveries.audit_failed", count=len(guids))

    async def run(self) -> None:
        """Poll until `stop` (with nothing to do, only wait for it: ending early means failure)."""
        loops = []
        if self._settings.reconcile_enabled:
            loops.append(self._every(self._settings.reconcile_interval_seconds, self.poll_once))
        if self._deliveries is not None:
            interval = self._settings.delivery_recovery_interval_seconds
            loops.append(self._every(interval, self.recover_deliveries_once))
        if not loops:
            await self._stopping.wait()
            return
        await asyncio.gather(*loops)
        log.info("reconciler.stopped")

    async def _every(self, interval: float, round_: Callable[[], Awaitable[object]]) -> None:
        while not self._stopping.is_set():
            await round_()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    def stop(self) -> None:
        """Finish the current round and return from `run`."""
        self._stopping.set()
