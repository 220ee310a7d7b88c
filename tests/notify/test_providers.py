"""Every provider's payload fits its service's documented shape, even at the limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.notify.providers import build_request
from schemas.notification import Notification
from schemas.notifications_config import ChannelConfig
from tests.commands.harness import OWNER, REPO, Bot, bot, comment
from tests.notify.receivers import (
    discord_problems,
    generic_problems,
    mattermost_problems,
    slack_problems,
    teams_problems,
)

__all__ = ["bot"]
SECRET = "generic-signing-s3cret-0123456789"
CHECKS: dict[str, Callable[[Any, bytes], list[str]]] = {
    "slack": lambda payload, raw: slack_problems(payload),
    "mattermost": lambda payload, raw: mattermost_problems(payload),
    "teams": teams_problems,
    "discord": lambda payload, raw: discord_problems(payload),
}


def channel(provider: str) -> ChannelConfig:
    extra = {"signing_secret": SECRET} if provider == "generic" else {}
    return ChannelConfig.model_validate(
        {"provider": provider, "url": "https://hooks.example/x", **extra}
    )


def promotion() -> Notification:
    return Notification(
        kind="promotion_opened",
        subject="model/churn",
        title="Promote churn v7 to production",
        text="Opened acme/gitops#12: churn 6 → 7 in production.",
        fields={"Model": "churn", "Version": "7", "Stage": "production"},
        links={"Pull request": "https://github.com/acme/gitops/pull/12"},
        delivery_id="3f1c",
        repository="acme/gitops",
        pipeline="churn",
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def everything_at_the_maximum() -> Notification:
    return Notification(
        kind="promotion_failed",
        severity="critical",
        subject="model/" + "m" * 390,
        title="😀" + "T" * 2000,
        text="<!channel> " + "x" * 20_000,
        fields={f"{n:02d}" + "n" * 300: "&" * 6000 for n in range(50)},
        links={f"{n}" + "l" * 300: "https://e.example/" + "é" * 1900 for n in range(10)},
        delivery_id="d" * 200,
    )


@pytest.mark.parametrize("provider", list(CHECKS), ids=list(CHECKS))
@pytest.mark.parametrize(
    "make", [promotion, everything_at_the_maximum], ids=["promotion", "maximum"]
)
def test_payload_has_the_documented_shape(provider: str, make: Callable[[], Notification]) -> None:
    """The local receiver's checks (the service's documented limits) find nothing wrong."""
    request = build_request(channel(provider), make())
    assert CHECKS[provider](json.loads(request.body), request.body) == []
    assert request.headers["Content-Type"] == "application/json"


def test_generic_request_is_signed_over_the_body() -> None:
    """The signature verifies against the body; any change to the body breaks it."""
    request = build_request(channel("generic"), promotion(), now=datetime.now(UTC).timestamp())
    assert generic_problems(request.body, request.headers, SECRET) == []
    tampered = request.body.replace(b"production", b"staging")
    assert generic_problems(tampered, request.headers, SECRET) == ["bad signature"]
    document = json.loads(request.body)
    assert document["id"] == promotion().id
    assert str(document["timestamp"]) == request.headers["X-Ferrybot-Timestamp"]


def test_generic_without_a_secret_is_sent_unsigned() -> None:
    """No secret configured: no signature header (a receiver that needs one refuses it)."""
    unsigned = ChannelConfig.model_validate({"provider": "generic", "url": "https://h.example/"})
    assert "X-Ferrybot-Signature" not in build_request(unsigned, promotion()).headers


def test_discord_never_pings_anyone() -> None:
    """allowed_mentions with an empty parse list: not even a mention Discord would parse."""
    payload = json.loads(build_request(channel("discord"), promotion()).body)
    assert payload["allowed_mentions"] == {"parse": []}


def test_teams_is_an_adaptive_card_in_a_message() -> None:
    """The shape the Teams "post a card" workflow expects."""
    payload = json.loads(build_request(channel("teams"), promotion()).body)
    (attachment,) = payload["attachments"]
    assert payload["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["actions"][0]["url"] == "https://github.com/acme/gitops/pull/12"


def test_slack_has_a_fallback_text_and_blocks() -> None:
    """`text` is what notifications show; `blocks` is the message."""
    payload = json.loads(build_request(channel("slack"), promotion()).body)
    assert payload["text"] == "info: Promote churn v7 to production"
    assert [b["type"] for b in payload["blocks"]] == [
        "header",
        "section",
        "section",
        "section",
        "context",
    ]
    links = payload["blocks"][3]["text"]["text"]
    assert links == "<https://github.com/acme/gitops/pull/12|Pull request>"


@pytest.mark.parametrize("provider", ["slack", "mattermost", "teams", "discord", "generic"])
async def test_command_refused_reads_as_typed(bot: Bot, provider: str) -> None:
    """A refusal reaches chat as plain text, escaped once by the provider: no GitHub markup."""
    pr = bot.fake.add_pull(OWNER, REPO, head="n", title="feat: n", user="author")
    bot.fake.set_permission(OWNER, REPO, "maria", "triage")
    await comment(bot, pr, "/label <b>@admin</b>", "maria")
    (refused,) = [n for n in bot.publisher.notifications if n.kind == "command_refused"]
    assert refused.text == (
        "`/label <b>@admin</b>`: this repository has no label `<b>@admin</b>`; "
        "create it on GitHub first, or check the spelling"
    )
    body = build_request(channel(provider), refused).body.decode()
    assert "&#" not in body and "code>" not in body
    assert "/label" in body and "this repository has no label" in body
    if provider != "generic":  # the generic webhook is for programs, which get the raw text
        assert "@admin" not in body and "<b>" not in body
        problems = CHECKS[provider](json.loads(body), body.encode())
        assert problems == []
