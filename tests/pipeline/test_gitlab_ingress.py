"""/webhooks/gitlab: secret token, Standard Webhooks signature, dedupe key, subject."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from bot.ingress.app import create_app
from bot.ingress.gitlab import sign_standard_webhook
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.settings import Settings
from schemas.envelope import Envelope, Source
from tests.support.broker import bus_settings
from tests.support.payloads import DATA
from tests.support.topics import read_topic

TOKEN = "gitlab-hook-token-0123456789"
OLD_TOKEN = "gitlab-old-token-9876543210"
SIGNING_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-key-0123").decode()
SAMPLES = DATA / "gitlab" / "webhooks"

Start = Callable[..., Awaitable[tuple[Settings, TestServer]]]


@pytest.fixture
async def start(kafka_bootstrap: str) -> AsyncIterator[Start]:
    servers: list[tuple[TestServer, EventProducer]] = []

    async def started(**overrides: object) -> tuple[Settings, TestServer]:
        settings = bus_settings(kafka_bootstrap, **{"gitlab_webhook_tokens": TOKEN, **overrides})
        await ensure_topics(settings, kafka_bootstrap)
        producer = EventProducer(settings, kafka_bootstrap)
        await producer.start()
        server = TestServer(create_app(settings, producer))
        await server.start_server()
        servers.append((server, producer))
        return settings, server

    yield started
    for server, producer in servers:
        await server.close()
        await producer.stop()


def _headers(event: str, token: str = TOKEN, key: str = "idem-1") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Gitlab-Event": event,
        "X-Gitlab-Token": token,
        "Idempotency-Key": key,
        "X-Gitlab-Event-UUID": f"uuid-of-{key}",
    }


def _signed(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    sent = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "webhook-id": "msg_2b1",
        "webhook-timestamp": sent,
        "webhook-signature": sign_standard_webhook(body, secret, "msg_2b1", sent),
    }


async def _post(server: TestServer, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.make_url("/webhooks/gitlab"), data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def _envelopes(settings: Settings, bootstrap: str, expect: int) -> list[Envelope]:
    records = await read_topic(settings, bootstrap, settings.topic_events, expect=expect)
    return [Envelope.from_bytes(record.value or b"") for record in records]


SAMPLE_CASES = [
    ("pipeline", "Pipeline Hook", "pipeline", None, "gitlab/gitlab-org/gitlab-test!1"),
    ("emoji", "Emoji Hook", "emoji", "award", "gitlab/flightjs/Flight"),
]


@pytest.mark.parametrize(
    ("sample", "header", "event", "action", "subject"),
    SAMPLE_CASES,
    ids=[case[0] for case in SAMPLE_CASES],
)
async def test_a_documented_example_is_accepted_as_an_envelope(
    start: Start,
    kafka_bootstrap: str,
    sample: str,
    header: str,
    event: str,
    action: str | None,
    subject: str,
) -> None:
    """GitLab's own examples: 202, keyed by merge request where there is one, body kept."""
    settings, server = await start()
    body = (SAMPLES / f"{sample}.json").read_bytes()
    status, text = await _post(server, body, _headers(header))
    assert status == 202, text
    [envelope] = await _envelopes(settings, kafka_bootstrap, 1)
    assert (envelope.source, envelope.event, envelope.action) == (Source.GITLAB, event, action)
    assert (envelope.subject, envelope.id) == (subject, "gitlab:idem-1")
    assert envelope.payload == json.loads(body)


async def test_the_idempotency_key_is_the_dedupe_id_across_resends(
    start: Start, kafka_bootstrap: str
) -> None:
    """A resend keeps Idempotency-Key and gets a new event UUID: both get the same id."""
    settings, server = await start()
    body = (SAMPLES / "pipeline.json").read_bytes()
    first = _headers("Pipeline Hook")
    resent = {**first, "X-Gitlab-Event-UUID": "another-uuid"}
    without_key = {k: v for k, v in first.items() if k != "Idempotency-Key"}
    for headers in (first, resent, without_key):
        assert (await _post(server, body, headers))[0] == 202
    ids = [e.id for e in await _envelopes(settings, kafka_bootstrap, 3)]
    assert ids == ["gitlab:idem-1", "gitlab:idem-1", "gitlab:uuid-of-idem-1"]


async def test_every_token_of_a_rotation_is_accepted(start: Start, kafka_bootstrap: str) -> None:
    """Old and new secret tokens both pass while a rotation is under way."""
    settings, server = await start(gitlab_webhook_tokens=f"{OLD_TOKEN},{TOKEN}")
    body = (SAMPLES / "emoji.json").read_bytes()
    for token in (OLD_TOKEN, TOKEN):
        assert (await _post(server, body, _headers("Emoji Hook", token=token)))[0] == 202
    assert len(await _envelopes(settings, kafka_bootstrap, 2)) == 2


async def test_a_valid_standard_webhooks_signature_is_accepted(
    start: Start, kafka_bootstrap: str
) -> None:
    """GitLab 19 signing: one valid `v1,` entry among several passes."""
    settings, server = await start(gitlab_signing_secrets=SIGNING_SECRET)
    body = (SAMPLES / "pipeline.json").read_bytes()
    signed = _signed(body, SIGNING_SECRET)
    signed["webhook-signature"] = "v1,bm90LWl0 " + signed["webhook-signature"]
    status, text = await _post(server, body, {**_headers("Pipeline Hook"), **signed})
    assert status == 202, text
    assert len(await _envelopes(settings, kafka_bootstrap, 1)) == 1


def _forged_token(body: bytes) -> dict[str, str]:
    return _headers("Pipeline Hook", token="guessed-token")


def _no_token(body: bytes) -> dict[str, str]:
    return {k: v for k, v in _headers("Pipeline Hook").items() if k != "X-Gitlab-Token"}


def _unsigned(body: bytes) -> dict[str, str]:
    return _headers("Pipeline Hook")


def _wrong_secret(body: bytes) -> dict[str, str]:
    other = "whsec_" + base64.b64encode(b"someone-else").decode()
    return {**_headers("Pipeline Hook"), **_signed(body, other)}


def _stale(body: bytes) -> dict[str, str]:
    return {**_headers("Pipeline Hook"), **_signed(body, SIGNING_SECRET, int(time.time()) - 600)}


def _tampered(body: bytes) -> dict[str, str]:
    return {**_headers("Pipeline Hook"), **_signed(body + b" ", SIGNING_SECRET)}


REFUSALS = {
    "forged-token": _forged_token,
    "no-token": _no_token,
    "signature-required-but-absent": _unsigned,
    "signed-with-another-secret": _wrong_secret,
    "timestamp-outside-the-window": _stale,
    "body-changed-after-signing": _tampered,
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_an_unauthenticated_delivery_is_401_without_detail(
    start: Start, kafka_bootstrap: str, case: str
) -> None:
    """Every failed check answers the same 401, produces nothing and logs no secret."""
    settings, server = await start(gitlab_signing_secrets=SIGNING_SECRET)
    body = (SAMPLES / "pipeline.json").read_bytes()
    with capture_logs() as logs:
        status, text = await _post(server, body, REFUSALS[case](body))
    assert (status, json.loads(text)["error"]) == (401, "not authenticated")
    assert await read_topic(settings, kafka_bootstrap, settings.topic_events, 0, 1.0) == []
    assert TOKEN not in repr(logs) and SIGNING_SECRET not in repr(logs)


BAD_INPUTS = {
    "not-a-hook-name": (
        "Pipeline",
        b'{"project": {"path_with_namespace": "a/b"}}',
        "X-Gitlab-Event",
    ),
    "no-project": ("Pipeline Hook", b'{"object_kind": "pipeline"}', "path_with_namespace"),
    "path-with-spaces": (
        "Pipeline Hook",
        b'{"project": {"path_with_namespace": "a/b c"}}',
        "path_with_namespace",
    ),
    "not-an-object": ("Pipeline Hook", b"[1, 2]", "a JSON object"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
async def test_a_malformed_delivery_is_400_and_produces_nothing(
    start: Start, kafka_bootstrap: str, case: str
) -> None:
    """An authenticated but malformed delivery gets a clear 400 and changes nothing."""
    settings, server = await start()
    event, body, named = BAD_INPUTS[case]
    status, text = await _post(server, body, _headers(event))
    assert status == 400
    assert named in json.loads(text)["error"]
    assert await read_topic(settings, kafka_bootstrap, settings.topic_events, 0, 1.0) == []
