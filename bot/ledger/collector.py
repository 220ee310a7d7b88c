"""Prometheus gauges of the ledger: a custom Collector over the last report read from the store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from bot.ledger.metrics import StageMetrics
from bot.ledger.report import ledger_report
from bot.ledger.store import LedgerStore

# name, help, how to read it from a row
_GAUGES: tuple[tuple[str, str, Callable[[StageMetrics], float | None]], ...] = (
    ("deployments", "Successful deployments in the window.", lambda r: r.deployments),
    (
        "deployments_per_day",
        "Deployment frequency over the window.",
        lambda r: r.deployments_per_day,
    ),
    (
        "lead_time_p50_seconds",
        "Artifact created → deployed, median.",
        lambda r: r.lead_time_p50_seconds,
    ),
    (
        "lead_time_p90_seconds",
        "Artifact created → deployed, 90th percentile.",
        lambda r: r.lead_time_p90_seconds,
    ),
    (
        "change_failure_rate",
        "Deployments degraded, failed or rolled back within the change-failure window, "
        "over deployments.",
        lambda r: r.change_failure_rate,
    ),
    (
        "time_to_restore_p50_seconds",
        "Degraded → healthy again, median.",
        lambda r: r.time_to_restore_p50_seconds,
    ),
    (
        "model_freshness_seconds",
        "Age of the training run of what the stage runs now.",
        lambda r: r.model_freshness_seconds,
    ),
    (
        "promotion_cycle_p50_seconds",
        "Version registered → running in the last stage, median.",
        lambda r: r.promotion_cycle_p50_seconds,
    ),
    (
        "gate_pass_rate",
        "Model-gate verdicts that passed, over verdicts.",
        lambda r: r.gate_pass_rate,
    ),
    (
        "retraining_cycle_p50_seconds",
        "Alert fired → retrained version promoted to the stage, median.",
        lambda r: r.retraining_cycle_p50_seconds,
    ),
)


class LedgerCollector(Collector):
    """Serves the figures of the last `refresh` (collect() is synchronous; the store is not)."""

    def __init__(self, store: LedgerStore) -> None:
        self.bind(store)

    def bind(self, store: LedgerStore) -> None:
        """Read this store from now on (one ledger per process; tests start several in turn)."""
        self._store = store
        self._rows: list[StageMetrics] = []

    async def refresh(self, at: datetime | None = None) -> None:
        """Re-read the store; `at` defaults to now (or the newest event when that is later)."""
        report = await ledger_report(self._store, at)
        self._rows = report.stages

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge family per figure, labelled by pipeline and stage; unknown values left out."""
        for name, text, read in _GAUGES:
            family = GaugeMetricFamily(
                f"ferrybot_ledger_{name}", text, labels=["pipeline", "stage"]
            )
            for row in self._rows:
                value = read(row)
                if value is not None:
                    family.add_metric([row.pipeline, row.stage], float(value))
            yield family


_registered: LedgerCollector | None = None


def ledger_collector(store: LedgerStore) -> LedgerCollector:
    """The process's collector, registered once in prometheus-client's default registry."""
    global _registered
    if _registered is None:
        _registered = LedgerCollector(store)
        REGISTRY.register(_registered)
    else:
        _registered.bind(store)
    return _registered
