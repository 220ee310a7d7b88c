"""Settings: env over file, readable errors, secrets kept out of messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing set: embedded broker, dry run, GitHub.com."""
    for name in ("FERRYBOT_KAFKA_BOOTSTRAP_SERVERS", "FERRYBOT_GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.embedded_broker
    assert settings.effective_dry_run
    assert settings.github_api_url == "https://api.github.com"
    assert settings.max_body_bytes == 25 * 1024 * 1024


def test_env_wins_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value in the environment overrides the same key in the --config file."""
    config = tmp_path / "ferrybot.yaml"
    config.write_text("http_port: 9000\nbot:\n  policy:\n    blocking_labels: [hold]\n")
    monkeypatch.setenv("FERRYBOT_HTTP_PORT", "9100")
    settings = load_settings(config)
    assert settings.http_port == 9100
    assert settings.bot.policy.blocking_labels == ["hold"]


def test_webhook_secrets_split_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several secrets can be configured for rotation."""
    monkeypatch.setenv("FERRYBOT_GITHUB_WEBHOOK_SECRETS", "old-secret, new-secret")
    secrets = load_settings().github_webhook_secrets
    assert [s.get_secret_value() for s in secrets] == ["old-secret", "new-secret"]


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"FERRYBOT_GITHUB_APP_ID": "12"}, "needs both FERRYBOT_GITHUB_APP_ID and a private key"),
        ({"FERRYBOT_HTTP_PORT": "http"}, "FERRYBOT_HTTP_PORT"),
        ({"FERRYBOT_GITHUB_API_URL": "api.github.com"}, "must start with http"),
        ({"FERRYBOT_BOT__POLICY__TITLE_PATTERN": "("}, "FERRYBOT_BOT__POLICY__TITLE_PATTERN"),
        ({"FERRYBOT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "SASL needs"),
    ],
    ids=["app-without-key", "bad-port", "bad-url", "bad-regex", "sasl-incomplete"],
)
def test_invalid_settings_say_what_to_fix(
    env: dict[str, str], fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken setting fails at start with the variable's name in the message."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="invalid setting") as raised:
        load_settings()
    assert fragment in str(raised.value)


def test_error_never_echoes_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation errors name the setting but not the value that was given."""
    monkeypatch.setenv("FERRYBOT_GITHUB_APP_ID", "not-a-number-s3cr3t-value")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "s3cr3t" not in str(raised.value)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    """--config with a path that does not exist says so."""
    with pytest.raises(SettingsError, match="no such file"):
        load_settings(tmp_path / "absent.yaml")
