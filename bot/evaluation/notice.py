"""`notify`: a chat message with the alert, the version in production and the links."""

from __future__ import annotations

from bot.context import Context
from schemas.alertmanager import AlertDelivery
from schemas.notification import LinkUrl, Notification, NotificationKind, Severity
from schemas.pipelines import Pipeline, Stage

_SEVERITIES = {s.value: s for s in Severity}


def alert_links(delivery: AlertDelivery) -> dict[str, str]:
    """The alert's own links that are http(s): the graph, the runbook, Alertmanager."""
    candidates = {
        "graph": delivery.alert.generatorURL,
        "runbook": delivery.alert.annotations.get("runbook_url", ""),
        "alertmanager": delivery.external_url,
    }
    links = {}
    for label, url in candidates.items():
        if url.startswith(("http://", "https://")) and len(url) <= 2000 and " " not in url:
            links[label] = url
    return links


async def notify_alert(
    ctx: Context, pipeline: Pipeline, stage: Stage, delivery: AlertDelivery, version: str
) -> None:
    """Queue the drift notification; its id is the delivery's, so a repeat sends nothing new."""
    alert = delivery.alert
    severity = _SEVERITIES.get(alert.labels.get("severity", ""), Severity.WARNING)
    summary = alert.annotations.get("summary") or alert.annotations.get("description", "")
    links: dict[str, LinkUrl] = dict(alert_links(delivery))
    await ctx.notify(
        Notification(
            kind=NotificationKind.DRIFT_ALERT,
            severity=severity,
            subject=f"pipeline/{pipeline.name}/{stage.name}",
            title=f"{alert.name} on {pipeline.name} in {stage.name} (running {version})",
            text=summary,
            fields={
                "pipeline": pipeline.name,
                "stage": stage.name,
                "version": version,
                "fired at": alert.startsAt.isoformat(timespec="seconds"),
            },
            links=links,
            delivery_id=ctx.envelope.id,
            pipeline=pipeline.name,
            repository=stage.repo,
        )
    )
