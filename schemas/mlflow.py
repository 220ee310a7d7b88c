"""The MLflow fields ferrybot uses: webhook deliveries and REST model versions and runs."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Loose(BaseModel):
    # MLflow adds fields between releases; only the ones named here are read.
    model_config = ConfigDict(extra="ignore", frozen=True)


class MlflowDelivery(_Loose):
    """A webhook body: `{"entity", "action", "timestamp", "data"}`."""

    entity: str
    action: str
    timestamp: str | None = None
    data: dict[str, Any]


class VersionEventData(_Loose):
    """`data` of model_version.created, model_version_alias.*, model_version_tag.*."""

    name: str
    version: str
    alias: str | None = None
    key: str | None = None
    value: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class ModelVersionStatus(StrEnum):
    """MLflow's model version status; only READY versions are promoted."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


class KeyValue(_Loose):
    """A tag as the REST API lists it."""

    key: str
    value: str = ""


class ModelVersion(_Loose):
    """`model_version` of GET /api/2.0/mlflow/model-versions/get."""

    name: str
    version: str
    status: str = ModelVersionStatus.READY.value
    run_id: str | None = None
    source: str | None = None
    description: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    creation_timestamp: int | None = Field(default=None, description="Registered at (epoch ms).")

    @property
    def tag_map(self) -> dict[str, str]:
        """Tags as a mapping."""
        return {tag.key: tag.value for tag in self.tags}

    @property
    def ready(self) -> bool:
        """True when MLflow finished registering the version."""
        return self.status == ModelVersionStatus.READY.value


class Metric(_Loose):
    """One metric's latest value on a run."""

    key: str
    value: float


class RunInfo(_Loose):
    """`run.info` of GET /api/2.0/mlflow/runs/get (times in epoch ms)."""

    start_time: int | None = None
    end_time: int | None = None


class RunData(_Loose):
    """`run.data` of GET /api/2.0/mlflow/runs/get."""

    metrics: list[Metric] = Field(default_factory=list)
    params: list[KeyValue] = Field(default_factory=list)
