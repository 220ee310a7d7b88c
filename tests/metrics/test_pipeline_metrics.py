"""Metrics of the running bot, scraped from the ingress's /metrics while it handles webhooks."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from bot.cli.send import send_github
from bot.ingress.app import SOURCES
from bot.pipeline.runtime import Components
from tests.fakegithub.dispatch import RATE_LIMIT
from tests.fakegithub.server import FakeGitHub
from tests.metrics.scrape import grown, metrics_url, samples, scrape, scrape_until, value
from tests.support.bot import (
    INSTALLATION_ID,
    WEBHOOK_SECRET,
    bot_settings,
    deliver,
    eventually,
    install_app,
    pull_request_payload,
    running_bot,
)
from tests.support.broker import TansuProcess

POLICY = "handlers.policy.policy_check"
CHECK_RUNS = "/repos/{owner}/{repo}/check-runs"
TOKENS = "/app/installations/{installation_id}/access_tokens"

# These tests count one check's requests and dead letters: the secrets check stays out.
ONLY_POLICY = {"secrets": {"enabled": False}}


async def test_a_handled_event_is_counted_end_to_end(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Accepted, produced, handled ok with a duration, GitHub calls by route, budget kept."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="m1", title="feat: measured")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path, bot=ONLY_POLICY)
    url = metrics_url(settings.http_host, settings.http_port)
    payload = pull_request_payload(app, pr.number, pr.pull.head_sha, title="feat: measured")
    async with running_bot(settings):
        before = await scrape(url)
        assert (await deliver(settings, "pull_request", payload, delivery="m-1")).status == 202
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", pr.pull.head_sha)))
        after = await scrape_until(
            url, grown(before, "ferrybot_handler_runs_total", handler=POLICY)
        )
        # The same delivery again: skipped by the dedupe, and counted as such.
        await deliver(settings, "pull_request", payload, delivery="m-1")
        await scrape_until(url, grown(after, "ferrybot_dedupe_hits_total"))
        last = await scrape(url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("ferrybot_deliveries_accepted_total", source="github") == 1
    assert grew("ferrybot_produce_duration_seconds_count", topic=settings.topic_events) == 1
    assert grew("ferrybot_handler_runs_total", handler=POLICY, outcome="ok") == 1
    assert grew("ferrybot_handler_duration_seconds_count", handler=POLICY) == 1
    assert (
        grew("ferrybot_github_requests_total", method="POST", route=CHECK_RUNS, status="201") == 1
    )
    assert (
        grew("ferrybot_github_request_duration_seconds_count", method="POST", route=CHECK_RUNS) == 1
    )
    installation = str(INSTALLATION_ID)
    remaining = value(last, "ferrybot_github_rate_limit_remaining", installation=installation)
    assert remaining == RATE_LIMIT - 1
    assert value(last, "ferrybot_github_rate_limit_limit", installation=installation) == RATE_LIMIT
    assert (
        value(last, "ferrybot_dedupe_hits_total") - value(after, "ferrybot_dedupe_hits_total") == 1
    )
    assert value(last, "ferrybot_broker_reachable") == 1
    # The installation token was minted with the App's JWT: that budget is the App's own.
    assert grew("ferrybot_github_requests_total", method="POST", route=TOKENS, status="201") == 1
    assert value(last, "ferrybot_github_rate_limit_remaining", installation="app") > 0


async def test_retries_and_dead_letters_are_counted_per_handler(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A 502 then success is one retry; a repo the App cannot see is one dead letter."""
    app = install_app(fake_github)
    fake_github.add_repo("acme", "hidden", files={"a": "b"})
    hidden = fake_github.add_pull("acme", "hidden", head="x", title="feat: hidden")
    pr = fake_github.add_pull("acme", "app", head="flaky", title="feat: flaky")
    fake_github.fail_next("POST", r"/check-runs$", 502)
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path, bot=ONLY_POLICY)
    url = metrics_url(settings.http_host, settings.http_port)
    lost = pull_request_payload(app, hidden.number, hidden.pull.head_sha, title="feat: hidden")
    lost["repository"]["name"] = "hidden"
    lost["repository"]["full_name"] = "acme/hidden"
    async with running_bot(settings):
        before = await scrape(url)
        await deliver(settings, "pull_request", lost)
        await deliver(
            settings, "pull_request", pull_request_payload(app, pr.number, pr.pull.head_sha)
        )
        after = await scrape_until(
            url, grown(before, "ferrybot_handler_runs_total", by=2, handler=POLICY)
        )

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("ferrybot_handler_retries_total", handler=POLICY) == 1
    assert grew("ferrybot_handler_runs_total", handler=POLICY, outcome="ok") == 1
    assert grew("ferrybot_handler_runs_total", handler=POLICY, outcome="dead_lettered") == 1
    assert grew("ferrybot_dlq_produced_total", handler=POLICY) == 1
    assert grew("ferrybot_produce_duration_seconds_count", topic=settings.topic_dlq) == 1
    assert (
        grew("ferrybot_github_requests_total", method="POST", route=CHECK_RUNS, status="502") == 1
    )


async def test_refusals_are_counted_by_source_and_reason(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Bad signature, unsigned junk, unknown path, non-JSON body: each a reason, never the text."""
    app = install_app(fake_github)
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    base = f"http://{settings.http_host}:{settings.http_port}/webhooks"
    url = metrics_url(settings.http_host, settings.http_port)
    body = json.dumps({"zen": "ok"}).encode()
    async with running_bot(settings):
        before = await scrape(url)
        assert (await send_github(body, "ping", f"{base}/github", "wrong-secret")).status == 401
        assert (
            await send_github(b"{not json", "ping", f"{base}/github", WEBHOOK_SECRET)
        ).status == 400
        for _ in range(3):
            answer = await send_github(body, "ping", f"{base}/x-{uuid.uuid4()}", WEBHOOK_SECRET)
            assert answer.status == 404
        after = await scrape(url)

    def grew(**labels: str) -> float:
        name = "ferrybot_deliveries_refused_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(source="github", reason="unauthenticated") == 1
    assert grew(source="github", reason="malformed") == 1
    assert grew(source="unknown", reason="unknown_source") == 3
    # The sender picks the path: only known sources ever become label values.
    sources = {
        dict(labels)["source"]
        for name, labels in samples(after)
        if name == "ferrybot_deliveries_refused_total"
    }
    assert sources <= {*SOURCES, "unknown"}


async def test_a_broker_outage_is_counted_as_refusals_and_produce_failures(
    fake_github: FakeGitHub, own_broker: TansuProcess, tmp_path: Path
) -> None:
    """Broker gone: the 503 is a broker_unavailable refusal and a produce failure on the topic."""
    app = install_app(fake_github)
    settings = bot_settings(
        own_broker.bootstrap_servers, fake_github, app, tmp_path, produce_timeout_seconds=1
    )
    url = metrics_url(settings.http_host, settings.http_port)
    pr = fake_github.add_pull("acme", "app", head="down", title="feat: down")
    payload = pull_request_payload(app, pr.number, pr.pull.head_sha)
    async with running_bot(settings, Components(True, False, False, False)):
        before = await scrape(url)
        own_broker.stop()
        assert (await deliver(settings, "pull_request", payload)).status == 503
        after = await scrape(url)
        own_broker.start()

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    refused = "ferrybot_deliveries_refused_total"
    assert grew(refused, source="github", reason="broker_unavailable") == 1
    assert grew("ferrybot_produce_failures_total", topic=settings.topic_events) == 1
    assert grew("ferrybot_deliveries_accepted_total", source="github") == 0
