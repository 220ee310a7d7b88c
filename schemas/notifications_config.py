"""The `notifications:` config: chat channels (secret webhook URLs) and the routes to them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from schemas.notification import NotificationKind, Severity

ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class Provider(StrEnum):
    """Which chat service a channel's webhook belongs to."""

    SLACK = "slack"
    MATTERMOST = "mattermost"
    TEAMS = "teams"
    DISCORD = "discord"
    GENERIC = "generic"


class ChannelConfig(BaseModel):
    """One webhook; its URL is a credential (whoever has it can post), so it is a secret."""

    # A rejected URL must not be echoed back in the error.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)

    provider: Provider = Field(description="slack, mattermost, teams, discord or generic.")
    url: SecretStr = Field(description="The incoming-webhook URL (http:// or https://).")
    signing_secret: SecretStr | None = Field(
        default=None,
        description="generic only: HMAC-SHA256 key for the X-Ferrybot-Signature header.",
    )
    min_interval_seconds: float | None = Field(
        default=None,
        ge=0,
        le=60,
        description="Least time between two posts to this webhook. Unset: the provider's "
        "documented pace (Slack 1 s, Discord 0.5 s, Teams 0.25 s, others none).",
    )

    @model_validator(mode="after")
    def _valid(self) -> ChannelConfig:
        parts = urlsplit(self.url.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an absolute http:// or https:// URL")
        if self.signing_secret is not None and self.provider is not Provider.GENERIC:
            raise ValueError("signing_secret is only used by the generic provider")
        if self.signing_secret is not None and len(self.signing_secret) < 16:
            raise ValueError("signing_secret must be at least 16 characters")
        return self


class RouteConfig(BaseModel):
    """Which notifications go to which channels; empty filters match everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: list[NotificationKind] = Field(
        default_factory=list, description="Kinds this route takes (empty: all)."
    )
    repositories: list[str] = Field(
        default_factory=list,
        description="owner/name globs, e.g. acme/* (empty: any). Case-insensitive.",
    )
    pipelines: list[str] = Field(
        default_factory=list, description="Pipeline name globs (empty: any)."
    )
    min_severity: Severity = Field(
        default=Severity.INFO, description="Lowest severity this route takes."
    )
    channels: list[ChannelName] = Field(min_length=1, description="Channel names to send to.")


class NotificationsConfig(BaseModel):
    """Chat-ops: channels by name, routes by name, and how hard delivery tries."""

    # Errors name the problem, never the input: it holds webhook URLs.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    channels: dict[ChannelName, ChannelConfig] = Field(
        default_factory=dict, description="Webhooks by channel name."
    )
    routes: dict[str, RouteConfig] = Field(
        default_factory=dict, description="Routes by name; a notification takes every match."
    )
    request_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Longest wait for one webhook answer."
    )
    retry_max_wait_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest back-off between attempts when the service gave no Retry-After.",
    )
    give_up_after_seconds: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="How long one notification is retried through an outage before it is "
        "dropped (logged as notification.expired).",
    )

    @model_validator(mode="after")
    def _routes_name_known_channels(self) -> NotificationsConfig:
        for route_name, route in self.routes.items():
            unknown = [name for name in route.channels if name not in self.channels]
            if unknown:
                raise ValueError(
                    f"route {route_name!r} names unknown channels {unknown}; "
                    f"define them under notifications.channels (known: {sorted(self.channels)})"
                )
        return self

    def secret_values(self) -> list[str]:
        """Every webhook URL and signing secret, for the log redactor."""
        secrets: list[str] = []
        for channel in self.channels.values():
            secrets.append(channel.url.get_secret_value())
            if channel.signing_secret is not None:
                secrets.append(channel.signing_secret.get_secret_value())
        return secrets
