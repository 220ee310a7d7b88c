"""Ingress refuses bodies nested too deep and repeated identity headers, for every source."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict
from structlog.testing import capture_logs

from bot.ingress.app import create_app
from bot.ingress.gitlab_status_checks import sign_status_check
from bot.ingress.json_body import MAX_JSON_DEPTH, nesting_exceeds
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.settings import Settings
from bot.signatures import sign_github, sign_mlflow
from schemas.envelope import Envelope
from tests.support.broker import bus_settings
from tests.support.payloads import DATA, load_webhook
from tests.support.topics import read_topic

GITHUB_SECRET = "github-secret-0123"
MLFLOW_SECRET = "mlflow-secret-0123"
DIST_TOKEN = "dist-token-0123456789"
HARBOR_TOKEN = "harbor-token-0123456789"
HUB_TOKEN = "hub-url-token-0123456789"
ALERTMANAGER_TOKEN = "alertmanager-token-0123"
GITLAB_TOKEN = "gitlab-token-0123456789"
STATUS_CHECK_SECRET = "status-check-secret-0123"

Headers = list[tuple[str, str]]
# A source: its path, and the headers that authenticate a given body to it.
SourceCase = tuple[str, Callable[[bytes], Headers]]


def _github(body: bytes) -> Headers:
    return [
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", "d-deep"),
        ("X-Hub-Signature-256", sign_github(body, GITHUB_SECRET)),
    ]


def _gitlab(body: bytes) -> Headers:
    return [
        ("X-Gitlab-Event", "Pipeline Hook"),
        ("X-Gitlab-Token", GITLAB_TOKEN),
        ("Idempotency-Key", "g-deep"),
    ]


def _gitlab_status_check(body: bytes) -> Headers:
    return [("X-Gitlab-Signature", sign_status_check(body, STATUS_CHECK_SECRET))]


def _mlflow(body: bytes) -> Headers:
    delivery, timestamp = "m-deep", str(int(time.time()))
    return [
        ("X-MLflow-Delivery-Id", delivery),
        ("X-MLflow-Timestamp", timestamp),
        ("X-MLflow-Signature", sign_mlflow(body, MLFLOW_SECRET, delivery, timestamp)),
    ]


def _distribution(body: bytes) -> Headers:
    return [("Authorization", f"Bearer {DIST_TOKEN}")]


def _harbor(body: bytes) -> Headers:
    return [("Authorization", HARBOR_TOKEN)]


def _alertmanager(body: bytes) -> Headers:
    return [("Authorization", f"Bearer {ALERTMANAGER_TOKEN}")]


def _no_headers(body: bytes) -> Headers:
    return []


SOURCES: dict[str, SourceCase] = {
    "github": ("/webhooks/github", _github),
    "gitlab": ("/webhooks/gitlab", _gitlab),
    "gitlab-status-check": ("/webhooks/gitlab/status-checks", _gitlab_status_check),
    "mlflow": ("/webhooks/mlflow", _mlflow),
    "alertmanager": ("/webhooks/alertmanager", _alertmanager),
    "distribution": ("/webhooks/registry/distribution", _distribution),
    "harbor": ("/webhooks/registry/harbor", _harbor),
    "docker-hub": (f"/webhooks/registry/docker-hub/{HUB_TOKEN}", _no_headers),
}


def _nested(depth: int) -> object:
    """`depth` levels of arrays and objects, alternating, around one string."""
    value: object = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"n": value}
    return value


def _valid_body(source: str, deep: object) -> dict[str, object]:
    """A body each source accepts, with `deep` tucked inside where the source keeps it all."""
    if source == "github":
        return {**load_webhook("push.0"), "deep": deep}
    if source == "gitlab":
        sample = json.loads((DATA / "gitlab" / "webhooks" / "pipeline.json").read_text())
        return {**sample, "deep": deep}
    if source == "gitlab-status-check":
        sample = json.loads((DATA / "gitlab" / "webhooks" / "merge_request.json").read_text())
        return {**sample, "external_approval_rule": {"id": 1}, "deep": deep}
    if source == "mlflow":
        data = {"name": "churn", "version": "1", "deep": deep}
        return {"entity": "model_version", "action": "created", "data": data}
    if source == "distribution":
        target = {"repository": "acme/app", "tag": "v1", "mediaType": "x", "deep": deep}
        return {"events": [{"id": "e-deep", "action": "push", "target": target}]}
    if source == "alertmanager":
        # The captured firing notification; its envelopes keep the alert, not the whole body.
        captured = json.loads((DATA / "alertmanager" / "firing.json").read_text())["body"]
        return {**captured, "deep": deep}
    if source == "harbor":
        data = {"repository": {"repo_full_name": "acme/app"}, "resources": [{"tag": "v1"}]}
        return {"type": "PUSH_ARTIFACT", "occur_at": 1, "event_data": data, "deep": deep}
    return {"push_data": {"tag": "v1", "deep": deep}, "repository": {"repo_name": "acme/app"}}


@pytest.fixture
async def ingress(kafka_bootstrap: str) -> AsyncIterator[tuple[Settings, TestServer]]:
    settings = bus_settings(
        kafka_bootstrap,
        github_webhook_secrets=GITHUB_SECRET,
        gitlab_webhook_tokens=GITLAB_TOKEN,
        gitlab_status_check_secrets=STATUS_CHECK_SECRET,
        mlflow_webhook_secrets=MLFLOW_SECRET,
        registry_webhook_tokens={"distribution": DIST_TOKEN, "harbor": HARBOR_TOKEN},
        dockerhub_url_token=HUB_TOKEN,
        alertmanager_tokens=ALERTMANAGER_TOKEN,
    )
    await ensure_topics(settings, kafka_bootstrap)
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    server = TestServer(create_app(settings, producer))
    await server.start_server()
    yield settings, server
    await server.close()
    await producer.stop()


async def _post(server: TestServer, path: str, body: bytes, headers: Headers) -> tuple[int, str]:
    sent = CIMultiDict([("Content-Type", "application/json"), *headers])
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.make_url(path), data=body, headers=sent) as response,
    ):
        return response.status, await response.text()


@pytest.mark.parametrize("source", list(SOURCES))
async def test_a_body_nested_100000_levels_is_400_without_a_traceback(
    ingress: tuple[Settings, TestServer],
    kafka_bootstrap: str,
    source: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """100,000 levels, correctly signed: 400 naming the bound, no traceback, nothing produced."""
    settings, server = ingress
    path, authenticate = SOURCES[source]
    # Built as text: json.dumps itself cannot descend 100,000 levels.
    body = b'{"deep": ' + b"[" * 99_999 + b"]" * 99_999 + b"}"
    caplog.set_level(logging.ERROR)
    with capture_logs() as logs:
        status, text = await _post(server, path, body, authenticate(body))
    assert status == 400
    assert f"deeper than {MAX_JSON_DEPTH} levels" in json.loads(text)["error"]
    assert [entry["event"] for entry in logs] == ["webhook.refused"]
    assert not [record for record in caplog.records if record.exc_info]
    assert await read_topic(settings, kafka_bootstrap, settings.topic_events, 0, 1.0) == []


@pytest.mark.parametrize("source", list(SOURCES))
async def test_a_body_at_the_depth_bound_is_accepted_and_readable_downstream(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str, source: str
) -> None:
    """Nesting up to the bound passes, and the envelope it makes decodes again off Kafka."""
    settings, server = ingress
    path, authenticate = SOURCES[source]
    # How deep the source's own structure holds `deep` (20 levels outgrow every other branch).
    around = _depth(_valid_body(source, _nested(20))) - 20
    room = MAX_JSON_DEPTH - around
    body = json.dumps(_valid_body(source, _nested(room))).encode()
    assert _depth(json.loads(body)) == MAX_JSON_DEPTH
    status, text = await _post(server, path, body, authenticate(body))
    assert status == 202, text
    records = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=1)
    envelope = Envelope.from_bytes(records[0].value or b"")
    if source != "alertmanager":
        assert _depth(envelope.payload) >= MAX_JSON_DEPTH - 1
    over = json.dumps(_valid_body(source, _nested(room + 1))).encode()
    assert (await _post(server, path, over, authenticate(over)))[0] == 400


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


IDENTITY_CASES = [
    ("github", "X-GitHub-Event"),
    ("github", "X-GitHub-Delivery"),
    ("github", "X-Hub-Signature-256"),
    ("gitlab", "X-Gitlab-Event"),
    ("gitlab", "X-Gitlab-Token"),
    ("gitlab", "Idempotency-Key"),
    ("gitlab-status-check", "X-Gitlab-Signature"),
    ("mlflow", "X-MLflow-Delivery-Id"),
    ("mlflow", "X-MLflow-Timestamp"),
    ("mlflow", "X-MLflow-Signature"),
    ("alertmanager", "Authorization"),
    ("distribution", "Authorization"),
    ("harbor", "Authorization"),
]


@pytest.mark.parametrize(
    ("source", "header"), IDENTITY_CASES, ids=[f"{s}-{h}" for s, h in IDENTITY_CASES]
)
async def test_a_repeated_identity_header_is_400_and_produces_nothing(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str, source: str, header: str
) -> None:
    """A second copy of an identity header, even an equal one, is refused with 400."""
    settings, server = ingress
    path, authenticate = SOURCES[source]
    body = json.dumps(_valid_body(source, "x")).encode()
    headers = authenticate(body)
    value = next(v for name, v in headers if name == header)
    # The first copy is valid, so a bot that read only the first would accept the delivery.
    status, text = await _post(server, path, body, [*headers, (header, value)])
    assert status == 400
    assert f"header {header} sent more than once" in json.loads(text)["error"]
    assert (await _post(server, path, body, headers))[0] == 202
    records = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=1)
    assert len(records) == 1


@pytest.mark.parametrize("source", ["github", "mlflow"])
async def test_a_body_of_escaped_quotes_is_refused_in_one_pass(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str, source: str
) -> None:
    """2 MB of `\\"` after one quote (a string that never ends): 400 as invalid JSON, at once
    rather than after retrying the scan from each of its million quotes."""
    settings, server = ingress
    path, authenticate = SOURCES[source]
    body = b'{"a": "' + b'\\"' * 1_000_000
    status, text = await _post(server, path, body, authenticate(body))
    assert (status, json.loads(text)["error"]) == (400, "body is not valid JSON")
    assert await read_topic(settings, kafka_bootstrap, settings.topic_events, 0, 1.0) == []


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_the_nesting_scan_agrees_with_the_parser() -> None:
    """Random JSON full of quotes, backslashes and brackets in strings: scan depth = real depth."""
    rng = random.Random(7)
    pieces = ['"', "\\", "[", "]", "{", "}", "a", '\\"', "\\\\", "\n"]

    def value(level: int) -> object:
        roll = rng.random()
        if level > 12 or roll < 0.3:
            return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        if roll < 0.65:
            return [value(level + 1) for _ in range(rng.randint(0, 3))]
        return {f"{i}{rng.choice(pieces)}": value(level + 1) for i in range(rng.randint(0, 3))}

    for _ in range(2000):
        doc = value(0)
        body, depth = json.dumps(doc).encode(), _depth(doc)
        assert not nesting_exceeds(body, depth)
        assert depth == 0 or nesting_exceeds(body, depth - 1)
