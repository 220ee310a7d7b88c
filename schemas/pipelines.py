"""Promotion pipelines in the config: the artifact, its trigger and the ordered stages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.gitops.identifiers import (
    InvalidIdentifier,
    validate_image_repository,
    validate_model_alias,
    validate_model_name,
    validate_pipeline_name,
    validate_repo_path,
    validate_stage_name,
)
from bot.gitops.templates import TemplateError, template_placeholders
from bot.gitops.yamlpath import parse_path
from schemas.evaluation import AlertRule, Reaction, RetrainConfig
from schemas.forges import ForgeKind, repository_path, team_paths, usernames
from schemas.rules import GateRule
from schemas.trust import SupplyChainPolicy

_TEAM_SLUG = re.compile(r"[A-Za-z0-9_.-]{1,100}", re.ASCII)
_SEMVER_CLAUSE = re.compile(r"(>=|<=|>|<|==)\s*v?\d+(\.\d+){0,2}", re.ASCII)
MODEL_PLACEHOLDERS = frozenset({"name", "version", "alias", "run_id"})
IMAGE_PLACEHOLDERS = frozenset({"repository", "tag", "digest"})


def _identifier(check: Callable[[object], str], value: str) -> str:
    try:
        return check(value)
    except InvalidIdentifier as exc:
        raise ValueError(str(exc)) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelArtifact(_Strict):
    """An MLflow registered model."""

    name: str = Field(description="Registered model name in MLflow, e.g. `churn`.")
    alias: str | None = Field(
        default="champion", description="Setting this alias on a version triggers a promotion."
    )
    tag: dict[str, str] = Field(
        default_factory=dict,
        max_length=1,
        description="Setting this version tag (key: value) triggers a promotion, e.g. "
        "`{validation: passed}`.",
    )
    on_created: bool = Field(
        default=False, description="Every new version triggers a promotion (no alias or tag)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifier(validate_model_name, value)

    @field_validator("alias")
    @classmethod
    def _alias(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(validate_model_alias, value)


class ImageArtifact(_Strict):
    """A container image repository in a configured registry."""

    repository: str = Field(description="Repository as the registry names it, e.g. `team/app`.")
    registry: str = Field(
        default="distribution",
        description="Key of FERRYBOT_REGISTRY_URLS where tags and digests are confirmed.",
    )
    semver: str | None = Field(
        default=None, description="Only tags matching this range trigger, e.g. `>=1.0.0,<2`."
    )
    tag_pattern: str | None = Field(
        default=None, description="Only tags fully matching this regular expression trigger."
    )
    pin_digest: bool = Field(
        default=False, description="Write the manifest digest next to the tag (kustomize)."
    )

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        return _identifier(validate_image_repository, value)

    @field_validator("semver")
    @classmethod
    def _semver(cls, value: str | None) -> str | None:
        if value is not None:
            for clause in value.split(","):
                if not _SEMVER_CLAUSE.fullmatch(clause.strip()):
                    raise ValueError(f"semver clause {clause!r} is not like `>=1.0.0`")
        return value

    @field_validator("tag_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"tag_pattern is not a valid regular expression: {exc}") from None
        return value


class _FileWrite(_Strict):
    file: str = Field(description="Path of the file in the GitOps repository.")

    @field_validator("file")
    @classmethod
    def _file(cls, value: str) -> str:
        return _identifier(validate_repo_path, value)


class YamlWrite(_FileWrite):
    """Set a YAML path to a rendered template (KServe, Seldon, any manifest)."""

    kind: Literal["yaml"] = "yaml"
    path: str = Field(description="YAML path such as `spec.predictor.model.storageUri`.")
    value: str = Field(description="Template such as `models:/{name}/{version}`.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        parse_path(value)
        return value

    @field_validator("value")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            template_placeholders(value)
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
        return value


class HelmWrite(YamlWrite):
    """Set a Helm values key (same path syntax), e.g. `image.tag` to `{tag}`."""

    kind: Literal["helm"] = "helm"  # type: ignore[assignment]


class KustomizeImageWrite(_FileWrite):
    """Point a kustomization `images:` entry at the new tag (and digest when pinning)."""

    kind: Literal["kustomize"] = "kustomize"
    image: str = Field(description="The entry's `name`, e.g. `registry.example.com/team/app`.")

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        return _identifier(validate_image_repository, value)


Write = Annotated[YamlWrite | HelmWrite | KustomizeImageWrite, Field(discriminator="kind")]


class Threshold(_Strict):
    """Bounds on one metric of the candidate."""

    min: float | None = None
    max: float | None = None


class Comparison(_Strict):
    """The candidate may not be worse than the version now in the stage by more than `margin`."""

    metric: str
    higher_is_better: bool = True
    margin: float = Field(default=0.0, ge=0)


class GateConfig(_Strict):
    """The `ferrybot/model-gate` check for a stage."""

    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    not_worse_than_current: list[Comparison] = Field(default_factory=list)
    rules: list[GateRule] = Field(
        default_factory=list,
        description="CEL rules over `candidate`, `current` and `stage`, each of which must be "
        "true (thresholds and comparisons above are shorthand for such rules).",
    )


class Stage(_Strict):
    """One environment: the GitOps repository, the files and places to write, who approves."""

    name: str
    forge: ForgeKind = Field(
        default=ForgeKind.GITHUB,
        description="Where the GitOps repository lives: `github` or `gitlab` "
        "(FERRYBOT_GITLAB_URL names the instance).",
    )
    repo: str = Field(
        description="The GitOps repository: `owner/name` on GitHub, the project's full path "
        "(`group/subgroup/project`) on GitLab."
    )
    branch: str = Field(default="main", description="Base branch the promotion PR targets.")
    writes: list[Write] = Field(min_length=1)
    auto: bool = Field(
        default=True,
        description="Open this stage's PR on the trigger (first stage) or when the previous "
        "stage's PR merges; false: only `/promote`.",
    )
    approvers: list[str] = Field(
        default_factory=list, description="Users who may `/promote` to this stage."
    )
    approver_teams: list[str] = Field(
        default_factory=list,
        description="Teams (`org/slug`; on GitLab, groups) whose members may `/promote`.",
    )
    labels: list[str] = Field(default_factory=lambda: ["promotion"])
    reviewers: list[str] = Field(default_factory=list)
    team_reviewers: list[str] = Field(default_factory=list)
    assignees: list[str] = Field(default_factory=list)
    gate: GateConfig | None = None
    supply_chain: SupplyChainPolicy | None = Field(
        default=None,
        description="Signatures, attestations and model signing the promoted artifacts must "
        "carry (`ferrybot/supply-chain`); unset: not verified.",
    )
    deploy_targets: list[str] = Field(
        default_factory=list,
        description="What deploys this stage, for the delivery ledger: Argo CD app names, Flux "
        "objects (`Kind/namespace/name`), GitHub environments. Empty: any deployment of the "
        "stage's merge commit counts.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifier(validate_stage_name, value)

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str, info: ValidationInfo) -> str:
        return repository_path(value, info.data.get("forge"))

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", value) or ".." in value:
            raise ValueError("branch is a plain branch name such as `main`")
        return value

    @field_validator("approvers", "reviewers", "assignees")
    @classmethod
    def _logins(cls, value: list[str]) -> list[str]:
        return usernames(value)

    @field_validator("approver_teams")
    @classmethod
    def _teams(cls, value: list[str]) -> list[str]:
        return team_paths(value)

    @field_validator("team_reviewers")
    @classmethod
    def _team_slugs(cls, value: list[str]) -> list[str]:
        # GitHub's review requests take the slug alone, of a team in the repository's org.
        for slug in value:
            if not _TEAM_SLUG.fullmatch(slug):
                raise ValueError(f"{slug!r} is not a team slug")
        return value

    @property
    def needs_approval(self) -> bool:
        """True when only named approvers may promote to this stage."""
        return bool(self.approvers or self.approver_teams)


class Pipeline(_Strict):
    """An artifact (model, image, or both as one bundle) and its stages in order."""

    name: str
    model: ModelArtifact | None = None
    image: ImageArtifact | None = None
    stages: list[Stage] = Field(min_length=1)
    retrain: RetrainConfig | None = Field(
        default=None, description="The training workflow `retrain` reactions and /retrain run."
    )
    on_alert: list[AlertRule] = Field(
        default_factory=list, description="Reactions to Alertmanager alerts naming this pipeline."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifier(validate_pipeline_name, value)

    @model_validator(mode="after")
    def _consistent(self) -> Pipeline:
        if self.model is None and self.image is None:
            raise ValueError(f"pipeline {self.name}: name a `model`, an `image`, or both")
        names = [stage.name for stage in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"pipeline {self.name}: stage names repeat: {names}")
        for stage in self.stages:
            for write in stage.writes:
                self._check_write(stage, write)
        for rule in self.on_alert:
            if Reaction.RETRAIN in rule.reactions and self.retrain is None:
                raise ValueError(
                    f"pipeline {self.name}: on_alert {rule.name} retrains: set `retrain`"
                )
            if unknown := sorted(set(rule.match.stages) - set(names)):
                raise ValueError(
                    f"pipeline {self.name}: on_alert {rule.name} names stages {unknown}"
                )
        return self

    def _check_write(self, stage: Stage, write: YamlWrite | KustomizeImageWrite) -> None:
        where = f"pipeline {self.name}, stage {stage.name}, {write.file}"
        if isinstance(write, KustomizeImageWrite):
            if self.image is None:
                raise ValueError(f"{where}: a kustomize image write needs the pipeline's `image`")
            return
        used = template_placeholders(write.value)
        if used & MODEL_PLACEHOLDERS and self.model is None:
            raise ValueError(f"{where}: {write.value} needs the pipeline's `model`")
        if used & IMAGE_PLACEHOLDERS and self.image is None:
            raise ValueError(f"{where}: {write.value} needs the pipeline's `image`")
        if not used & (MODEL_PLACEHOLDERS | IMAGE_PLACEHOLDERS) - {"name", "repository"}:
            raise ValueError(f"{where}: {write.value} names no version, tag or digest")

    def stage(self, name: str) -> Stage | None:
        """The stage called `name`."""
        return next((stage for stage in self.stages if stage.name == name), None)

    def next_stage(self, name: str) -> Stage | None:
        """The stage after `name`, or None for the last one."""
        names = [stage.name for stage in self.stages]
        index = names.index(name) if name in names else len(names)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None
