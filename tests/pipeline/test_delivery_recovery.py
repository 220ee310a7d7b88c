"""Deliveries GitHub could not make while ferrybot was down are redelivered and handled once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
from structlog.testing import capture_logs

from bot.github.deliveries import DeliveryRecovery
from bot.settings import load_settings
from schemas.audit import AuditRecord
from schemas.envelope import Envelope
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import (
    APP_ID,
    WEBHOOK_SECRET,
    bot_settings,
    eventually,
    install_app,
    pull_request_payload,
    running_bot,
)
from tests.support.topics import read_topic

POLICY = "ferrybot/policy"


def _attempts(fake: FakeGitHub) -> list[str]:
    return [p for m, p, _ in fake.requests if m == "POST" and p.endswith("/attempts")]


async def test_failed_deliveries_are_redelivered_once_at_start_and_handled_once(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Missed while down: asked for once at start, arrives signed, one check run; a guid that
    got through later is left alone, and the next round asks for nothing."""
    app = install_app(fake_github)
    missed = fake_github.add_pull("acme", "app", head="missed", title="feat: missed")
    later = fake_github.add_pull("acme", "app", head="later", title="feat: later")
    settings = bot_settings(
        kafka_bootstrap,
        fake_github,
        app,
        tmp_path,
        delivery_recovery_interval_seconds=0.2,
        reconcile_enabled=False,
    )
    url = f"http://{settings.http_host}:{settings.http_port}/webhooks/github"
    fake_github.set_app_webhook(APP_ID, url, WEBHOOK_SECRET)
    # ferrybot is down: both deliveries fail to connect.
    lost = await fake_github.send_webhook(
        APP_ID, "pull_request", pull_request_payload(app, missed.number, missed.pull.head_sha)
    )
    other = await fake_github.send_webhook(
        APP_ID, "pull_request", pull_request_payload(app, later.number, later.pull.head_sha)
    )
    assert (lost.status, lost.status_code) == ("failed to connect to host", 0)
    # Someone redelivered the second one by hand from the App's settings, and it got through.
    fake_github.webhooks.deliveries.append(
        replace(
            other, id=fake_github.state.next_id(), redelivery=True, status="OK", status_code=202
        )
    )
    with capture_logs() as logs:
        async with running_bot(settings):
            await eventually(
                lambda: (
                    len(fake_github.check_runs("acme", "app", missed.pull.head_sha, POLICY)) == 1
                ),
                what="the missed pull_request is handled",
            )
            rounds = lambda: [e for e in logs if e["event"] == "deliveries.redelivered"]  # noqa: E731
            await eventually(lambda: len(rounds()) >= 3, what="two more recovery rounds")
            audit = await read_topic(settings, kafka_bootstrap, settings.topic_audit, 1)
            events = await read_topic(settings, kafka_bootstrap, settings.topic_events, 1)
    assert _attempts(fake_github) == [f"/app/hook/deliveries/{lost.id}/attempts"]
    assert [e["count"] for e in rounds()][:3] == [1, 0, 0]
    redelivered = [d for d in fake_github.webhooks.deliveries if d.guid == lost.guid]
    assert [(d.redelivery, d.status) for d in redelivered] == [
        (False, "failed to connect to host"),
        (True, "OK"),
    ]
    # It reached the ingress (signed, under its own guid) exactly once.
    assert [Envelope.from_bytes(r.value or b"").id for r in events] == [lost.guid]
    assert len(fake_github.check_runs("acme", "app", missed.pull.head_sha, POLICY)) == 1
    assert fake_github.check_runs("acme", "app", later.pull.head_sha, POLICY) == []
    records = [AuditRecord.model_validate_json(r.value or b"") for r in audit]
    recovered = [r for r in records if r.action == "deliveries.redelivered"]
    assert [r.details["deliveries"] for r in recovered] == [[lost.guid]]


async def test_recovery_pages_with_cursor_and_looks_back_only_so_far(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    """110 failures over two cursor pages are each asked for once; one older than the
    lookback is not; a second round asks for nothing."""
    app = install_app(fake_github)
    payload = pull_request_payload(app, 1, "0" * 40)
    old = await fake_github.send_webhook(APP_ID, "pull_request", payload)
    old.delivered_at -= timedelta(days=2)
    failed = [await fake_github.send_webhook(APP_ID, "pull_request", payload) for _ in range(110)]
    settings = load_settings(
        github_api_url=fake_github.url,
        github_app_id=APP_ID,
        github_private_key=app.private_key,
        state_dir=tmp_path,
    )
    async with aiohttp.ClientSession() as session:
        recovery = DeliveryRecovery(settings, session)
        asked = await recovery.recover_once()
        await fake_github.webhooks.settle()
        assert await recovery.recover_once() == []
    assert sorted(d.guid for d in asked) == sorted(d.guid for d in failed)
    listed = [c.query for c in fake_github.calls if c.path == "/app/hook/deliveries"]
    # Round one: two pages, the second named by the cursor; round two starts afresh (and
    # pages through the 110 failed redeliveries, whose guids were asked for already).
    assert [("cursor" in query) for query in listed][:3] == [False, True, False]
    assert f"/app/hook/deliveries/{old.id}/attempts" not in _attempts(fake_github)
