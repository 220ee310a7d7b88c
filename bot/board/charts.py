"""Inline SVG charts (no script, no external asset): deployments per day, lead time per deploy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from bot.ledger.project import DeploymentRow
from bot.ledger.report import duration

WIDTH, HEIGHT = 240, 48


@dataclass(frozen=True)
class Bar:
    """One bar: its label (shown as a tooltip title) and value."""

    label: str
    value: float


def deploys_per_day(deployments: list[DeploymentRow], end: datetime, days: int) -> list[Bar]:
    """Successful deployments per calendar day (UTC) of the `days` days ending at `end`."""
    first: date = (end - timedelta(days=days - 1)).date()
    counts = {first + timedelta(days=i): 0 for i in range(days)}
    for row in deployments:
        if row.succeeded_at is not None and row.succeeded_at.date() in counts:
            counts[row.succeeded_at.date()] += 1
    return [Bar(f"{day.isoformat()}: {n} deployments", n) for day, n in counts.items()]


def lead_times(deployments: list[DeploymentRow]) -> list[Bar]:
    """Lead time of each deployment, oldest first."""
    dated = [d for d in deployments if d.succeeded_at and d.lead_time_seconds is not None]
    dated.sort(key=lambda d: d.succeeded_at or datetime.min)
    return [
        Bar(
            f"{d.version} ({d.revision[:7]}): {duration(d.lead_time_seconds)}",
            d.lead_time_seconds or 0,
        )
        for d in dated
    ]


def bar_chart(bars: list[Bar], title: str) -> str:
    """An accessible SVG bar chart; its title and each bar's <title> read without any script."""
    top = max((bar.value for bar in bars), default=0) or 1
    step = WIDTH / max(len(bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{HEIGHT - 0.5}" x2="{WIDTH}" y2="{HEIGHT - 0.5}" class="axis"/>',
    ]
    for index, bar in enumerate(bars):
        height = (HEIGHT - 4) * bar.value / top
        x = index * step + step * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - 1 - height:.1f}" width="{step * 0.7:.1f}" '
            f'height="{height:.1f}" class="bar"><title>{escape(bar.label)}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)
