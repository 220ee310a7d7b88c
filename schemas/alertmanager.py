"""Alertmanager's webhook (payload version 4) as ferrybot reads it: one alert per envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Alertmanager writes this for "no end yet" while an alert fired by Prometheus is firing.
NO_END = "0001-01-01T00:00:00Z"


class Alert(BaseModel):
    """One alert of a notification, as Alertmanager sent it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: str = NO_END
    generatorURL: str = ""
    fingerprint: str = Field(pattern=r"^[0-9a-f]{1,32}$")

    @property
    def name(self) -> str:
        """The alert rule's name (`alertname`)."""
        return self.labels.get("alertname", "")

    @property
    def episode(self) -> str:
        """One firing of one alert: its fingerprint and when it started."""
        return f"{self.fingerprint}-{int(self.startsAt.timestamp() * 1000)}"


class AlertDelivery(BaseModel):
    """What ingress puts in each envelope: the alert, where it maps, and its notification."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert: Alert
    pipeline: str | None = Field(description="The pipeline label's value, if any.")
    stage: str | None = Field(description="The stage label's value, if any.")
    receiver: str = ""
    external_url: str = ""
    group_key: str = ""
    truncated_alerts: int = 0
