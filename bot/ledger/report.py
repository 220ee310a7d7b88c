"""The ledger's answers as the board, the JSON API, `/status` and `ferrybot metrics` give them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.ledger.metrics import StageMetrics, stage_metrics
from bot.ledger.project import LedgerConfig, Projection, PromotionRow
from bot.ledger.store import LedgerStore
from bot.settings import Settings


def ledger_store(settings: Settings) -> LedgerStore:
    """The store the settings name (not opened yet)."""
    return LedgerStore(
        settings.ledger_url,
        LedgerConfig.of(settings.bot.pipelines),
        settings.ledger_change_failure_window_seconds,
        settings.ledger_metrics_window_days,
    )


@dataclass(frozen=True)
class LedgerReport:
    """Metrics per stage and the open promotion PRs with their last gate verdict, at `at`."""

    at: datetime
    window_days: int
    stages: list[StageMetrics]
    open_promotions: list[tuple[PromotionRow, str | None]]
    projection: Projection
    config: LedgerConfig

    def change_reference(self, pipeline: str, stage: str, number: int) -> str:
        """A stage's promotion PR or MR as its forge writes it (`#12`, `!12`)."""
        return self.config.change_reference(pipeline, stage, number)

    def as_json(self) -> dict[str, Any]:
        """The body of /api/ledger/metrics."""
        return {
            "at": self.at.isoformat(),
            "window_days": self.window_days,
            "stages": [row.as_json() for row in self.stages],
            "open_promotions": [
                {
                    "pipeline": p.pipeline,
                    "stage": p.stage,
                    "pull": p.pull,
                    "reference": self.change_reference(p.pipeline, p.stage, p.pull),
                    "version": p.version,
                    "url": p.url,
                    "opened_at": p.opened_at.isoformat(),
                    "gate": gate,
                }
                for p, gate in self.open_promotions
            ],
        }


def latest_time(projection: Projection) -> datetime | None:
    """The newest time any table holds."""
    times = [d.succeeded_at for d in projection.deployments] + [
        d.started_at for d in projection.deployments
    ]
    times += [i.closed_at or i.opened_at for i in projection.incidents]
    times += [p.merged_at or p.opened_at for p in projection.promotions]
    times += [g.at for g in projection.gates]
    times += [c.promoted_at for c in projection.retrain_cycles]
    return max((t for t in times if t is not None), default=None)


async def ledger_report(store: LedgerStore, at: datetime | None = None) -> LedgerReport:
    """Read the store once and compute everything shown (stages in config order first).

    Without `at`: the later of now and the newest event, so a sender whose clock runs ahead
    of ours never hides its own latest deployment.
    """
    projection = await store.projection()
    if at is None:
        now = datetime.now(UTC)
        newest = latest_time(projection)
        at = max(now, newest) if newest is not None else now
    window = store.window_days
    rows = stage_metrics(projection, store.config.stages, at, window)
    gates = {(g.pipeline, g.stage, g.head_sha): g.conclusion for g in projection.gates}
    open_pulls = [
        (p, gates.get((p.pipeline, p.stage, p.head_sha or "")))
        for p in sorted(projection.promotions, key=lambda p: (p.opened_at, p.pull))
        if p.status == "open"
    ]
    return LedgerReport(at, window, rows, open_pulls, projection, store.config)


def duration(seconds: float | None) -> str:
    """`1d 2h`, `3h 4m`, `5m 6s`, `7s`, or `—`."""
    if seconds is None:
        return "—"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def percent(value: float | None) -> str:
    """`25%` or `—`."""
    return "—" if value is None else f"{value * 100:.0f}%"


METRIC_COLUMNS = (
    "pipeline",
    "stage",
    "running",
    "health",
    "deploys",
    "per day",
    "lead p50",
    "lead p90",
    "CFR",
    "MTTR p50",
    "freshness",
    "cycle p50",
    "gate pass",
    "retrain p50",
)


def metric_cells(row: StageMetrics) -> list[str]:
    """One row of the metrics table, as text."""
    return [
        row.pipeline,
        row.stage,
        row.now.version or "—",
        row.now.health,
        str(row.deployments),
        f"{row.deployments_per_day:g}",
        duration(row.lead_time_p50_seconds),
        duration(row.lead_time_p90_seconds),
        percent(row.change_failure_rate),
        duration(row.time_to_restore_p50_seconds),
        duration(row.model_freshness_seconds),
        duration(row.promotion_cycle_p50_seconds),
        percent(row.gate_pass_rate),
        duration(row.retraining_cycle_p50_seconds),
    ]


def metrics_table(report: LedgerReport) -> str:
    """The terminal table `ferrybot metrics` prints."""
    rows = [list(METRIC_COLUMNS)] + [metric_cells(r) for r in report.stages]
    widths = [max(len(r[i]) for r in rows) for i in range(len(METRIC_COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    header = f"window: {report.window_days} days to {report.at.isoformat(timespec='seconds')}"
    return "\n".join([header, *lines])


def status_table(report: LedgerReport, pipelines: list[str]) -> str | None:
    """`/status` from the ledger: what runs in each stage, since when, health; None without data."""
    rows = [r for r in report.stages if r.pipeline in pipelines]
    if not any(r.now.version for r in rows):
        return None
    open_pulls = {(p.pipeline, p.stage): p for p, _ in report.open_promotions}
    lines = [
        "| pipeline | stage | running now | since | health | deployed by | open promotion |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        since = row.now.since.strftime("%Y-%m-%d %H:%M:%S UTC") if row.now.since else "—"
        ref = report.change_reference
        by = ref(row.pipeline, row.stage, row.now.pull) if row.now.pull else "—"
        pending = open_pulls.get((row.pipeline, row.stage))
        shown = (
            f"{ref(row.pipeline, row.stage, pending.pull)} ({pending.version})" if pending else "—"
        )
        lines.append(
            f"| {row.pipeline} | {row.stage} | {row.now.version or '—'} | {since} | "
            f"{row.now.health} | {by} | {shown} |"
        )
    lines.append("")
    lines.append(
        "_From the delivery ledger (deployment events); `/status` reads git when it has none._"
    )
    return "\n".join(lines)
