"""The behaviour config: what the bot does, as opposed to where it connects."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.notifications_config import NotificationsConfig

CONVENTIONAL_COMMITS = (
    r"^(build|chore|ci|docs|feat|fix|perf|refactor|revert|style|test)"
    r"(\([a-z0-9._/-]+\))?!?: \S.*$"
)


class PolicyConfig(BaseModel):
    """The `ferrybot/policy` check: blocking labels and the title convention."""

    model_config = ConfigDict(extra="forbid")

    blocking_labels: list[str] = Field(
        default=["do-not-merge/hold", "do-not-merge/work-in-progress"],
        description="Labels that fail the policy check while present on a pull request.",
    )
    title_pattern: str = Field(
        default=CONVENTIONAL_COMMITS,
        description="Regular expression a pull-request title must match "
        "(default: Conventional Commits).",
    )
    title_hint: str = Field(
        default="Use Conventional Commits: `type(scope): summary`, "
        "e.g. `fix(api): handle empty body`.",
        description="What the check tells the author when the title does not match.",
    )

    @field_validator("title_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"title_pattern is not a valid regular expression: {exc}") from exc
        return value


class BotConfig(BaseModel):
    """Everything the handlers read: the `bot:` section of the config file."""

    model_config = ConfigDict(extra="forbid")

    policy: PolicyConfig = Field(
        default_factory=PolicyConfig, description="Pull-request policy check."
    )
    notifications: NotificationsConfig = Field(
        default_factory=NotificationsConfig,
        description="Chat-ops: webhook channels and which notifications are routed to them.",
    )
