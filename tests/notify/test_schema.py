"""The Notification message and the `notifications:` config validate what they accept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.settings import SettingsError, load_settings
from schemas.notification import ELLIPSIS, Notification, NotificationKind, Severity
from schemas.notifications_config import NotificationsConfig

SLACK_URL = "https://hooks.slack.com/services/T000/B000/s3cr3tT0ken"


def note(**overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "kind": "gate_failed",
        "subject": "model/churn",
        "title": "Gate failed",
        "delivery_id": "d-1",
        **overrides,
    }
    return Notification(**values)


def test_id_is_deterministic_from_the_cause() -> None:
    """The same cause gives the same id, so a retried handler is deduplicated."""
    assert note().id == note().id == "d-1:gate_failed:model/churn"
    assert note(pipeline="churn").id == "d-1:gate_failed:model/churn:churn"
    assert note(id="explicit").id == "explicit"


def test_round_trips_through_kafka_bytes() -> None:
    """What is published is what the notifier reads, field order included."""
    original = note(fields={"b": "2", "a": "1"}, links={"PR": "https://x.example/1"})
    again = Notification.from_bytes(original.to_bytes())
    assert again == original
    assert list(again.fields) == ["b", "a"]


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://x.example/f", "/relative", "https://", "https://x.example/a b"],
    ids=["javascript", "ftp", "relative", "no-host", "space"],
)
def test_links_must_be_http_urls(url: str) -> None:
    """Only absolute http(s) links are accepted."""
    with pytest.raises(ValidationError):
        note(links={"label": url})


def test_user_text_is_clipped_not_refused() -> None:
    """A very long title or value is cut, so a handler never fails on what someone typed."""
    long = note(title="t" * 5000, fields={"branch": "b" * 9000})
    assert len(long.title) == 1000 and long.title.endswith(ELLIPSIS)
    assert len(long.fields["branch"]) == 4000


def test_severity_is_ordered_by_rank() -> None:
    """info < warning < error < critical, not alphabetical."""
    assert Severity.INFO < Severity.WARNING < Severity.ERROR < Severity.CRITICAL
    assert Severity.CRITICAL >= "error"
    assert sorted([Severity.ERROR, Severity.INFO, Severity.CRITICAL])[-1] is Severity.CRITICAL


def test_every_kind_in_the_issue_exists() -> None:
    """The kinds routes can name."""
    assert {k.value for k in NotificationKind} == {
        "promotion_opened",
        "promotion_merged",
        "promotion_failed",
        "gate_failed",
        "check_failed",
        "command_refused",
        "dlq_grew",
        "drift_alert",
        "supply_chain_failed",
    }


def test_a_route_naming_an_unknown_channel_is_refused_by_name() -> None:
    """The error names the route and the missing channel."""
    with pytest.raises(
        ValidationError, match=r"route 'promotions' names unknown channels \['ml'\]"
    ):
        NotificationsConfig.model_validate(
            {
                "channels": {"ops": {"provider": "slack", "url": SLACK_URL}},
                "routes": {"promotions": {"channels": ["ml"]}},
            }
        )


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ({"provider": "slack", "url": "ftp://hooks.example/s3cr3tT0ken"}, "http:// or https://"),
        ({"provider": "slack", "url": "hooks.example/s3cr3tT0ken"}, "http:// or https://"),
        (
            {"provider": "slack", "url": SLACK_URL, "signing_secret": "s3cr3tT0ken-long-enough"},
            "only used by the generic provider",
        ),
        (
            {"provider": "generic", "url": SLACK_URL, "signing_secret": "s3cr3tT0ken"},
            "at least 16",
        ),
    ],
    ids=["not-http", "no-scheme", "secret-on-slack", "short-secret"],
)
def test_bad_channels_fail_at_start_without_echoing_secrets(
    channel: dict[str, Any], message: str
) -> None:
    """A bad channel is refused with a reason that does not repeat the URL or secret."""
    with pytest.raises(ValidationError) as caught:
        NotificationsConfig.model_validate({"channels": {"ops": channel}})
    assert message in str(caught.value)
    assert "s3cr3tT0ken" not in str(caught.value)


def test_settings_error_does_not_echo_the_url() -> None:
    """Through load_settings too, the message names the setting, not its value."""
    with pytest.raises(SettingsError) as caught:
        load_settings(
            bot={"notifications": {"channels": {"ops": {"provider": "x", "url": SLACK_URL}}}}
        )
    assert "FERRYBOT_BOT__NOTIFICATIONS__CHANNELS__OPS" in str(caught.value)
    assert "s3cr3tT0ken" not in str(caught.value)


def test_webhook_url_can_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Routes in the config file, the secret URL in the environment."""
    config = tmp_path / "ferrybot.yaml"
    config.write_text(
        "bot:\n"
        "  notifications:\n"
        "    channels:\n"
        "      ml: {provider: slack, url: 'https://placeholder.invalid/'}\n"
        "    routes:\n"
        "      all: {channels: [ml]}\n"
    )
    monkeypatch.setenv("FERRYBOT_BOT__NOTIFICATIONS__CHANNELS__ML__URL", SLACK_URL)
    settings = load_settings(config)
    assert settings.bot.notifications.channels["ml"].url.get_secret_value() == SLACK_URL
    assert SLACK_URL not in repr(settings)
