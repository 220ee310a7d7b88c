"""`ferrybot run` with no configuration, then `ferrybot send`: the quick-start demo, for real."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from pathlib import Path

from bot.pipeline.broker import free_port
from tests.support.bot import eventually
from tests.support.payloads import DATA

SAMPLE = DATA / "github" / "webhooks" / "pull_request.opened.0.json"


async def test_zero_config_run_records_the_dry_run_check(tmp_path: Path) -> None:
    """Embedded broker, generated secret, signed send → the check run in the dry-run log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERRYBOT_")}
    env.update(
        {
            "FERRYBOT_HTTP_PORT": str(free_port()),
            "FERRYBOT_STATE_DIR": str(tmp_path / "state"),
            "FERRYBOT_LOG_FORMAT": "json",
        }
    )
    log = tmp_path / "run.log"
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=log.open("wb")
    )
    try:
        await eventually(lambda: "ingress.listening" in log.read_text(), within=60)
        secret_file = tmp_path / "state" / "webhook-secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert str(secret_file) in log.read_text()  # the run says where the secret is
        send = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "send",
            str(SAMPLE),
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await send.communicate()
        assert send.returncode == 0
        assert out.decode().startswith("HTTP 202")
        # Per-event lines are debug; the dry-run record of the check run is the handled event.
        await eventually(lambda: '"message": "github.dry_run"' in log.read_text(), within=60)
    finally:
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 60) == 0
    text = log.read_text()
    assert '"message": "github.dry_run"' in text
    assert "/repos/Codertocat/Hello-World/check-runs" in text
    assert "ferrybot/policy" in text
    recorded = (tmp_path / "state" / "dry-run.jsonl").read_text()
    assert '"name": "ferrybot/policy"' in recorded
    assert secret_file.read_text().strip() not in text
