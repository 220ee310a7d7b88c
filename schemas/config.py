"""The behaviour config: what the bot does, as opposed to where it connects."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.commands_config import CommandsConfig, ManifestsConfig, RepoConfigPolicy
from schemas.evaluation import EvaluationConfig
from schemas.notifications_config import NotificationsConfig
from schemas.pipelines import Pipeline
from schemas.rules import PolicyRule
from schemas.trust import SecretsConfig, TrustConfig

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
    required_labels: list[str] = Field(
        default_factory=list,
        description="Label patterns (`*` matches any text) each of which some label on the "
        "pull request must match, e.g. `kind/*`.",
    )
    size_labels: bool = Field(
        default=True, description="Label pull requests `size/XS`..`size/XXL` by lines changed."
    )
    size_thresholds: dict[str, int] = Field(
        default_factory=lambda: {"XS": 0, "S": 10, "M": 30, "L": 100, "XL": 500, "XXL": 1000},
        description="Smallest number of changed lines (additions + deletions) for each size.",
    )

    rules: list[PolicyRule] = Field(
        default_factory=list,
        description="CEL rules over `pr` (title, labels, changed_files, size, author, base), "
        "each of which must be true; its message is shown when it is not.",
    )

    @field_validator("size_thresholds")
    @classmethod
    def _sizes(cls, value: dict[str, int]) -> dict[str, int]:
        if not value or min(value.values()) != 0:
            raise ValueError("size_thresholds needs one size starting at 0 lines")
        if any(n < 0 for n in value.values()) or len(set(value.values())) != len(value):
            raise ValueError("size_thresholds must be distinct numbers of lines, 0 or more")
        return value

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
    commands: CommandsConfig = Field(
        default_factory=CommandsConfig,
        description="Slash-commands: permissions per command, labels, reply limits.",
    )
    manifests: ManifestsConfig = Field(
        default_factory=ManifestsConfig,
        description="`ferrybot/manifests`: Kubernetes manifests check on GitOps repositories.",
    )
    repo_config: RepoConfigPolicy = Field(
        default_factory=RepoConfigPolicy,
        description="Per-repo `.github/ferrybot.yml` and the keys it may override.",
    )
    evaluation: EvaluationConfig = Field(
        default_factory=EvaluationConfig,
        description="Continuous evaluation: which alert labels name the pipeline and stage.",
    )
    secrets: SecretsConfig = Field(
        default_factory=SecretsConfig,
        description="`ferrybot/secrets`: secret scanning of the lines pull requests add.",
    )
    trust: TrustConfig = Field(
        default_factory=TrustConfig,
        description="Public keys and the Sigstore trusted root the supply-chain gate uses.",
    )
    pipelines: list[Pipeline] = Field(
        default_factory=list,
        description="Promotion pipelines: an MLflow model and/or an image and its stages.",
    )

    @field_validator("pipelines")
    @classmethod
    def _unique_pipelines(cls, value: list[Pipeline]) -> list[Pipeline]:
        names = [pipeline.name for pipeline in value]
        if len(set(names)) != len(names):
            raise ValueError(f"pipeline names repeat: {names}")
        return value

    @model_validator(mode="after")
    def _known_keys(self) -> BotConfig:
        for pipeline in self.pipelines:
            for stage in pipeline.stages:
                policy = stage.supply_chain
                if policy is None:
                    continue
                named = list(policy.image.keys if policy.image else [])
                if policy.model is not None and policy.model.key is not None:
                    named.append(policy.model.key)
                if missing := sorted(set(named) - set(self.trust.keys)):
                    raise ValueError(
                        f"pipeline {pipeline.name!r} stage {stage.name!r} names keys "
                        f"{missing} that `trust.keys` does not define"
                    )
                if policy.image and policy.image.keyless and self.trust.trusted_root is None:
                    raise ValueError(
                        f"pipeline {pipeline.name!r} stage {stage.name!r} allows keyless "
                        "signers: set `trust.trusted_root`"
                    )
        return self

    def pipeline(self, name: str) -> Pipeline | None:
        """The pipeline called `name`."""
        return next((p for p in self.pipelines if p.name == name), None)
