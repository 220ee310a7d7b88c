"""What a promotion writes: a confirmed model version and/or a confirmed image tag."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.gitops.templates import TemplateValues
from bot.registry.client import ImageRef
from schemas.mlflow import ModelVersion
from schemas.pipelines import Pipeline, Stage


@dataclass(frozen=True)
class Candidate:
    """The artifact versions one promotion moves; a part left None is not changed."""

    model: ModelVersion | None = None
    image: ImageRef | None = None
    alias: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    trained_at: datetime | None = None

    @property
    def created_at(self) -> datetime | None:
        """When the registry registered the model version (the ledger's lead-time start)."""
        stamp = self.model.creation_timestamp if self.model else None
        return datetime.fromtimestamp(stamp / 1000, UTC) if stamp is not None else None

    def values(self, pipeline: Pipeline, stage: Stage) -> TemplateValues:
        """Template values for this candidate (validated identifiers only)."""
        return TemplateValues(
            name=self.model.name if self.model else None,
            version=self.model.version if self.model else None,
            alias=self.alias,
            run_id=self.model.run_id if self.model and self.model.run_id else None,
            repository=self.image.repository if self.image else None,
            tag=self.image.tag if self.image else None,
            digest=self.image.digest if self.image else None,
            stage=stage.name,
            pipeline=pipeline.name,
        )

    @property
    def label(self) -> str:
        """How titles name it: `7`, `1.4.0`, or `7+1.4.0` for a bundle."""
        parts = [self.model.version if self.model else None, self.image.tag if self.image else None]
        return "+".join(part for part in parts if part) or "nothing"
