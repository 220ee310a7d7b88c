"""`/webhooks/alertmanager`: captured deliveries become one envelope per alert, or are refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
import structlog
from aiohttp.test_utils import TestServer

from bot.ingress.alertmanager import alertmanager_envelopes
from bot.ingress.app import create_app
from bot.ingress.errors import Refused
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.settings import Settings, load_settings
from schemas.envelope import Envelope
from tests.evaluation.samples import TOKEN, headers, sample
from tests.support.broker import bus_settings
from tests.support.topics import read_topic


def _settings(**extra: object) -> Settings:
    return load_settings(alertmanager_tokens=f"old-token,{TOKEN}", **extra)


def _parse(name: str, settings: Settings | None = None) -> list[Envelope]:
    body = json.dumps(sample(name)).encode()
    return alertmanager_envelopes(headers(name), body, settings or _settings())


def test_firing_alert_is_one_envelope_keyed_by_pipeline() -> None:
    """A firing alert: subject model/<pipeline>, id fingerprint + startsAt + status."""
    [envelope] = _parse("firing")
    assert envelope.subject == "model/churn"
    assert envelope.name == "alert.firing"
    assert envelope.id == "alertmanager:1756beea62ee1fb4:2026-12-01T12:37:03.526000+00:00:firing"
    assert envelope.payload["pipeline"] == "churn"
    assert envelope.payload["stage"] == "prod"


def test_repeat_has_the_firing_id_and_resolved_its_own() -> None:
    """A repeat of a firing alert is the same delivery id; resolved is another, same subject."""
    [firing], [repeat], [resolved] = _parse("firing"), _parse("repeat"), _parse("resolved")
    assert repeat.id == firing.id
    assert resolved.id != firing.id and resolved.id.endswith(":resolved")
    assert resolved.subject == firing.subject
    assert resolved.payload["alert"]["endsAt"] != "0001-01-01T00:00:00Z"


def test_grouped_alerts_are_split() -> None:
    """Two alerts in one notification: two envelopes, one per stage, same pipeline subject."""
    envelopes = _parse("grouped")
    assert len(envelopes) == 2
    assert {e.payload["stage"] for e in envelopes} == {"staging", "prod"}
    assert len({e.id for e in envelopes}) == 2
    assert {e.subject for e in envelopes} == {"model/fraud"}


def test_truncated_notification_keeps_what_was_sent_and_says_so() -> None:
    """truncatedAlerts: the two alerts sent are accepted and the cut is logged with its count."""
    with structlog.testing.capture_logs() as logs:
        envelopes = _parse("truncated")
    assert len(envelopes) == 2
    assert all(e.payload["truncated_alerts"] == 1 for e in envelopes)
    [warning] = [log for log in logs if log["event"] == "alertmanager.truncated"]
    assert warning["truncated"] == 1 and warning["sent"] == 2


def test_configured_label_names_map_the_alert() -> None:
    """With other label names configured, the alert maps by those labels instead."""
    settings = _settings(bot={"evaluation": {"pipeline_label": "model", "stage_label": "job"}})
    [envelope] = _parse("firing", settings)
    assert envelope.payload["pipeline"] == "churn"
    assert envelope.payload["stage"] == "model-quality"


def test_alert_without_a_valid_pipeline_label_shares_one_subject() -> None:
    """A pipeline label that is no identifier keeps the envelope, on the `alertmanager` subject."""
    body = sample("firing")
    body["alerts"][0]["labels"]["ferrybot_pipeline"] = "../etc"
    [envelope] = alertmanager_envelopes(headers("firing"), json.dumps(body).encode(), _settings())
    assert envelope.subject == "alertmanager"


@pytest.mark.parametrize(
    ("token", "configured", "reason"),
    [
        ("wrong", f"old-token,{TOKEN}", "matches none"),
        (None, TOKEN, "missing"),
        (TOKEN, "", "no token is configured for Alertmanager"),
    ],
    ids=["bad-token", "no-header", "nothing-configured"],
)
def test_bad_token_is_401(token: str | None, configured: str, reason: str) -> None:
    """A wrong or missing bearer token, or none configured, is refused with 401."""
    sent = headers("firing", token or "")
    if token is None:
        del sent["Authorization"]
    with pytest.raises(Refused) as caught:
        alertmanager_envelopes(
            sent, json.dumps(sample("firing")).encode(), _settings_with(configured)
        )
    assert caught.value.status == 401
    assert reason in caught.value.message


def _settings_with(tokens: str) -> Settings:
    return load_settings(alertmanager_tokens=tokens)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"version": "3"}, "version 4"),
        ({"alerts": []}, "1 to 1000"),
        ({"alerts": [{"status": "firing"}]}, "does not fit"),
    ],
    ids=["old-version", "no-alerts", "alert-without-fields"],
)
def test_malformed_notification_is_400(change: dict[str, object], reason: str) -> None:
    """Bodies Alertmanager would not send are refused with 400 and nothing is produced."""
    body = {**sample("firing"), **change}
    with pytest.raises(Refused) as caught:
        alertmanager_envelopes(headers("firing"), json.dumps(body).encode(), _settings())
    assert caught.value.status == 400
    assert reason in caught.value.message


@pytest.fixture
async def ingress(kafka_bootstrap: str) -> AsyncIterator[tuple[Settings, TestServer]]:
    settings = bus_settings(kafka_bootstrap, alertmanager_tokens=TOKEN)
    await ensure_topics(settings, kafka_bootstrap)
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    server = TestServer(create_app(settings, producer))
    await server.start_server()
    yield settings, server
    await server.close()
    await producer.stop()


async def test_http_grouped_delivery_lands_in_kafka_and_bad_token_does_not(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str
) -> None:
    """Over HTTP: the grouped capture is 202 with two envelopes on the topic; a bad token is 401."""
    settings, server = ingress
    body = json.dumps(sample("grouped")).encode()
    async with aiohttp.ClientSession() as session:
        bad = headers("grouped", "not-the-token")
        async with session.post(
            server.make_url("/webhooks/alertmanager"), data=body, headers=bad
        ) as r:
            assert r.status == 401
            assert "not-the-token" not in await r.text()
        good = headers("grouped")
        async with session.post(
            server.make_url("/webhooks/alertmanager"), data=body, headers=good
        ) as r:
            assert r.status == 202
            accepted = (await r.json())["accepted"]
    records = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=2)
    assert sorted(Envelope.from_bytes(r.value).id for r in records) == sorted(accepted)
    assert len(records) == 2


async def test_tokens_never_reach_the_logs(ingress: tuple[Settings, TestServer]) -> None:
    """Neither the configured token nor a wrong one offered appears in any log line."""
    _, server = ingress
    body = json.dumps(sample("firing")).encode()
    with structlog.testing.capture_logs() as logs:
        async with aiohttp.ClientSession() as session:
            for offered in ("wrong-token-value", TOKEN):
                sent = headers("firing", offered)
                url = server.make_url("/webhooks/alertmanager")
                async with session.post(url, data=body, headers=sent) as answer:
                    assert answer.status in (202, 401)
    shown = json.dumps(logs, default=str)
    assert "webhook.refused" in shown and "webhook.accepted" in shown
    assert TOKEN not in shown and "wrong-token-value" not in shown
