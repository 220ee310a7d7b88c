"""One module per chat service; `build_request` picks the right one for a channel."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from bot.notify.providers import discord, generic, mattermost, slack, teams
from schemas.notification import Notification
from schemas.notifications_config import ChannelConfig, Provider

# The pace each service documents for one webhook (Slack: one message per second; Discord:
# about 5 per 2 s; Teams workflows: a few per second); 429 + Retry-After covers the rest.
DEFAULT_MIN_INTERVAL = {
    Provider.SLACK: 1.0,
    Provider.MATTERMOST: 0.0,
    Provider.TEAMS: 0.25,
    Provider.DISCORD: 0.5,
    Provider.GENERIC: 0.0,
}

_PAYLOADS = {
    Provider.SLACK: slack.payload,
    Provider.MATTERMOST: mattermost.payload,
    Provider.TEAMS: teams.payload,
    Provider.DISCORD: discord.payload,
}


@dataclass(frozen=True)
class OutgoingRequest:
    """The body and headers of one POST to a webhook (the URL stays with the channel)."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def min_interval(channel: ChannelConfig) -> float:
    """Least seconds between two posts to this channel."""
    if channel.min_interval_seconds is not None:
        return channel.min_interval_seconds
    return DEFAULT_MIN_INTERVAL[channel.provider]


def build_request(
    channel: ChannelConfig, notification: Notification, now: float | None = None
) -> OutgoingRequest:
    """Render the notification for the channel's service; generic requests are signed."""
    headers = {"Content-Type": "application/json", "User-Agent": "ferrybot-notifier"}
    if channel.provider is Provider.GENERIC:
        secret = channel.signing_secret.get_secret_value() if channel.signing_secret else None
        body, extra = generic.request(notification, secret, now if now is not None else time.time())
        return OutgoingRequest(body, {**headers, **extra})
    payload: dict[str, Any] = _PAYLOADS[channel.provider](notification)
    return OutgoingRequest(json.dumps(payload, ensure_ascii=False).encode(), headers)
