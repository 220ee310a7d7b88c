"""Start-up and `send` failures, as a user sees them: one line on stderr, the right exit code."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.pipeline.broker import free_port
from tests.support.bot import eventually
from tests.support.payloads import DATA

SECRET_LOOKING = "s3cr3t-v4lue"


def _bot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("FERRYBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, "FERRYBOT_HTTP_PORT": str(free_port()), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"FERRYBOT_REGISTRY_URLS": '{"distribution": ' + SECRET_LOOKING},
            "FERRYBOT_REGISTRY_URLS",
        ),
        (
            {"FERRYBOT_BOT__POLICY__BLOCKING_LABELS": f"[{SECRET_LOOKING}"},
            "FERRYBOT_BOT__POLICY__BLOCKING_LABELS",
        ),
        ({"FERRYBOT_LOG_LEVEL": f"loud-{SECRET_LOOKING}"}, "FERRYBOT_LOG_LEVEL"),
        ({"FERRYBOT_LOG_FORMAT": f"xml-{SECRET_LOOKING}"}, "FERRYBOT_LOG_FORMAT"),
        ({"FERRYBOT_GITHUB_APP_ID": ""}, "FERRYBOT_GITHUB_APP_ID"),
        ({"FERRYBOT_HTTP_PORT": SECRET_LOOKING}, "FERRYBOT_HTTP_PORT"),
    ],
    ids=["malformed-json", "malformed-nested-json", "log-level", "log-format", "empty-int", "port"],
)
def test_an_invalid_setting_is_one_line_naming_the_variable(
    env: dict[str, str], named: str, tmp_path: Path
) -> None:
    """Exit 2, one stderr line naming the variable, no traceback, the value not echoed."""
    result = _bot("run", env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ferrybot: invalid setting {named}: ")
    assert SECRET_LOOKING not in result.stderr
    assert not (tmp_path / ".ferrybot").exists()  # nothing was started or written


def test_an_invalid_yaml_key_is_named_with_its_file(tmp_path: Path) -> None:
    """A bad value in the --config file names the key and the file, not a variable."""
    config = tmp_path / "ferrybot.yaml"
    config.write_text(f"log_level: {SECRET_LOOKING}\nbot:\n  policy:\n    title_pattern: '('\n")
    result = _bot("--config", str(config), "run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert sorted(result.stderr.splitlines()) == [
        f"ferrybot: invalid setting bot.policy.title_pattern in {config}: title_pattern is not "
        "a valid regular expression: missing ), unterminated subpattern at position 0",
        f"ferrybot: invalid setting log_level in {config}: Input should be 'debug', 'info', "
        "'warning', 'error' or 'critical'",
    ]
    assert SECRET_LOOKING not in result.stderr


def test_send_to_a_closed_port_is_one_line(tmp_path: Path) -> None:
    """`ferrybot send` to nothing listening: exit 1, one line saying it cannot reach the URL."""
    url = f"http://127.0.0.1:{free_port()}/webhooks/github"
    sample = DATA / "github" / "webhooks" / "pull_request.opened.0.json"
    result = _bot(
        "send",
        str(sample),
        "--url",
        url,
        env={"FERRYBOT_GITHUB_WEBHOOK_SECRETS": "x" * 20},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"ferrybot: cannot reach {url}: connection refused; is the ingress running?"
    ]


async def test_unknown_variables_are_warned_once_with_the_closest_name(tmp_path: Path) -> None:
    """A misspelt FERRYBOT_* variable is named at start, once, with the setting it resembles."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("FERRYBOT_")}
    env = {
        **clean,
        "FERRYBOT_HTTP_PORT": str(free_port()),
        "FERRYBOT_STATE_DIR": str(tmp_path / "state"),
        "FERRYBOT_LOG_FORMAT": "json",
        "FERRYBOT_HTTP_PROT": "9999",
    }
    log = tmp_path / "run.log"
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=log.open("wb")
    )
    try:
        await eventually(lambda: "ingress.listening" in log.read_text(), within=60)
    finally:
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 60) == 0
    warnings = [
        json.loads(line)
        for line in log.read_text().splitlines()
        if '"settings.unknown_variable"' in line
    ]
    assert [(w["variable"], w["closest"], w["level"]) for w in warnings] == [
        ("FERRYBOT_HTTP_PROT", "FERRYBOT_HTTP_PORT", "warning"),
    ]


def test_a_misspelt_nested_key_fails_with_the_closest_name(tmp_path: Path) -> None:
    """Under `bot`, an unknown key is refused (the config forbids extras) and the fix is named."""
    result = _bot("run", env={"FERRYBOT_BOT__POLICY__BLOCKING_LABLES": '["hold"]'}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "ferrybot: invalid setting FERRYBOT_BOT__POLICY__BLOCKING_LABLES: Extra inputs are not "
        "permitted: did you mean FERRYBOT_BOT__POLICY__BLOCKING_LABELS?"
    ]
