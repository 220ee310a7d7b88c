"""Continuous evaluation in the config: alert label names, `on_alert` rules, the retraining."""

from __future__ import annotations

import re
from enum import StrEnum
from fnmatch import fnmatchcase

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.forges import ForgeKind, repository_path

_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{0,100}", re.ASCII)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvaluationConfig(_Strict):
    """Which alert labels name the pipeline and the stage (`bot.evaluation`)."""

    pipeline_label: str = Field(
        default="ferrybot_pipeline", description="Alert label whose value is a pipeline's name."
    )
    stage_label: str = Field(
        default="ferrybot_stage", description="Alert label whose value is one of its stages."
    )

    @field_validator("pipeline_label", "stage_label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _LABEL.fullmatch(value):
            raise ValueError(f"{value!r} is not a Prometheus label name")
        return value


class Reaction(StrEnum):
    """What an alert may make ferrybot do."""

    RETRAIN = "retrain"
    ROLLBACK = "rollback"
    NOTIFY = "notify"


class AlertMatch(_Strict):
    """Which alerts a rule takes; an empty list matches anything."""

    alertname: list[str] = Field(
        default_factory=list, description="Alert names (globs, `*` = any text)."
    )
    severity: list[str] = Field(default_factory=list, description="Values of `severity`.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Other labels and the values (globs) they must have."
    )
    stages: list[str] = Field(
        default_factory=list, description="Stages (the stage label) the rule applies to."
    )

    def matches(self, labels: dict[str, str], stage: str | None) -> bool:
        """True when every condition holds for an alert with these labels."""
        name = labels.get("alertname", "")
        if self.alertname and not any(fnmatchcase(name, p) for p in self.alertname):
            return False
        if self.severity and labels.get("severity") not in self.severity:
            return False
        if self.stages and stage not in self.stages:
            return False
        return all(
            key in labels and fnmatchcase(labels[key], pattern)
            for key, pattern in self.labels.items()
        )


class AlertRule(_Strict):
    """One `on_alert` entry: a match and the reactions it triggers."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Named in audit records.")
    match: AlertMatch = Field(default_factory=AlertMatch)
    reactions: list[Reaction] = Field(min_length=1)
    rollback_window_seconds: int = Field(
        default=24 * 3600,
        gt=0,
        description="`rollback` only when the stage was promoted at most this long before the "
        "alert fired.",
    )
    rollback_labels: list[str] = Field(
        default_factory=lambda: ["rollback"], description="Labels added to the rollback PR."
    )

    @field_validator("reactions")
    @classmethod
    def _unique(cls, value: list[Reaction]) -> list[Reaction]:
        if len(set(value)) != len(value):
            raise ValueError("a reaction is listed twice")
        return value


class RetrainConfig(_Strict):
    """The training run: on GitHub `workflow_dispatch` of a workflow file or a
    `repository_dispatch`; on GitLab a pipeline on `ref` with FERRYBOT_* variables."""

    forge: ForgeKind = Field(
        default=ForgeKind.GITHUB, description="Where the training repository lives."
    )
    repo: str = Field(
        description="The repository with the training workflow or pipeline: `owner/name` on "
        "GitHub, the project's path on GitLab."
    )
    workflow: str | None = Field(
        default=None, description="Workflow file name (e.g. `retrain.yml`) for workflow_dispatch."
    )
    ref: str = Field(default="main", description="Branch the workflow runs on.")
    event_type: str | None = Field(
        default=None, description="`repository_dispatch` event type instead of a workflow."
    )
    cooldown_seconds: int = Field(
        default=6 * 3600,
        ge=0,
        description="Alerts dispatch training for this model at most once in this window.",
    )

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str, info: ValidationInfo) -> str:
        return repository_path(value, info.data.get("forge"))

    @field_validator("workflow")
    @classmethod
    def _workflow(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}\.ya?ml|\d{1,20}", value):
            raise ValueError("workflow is a file name in .github/workflows (or a workflow id)")
        return value

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", value) or ".." in value:
            raise ValueError("ref is a plain branch name such as `main`")
        return value

    @field_validator("event_type")
    @classmethod
    def _event_type(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", value):
            raise ValueError("event_type is a word such as `retrain`")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> RetrainConfig:
        if self.forge is ForgeKind.GITLAB:
            if self.workflow is not None or self.event_type is not None:
                raise ValueError("on GitLab, retrain runs a pipeline on `ref`: drop `workflow`")
            return self
        if (self.workflow is None) == (self.event_type is None):
            raise ValueError("retrain needs exactly one of `workflow` and `event_type`")
        return self
