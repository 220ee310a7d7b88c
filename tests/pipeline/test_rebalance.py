"""A second worker joining mid-stream takes partitions over without losing or doubling events."""

from __future__ import annotations

from pathlib import Path

from bot.pipeline.runtime import Components
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import (
    bot_settings,
    deliver,
    eventually,
    install_app,
    pull_request_payload,
    running_bot,
)

POLICY = "ferrybot/policy"


async def test_rebalance_hands_partitions_over_cleanly(
    fake_github: FakeGitHub, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Events before, during and after a rebalance each leave exactly one check run."""
    app = install_app(fake_github)
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    pulls = [
        fake_github.add_pull("acme", "app", head=f"r{index}", title="feat: r")
        for index in range(40)
    ]

    def done(upto: int) -> bool:
        return all(
            fake_github.check_runs("acme", "app", pr.pull.head_sha, POLICY) for pr in pulls[:upto]
        )

    async with running_bot(settings):
        for pr in pulls[:20]:
            await deliver(
                settings, "pull_request", pull_request_payload(app, pr.number, pr.pull.head_sha)
            )
        await eventually(lambda: done(20), within=60)
        second = settings.model_copy(update={"http_port": 0})
        async with running_bot(second, Components(ingress=False, worker=True, notifier=False)):
            for pr in pulls[20:]:
                payload = pull_request_payload(app, pr.number, pr.pull.head_sha, "reopened")
                await deliver(settings, "pull_request", payload)
            await eventually(lambda: done(40), within=60)
    for pr in pulls:
        assert len(fake_github.check_runs("acme", "app", pr.pull.head_sha, POLICY)) == 1
