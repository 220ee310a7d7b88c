"""Config of slash-commands, approvals, the manifests check and per-repo overrides."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.forges import team_paths, usernames


class PermissionLevel(StrEnum):
    """Repository roles as the collaborator-permission endpoint reports them, weakest first."""

    NONE = "none"
    READ = "read"
    TRIAGE = "triage"
    WRITE = "write"
    MAINTAIN = "maintain"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for none up to 5 for admin."""
        return list(PermissionLevel).index(self)


class CommandGrant(BaseModel):
    """Who may run one command: a minimum repository role, or named users, or team members."""

    model_config = ConfigDict(extra="forbid")

    level: PermissionLevel | None = Field(
        default=None,
        description="Lowest repository role that may run the command (none: anyone). "
        "Unset: the command's built-in default.",
    )
    users: list[str] = Field(
        default_factory=list,
        description="GitHub logins or GitLab usernames allowed whatever their role.",
    )
    teams: list[str] = Field(
        default_factory=list,
        description="Teams whose active members are allowed: `org/team-slug` on GitHub, a "
        "group's path (`group/subgroup`, inherited membership counts) on GitLab.",
    )

    @field_validator("users")
    @classmethod
    def _logins(cls, value: list[str]) -> list[str]:
        return usernames(value)

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: list[str]) -> list[str]:
        return team_paths(value)


class CommandsConfig(BaseModel):
    """Slash-commands: who may run which, and how the bot answers."""

    model_config = ConfigDict(extra="forbid")

    permissions: dict[str, CommandGrant] = Field(
        default_factory=dict,
        description="Per command name (without `/`): who may run it, replacing the built-in "
        "default. `approve` lists the approvers.",
    )
    refusal_reply_interval_seconds: int = Field(
        default=60,
        ge=0,
        description="At most one refusal reply per user and pull request in this many seconds; "
        "the `confused` reaction is still added.",
    )
    lgtm_label: str = Field(default="lgtm", description="Label `/lgtm` sets.")
    approved_label: str = Field(default="approved", description="Label `/approve` sets.")
    hold_label: str = Field(
        default="do-not-merge/hold",
        description="Label `/hold` sets; keep it in `policy.blocking_labels`.",
    )


class ManifestsConfig(BaseModel):
    """The `ferrybot/manifests` check for GitOps repositories."""

    model_config = ConfigDict(extra="forbid")

    repositories: list[str] = Field(
        default_factory=list,
        description="`owner/name` of the GitOps repositories the check runs on.",
    )
    paths: list[str] = Field(
        default_factory=lambda: [""],
        description="Path prefixes whose changed `.yaml`/`.yml` files are checked "
        "(empty string: the whole repository).",
    )
    kubernetes_version: str = Field(
        default="1.31",
        description="Kubernetes version whose schemas objects are validated against.",
    )
    strict: bool = Field(
        default=True, description="Refuse fields the Kubernetes schema does not define."
    )
    max_files: int = Field(
        default=100, ge=1, le=3000, description="Most changed files read per pull request."
    )

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"1\.[0-9]{1,2}", value):
            raise ValueError("must be a Kubernetes minor version such as 1.31")
        return value


class RepoConfigPolicy(BaseModel):
    """Which keys a repo's `.github/ferrybot.yml` may set (Atlantis' allowed_overrides)."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        default=".github/ferrybot.yml",
        description="Path of the per-repo file, read from the default branch.",
    )
    allowed_overrides: list[str] = Field(
        default_factory=list,
        description="Dotted keys of the `bot:` config a repo file may set, e.g. "
        "`policy.required_labels`, `policy.size_thresholds`, `commands.permissions.label`. "
        "Empty: repo files are ignored.",
    )

    @model_validator(mode="after")
    def _keys(self) -> RepoConfigPolicy:
        for key in self.allowed_overrides:
            if not re.fullmatch(r"[a-z_]+(\.[a-z0-9_-]+)*", key):
                raise ValueError(f"allowed_overrides: {key!r} is not a dotted config key")
        return self
