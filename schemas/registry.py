"""Registry notifications as the worker sees them: one image event, whatever registry sent it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RegistryKind(StrEnum):
    """Which registry webhook endpoint a notification came in on."""

    DISTRIBUTION = "distribution"
    HARBOR = "harbor"
    DOCKER_HUB = "docker-hub"


class ImageEvent(BaseModel):
    """One registry event, normalised by ingress; `raw` is the sender's own JSON for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    registry: RegistryKind
    kind: str = Field(description="`manifest` or `blob`.")
    action: str = Field(description="`push`, `pull` or `delete`, as the registry says.")
    repository: str
    tag: str | None = None
    digest: str | None = None
    media_type: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_tagged_push(self) -> bool:
        """A manifest pushed under a tag: the only registry event that can trigger a promotion."""
        return self.kind == "manifest" and self.action == "push" and bool(self.tag)
