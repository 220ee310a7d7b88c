"""Log redaction."""

from __future__ import annotations

from bot.logs import REDACTED, SecretRedactor


def test_known_secrets_are_blanked_anywhere() -> None:
    """A configured secret inside any value, nested or not, never survives."""
    redactor = SecretRedactor(["ghs_supersecrettoken"])
    event = {
        "message": "github.call",
        "url": "https://x/?t=ghs_supersecrettoken",
        "body": {"nested": ["ghs_supersecrettoken"]},
    }
    out = redactor(None, "info", event)
    assert "ghs_supersecrettoken" not in repr(out)
    assert out["url"] == f"https://x/?t={REDACTED}"


def test_sensitive_keys_are_blanked() -> None:
    """Fields named like credentials are blanked whatever they hold."""
    out = SecretRedactor()(None, "info", {"authorization": "token abc", "webhook_url": "u"})
    assert out == {"authorization": REDACTED, "webhook_url": REDACTED}
