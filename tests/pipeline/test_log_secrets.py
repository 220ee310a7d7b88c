"""Logs of a whole run: bound delivery fields everywhere, no secret or token anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bot.cli.send import send_github
from bot.logs import configure_logging
from bot.settings import LogFormat
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import (
    WEBHOOK_SECRET,
    bot_settings,
    deliver,
    eventually,
    install_app,
    pull_request_payload,
    running_bot,
)


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    yield capsys
    structlog.reset_defaults()  # later tests must not write into this test's closed capture


async def test_run_logs_are_json_bound_and_secret_free(
    fake_github: FakeGitHub,
    kafka_bootstrap: str,
    tmp_path: Path,
    json_logs: pytest.CaptureFixture[str],
) -> None:
    """Accepted, refused and handled events log their fields; secrets never appear."""
    app = install_app(fake_github)
    pr = fake_github.add_pull("acme", "app", head="logs", title="feat: logs")
    settings = bot_settings(kafka_bootstrap, fake_github, app, tmp_path)
    configure_logging(LogFormat.JSON, "debug", settings.secret_values())
    async with running_bot(settings):
        payload = pull_request_payload(app, pr.number, pr.pull.head_sha)
        url = f"http://{settings.http_host}:{settings.http_port}/webhooks/github"
        refused = await send_github(json.dumps(payload).encode(), "pull_request", url, "forged!")
        assert refused.status == 401
        await deliver(settings, "pull_request", payload)
        await eventually(lambda: bool(fake_github.check_runs("acme", "app", pr.pull.head_sha)))
    out = json_logs.readouterr()
    text = out.out + out.err
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    handled = [line for line in lines if line.get("message") == "event.handled"]
    assert handled and {"delivery", "event", "action", "subject", "source"} <= set(handled[0])
    assert handled[0]["event"] == "pull_request"
    assert any(line.get("message") == "webhook.refused" for line in lines)
    secrets = [WEBHOOK_SECRET, *app.private_key.splitlines()[1:3], *fake_github.state.tokens]
    for secret in secrets:
        assert secret not in text
