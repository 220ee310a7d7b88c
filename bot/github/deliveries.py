"""Deliveries GitHub could not make: list the App's webhook log, ask again for failed ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import gidgethub
import gidgethub.aiohttp

from bot.github.auth import app_jwt
from bot.logs import get_logger
from bot.pipeline.retry import is_transient
from bot.settings import Settings

log = get_logger(component="deliveries")
USER_AGENT = "ferrybot"
# Rounds overlap by this much: GitHub stamps `delivered_at` when the attempt began, so one
# still under way when a round starts may show up later with an older time.
OVERLAP = timedelta(minutes=2)


@dataclass(frozen=True)
class HookDelivery:
    """One entry of the App's delivery log (`GET /app/hook/deliveries`)."""

    id: int
    guid: str
    event: str
    action: str | None
    delivered_at: datetime
    status: str
    status_code: int

    @property
    def ok(self) -> bool:
        """True when the receiver took it: status OK and a non-error HTTP code."""
        return self.status == "OK" and 0 < self.status_code < 400

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> HookDelivery:
        """Parse one item of GitHub's answer."""
        return cls(
            id=int(item["id"]),
            guid=str(item["guid"]),
            event=str(item.get("event", "")),
            action=item.get("action"),
            delivered_at=datetime.fromisoformat(str(item["delivered_at"]).replace("Z", "+00:00")),
            status=str(item.get("status", "")),
            status_code=int(item.get("status_code") or 0),
        )


class DeliveryRecovery:
    """Each round: the deliveries since the last round that failed, redelivered once each.

    GitHub never redelivers by itself; the worker's dedupe and the idempotent handlers make
    a delivery that arrives twice (it got through after all) harmless.
    """

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        private_key = settings.private_key_pem()
        assert settings.github_app_id is not None and private_key is not None
        self._app_id = settings.github_app_id
        self._private_key = private_key
        self._lookback = timedelta(seconds=settings.delivery_recovery_lookback_seconds)
        self._gh = gidgethub.aiohttp.GitHubAPI(
            session, USER_AGENT, base_url=settings.github_api_url
        )
        self._last_round: datetime | None = None
        # Asked once per guid, however many attempts of it failed (in memory: after a
        # restart a failure is asked again, unless a later attempt of it got through).
        self._asked: set[str] = set()

    async def recover_once(self, now: datetime | None = None) -> list[HookDelivery]:
        """List the log back to the last round and redeliver what failed; returns those asked."""
        started = now or datetime.now(UTC)
        since = (self._last_round or started - self._lookback) - OVERLAP
        log_entries = await self._deliveries_since(since)
        delivered = {d.guid for d in log_entries if d.ok}
        asked: list[HookDelivery] = []
        for delivery in sorted(log_entries, key=lambda d: d.delivered_at):
            if delivery.ok or delivery.guid in delivered or delivery.guid in self._asked:
                continue
            if await self._redeliver(delivery):
                asked.append(delivery)
            self._asked.add(delivery.guid)
        self._last_round = started
        return asked

    async def _deliveries_since(self, since: datetime) -> list[HookDelivery]:
        found: list[HookDelivery] = []
        # Newest first, one page per `cursor` (gidgethub follows the Link header).
        async for item in self._gh.getiter(
            "/app/hook/deliveries{?per_page}", url_vars={"per_page": "100"}, jwt=self._jwt()
        ):
            delivery = HookDelivery.from_api(item)
            if delivery.delivered_at < since:
                break
            found.append(delivery)
        return found

    async def _redeliver(self, delivery: HookDelivery) -> bool:
        try:
            await self._gh.post(
                "/app/hook/deliveries/{delivery_id}/attempts",
                url_vars={"delivery_id": str(delivery.id)},
                data=b"",  # the operation takes no body
                jwt=self._jwt(),
            )
        except gidgethub.BadRequest as exc:
            if is_transient(exc):
                raise
            # Too old or gone from the log: asking again would get the same answer.
            log.warning(
                "deliveries.redeliver_refused", guid=delivery.guid, status=int(exc.status_code)
            )
            return False
        log.info(
            "deliveries.redelivery_asked",
            guid=delivery.guid,
            webhook_event=delivery.event,
            failed_with=delivery.status_code,
        )
        return True

    def _jwt(self) -> str:
        # Minted per call: a round over many pages may outlive one JWT's nine minutes.
        return app_jwt(self._app_id, self._private_key)
