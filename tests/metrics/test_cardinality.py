"""Label values come from closed sets: more deliveries add samples' counts, never new series."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from bot.cli.send import send_github
from tests.fakegithub.server import FakeGitHub
from tests.metrics.scrape import grown, metrics_url, samples, scrape, scrape_until
from tests.support.bot import (
    WEBHOOK_SECRET,
    bot_settings,
    deliver,
    install_app,
    pull_request_payload,
    running_bot,
)

DELIVERIES = 50
RUNS = "ferrybot_handler_runs_total"
POLICY = "handlers.policy.policy_check"


async def test_fifty_distinct_deliveries_add_no_series(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """50 more PRs, delivery ids, bad signatures and random paths leave the series set as it was."""
    app = install_app(fake_github)
    pulls = [
        fake_github.add_pull("acme", "app", head=f"c-{n}", title="feat: change")
        for n in range(DELIVERIES + 1)
    ]
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    url = metrics_url(settings.http_host, settings.http_port)
    base = f"http://{settings.http_host}:{settings.http_port}/webhooks"
    junk = json.dumps({"zen": "x"}).encode()

    async def one_of_each(index: int) -> None:
        pr = pulls[index]
        payload = pull_request_payload(app, pr.number, pr.pull.head_sha, title="feat: change")
        assert (await deliver(settings, "pull_request", payload)).status == 202
        bad = await send_github(junk, "ping", f"{base}/github", f"wrong-{uuid.uuid4()}")
        assert bad.status == 401
        lost = await send_github(junk, "ping", f"{base}/{uuid.uuid4()}", WEBHOOK_SECRET)
        assert lost.status == 404

    async with running_bot(settings):
        start = await scrape(url)
        await one_of_each(0)
        warm = await scrape_until(url, grown(start, RUNS, handler=POLICY))
        for index in range(1, DELIVERIES + 1):
            await one_of_each(index)
        done = await scrape_until(url, grown(warm, RUNS, by=DELIVERIES, handler=POLICY), within=120)
    assert set(samples(done)) == set(samples(warm))
    assert all(fake_github.check_runs("acme", "app", pr.pull.head_sha) for pr in pulls)
