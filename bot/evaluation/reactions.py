"""From one alert to the reactions its pipeline configures, every decision audited."""

from __future__ import annotations

from bot.context import Context
from bot.evaluation.audit import record
from bot.evaluation.dispatch import TrainingRequest
from bot.evaluation.notice import alert_links, notify_alert
from bot.evaluation.retrain import retrain, version_in
from bot.evaluation.rollback import rollback_after_alert
from schemas.alertmanager import AlertDelivery
from schemas.evaluation import AlertRule, Reaction
from schemas.pipelines import Pipeline, Stage


def link_for(delivery: AlertDelivery) -> str:
    """The most useful single link: the runbook, else the graph, else Alertmanager."""
    links = alert_links(delivery)
    return links.get("runbook") or links.get("graph") or links.get("alertmanager", "")


def explanation(delivery: AlertDelivery) -> str:
    """One line saying which alert fired when, and what it says."""
    alert = delivery.alert
    summary = alert.annotations.get("summary", "")
    said = f" ({summary})" if summary else ""
    return f"alert `{alert.name}` fired at {alert.startsAt.isoformat(timespec='seconds')}{said}"


async def react(ctx: Context, delivery: AlertDelivery) -> None:
    """Match the alert to its pipeline's rules and run each reaction once per episode."""
    alert = delivery.alert
    pipeline = ctx.config.pipeline(delivery.pipeline or "")
    if pipeline is None:
        known = ", ".join(p.name for p in ctx.config.pipelines) or "none"
        label = ctx.config.evaluation.pipeline_label
        why = f"label {label}={delivery.pipeline!r} names no pipeline (known: {known})"
        await record(ctx, "alert.ignored", delivery, why)
        return
    stage = pipeline.stage(delivery.stage or "")
    if stage is None:
        stages = ", ".join(s.name for s in pipeline.stages)
        label = ctx.config.evaluation.stage_label
        why = f"label {label}={delivery.stage!r} names no stage of {pipeline.name} ({stages})"
        await record(ctx, "alert.ignored", delivery, why)
        return
    if alert.status == "resolved":
        # Retraining and rollbacks already started stay started; nothing undoes them.
        await record(ctx, "alert.resolved", delivery, f"{alert.name} resolved at {alert.endsAt}")
        return
    rules = [rule for rule in pipeline.on_alert if rule.match.matches(alert.labels, stage.name)]
    if not rules:
        await record(
            ctx,
            "alert.unmatched",
            delivery,
            f"no on_alert rule of {pipeline.name} matches {alert.name}",
        )
        return
    version = await version_in(ctx, stage)
    for rule in rules:
        for reaction in rule.reactions:
            await _run(ctx, pipeline, stage, delivery, rule, reaction, version)


async def _run(
    ctx: Context,
    pipeline: Pipeline,
    stage: Stage,
    delivery: AlertDelivery,
    rule: AlertRule,
    reaction: Reaction,
    version: str,
) -> None:
    alert = delivery.alert
    key = f"{rule.name}:{reaction.value}"
    if reaction is Reaction.NOTIFY:
        await notify_alert(ctx, pipeline, stage, delivery, version)
        await record(ctx, "alert.notified", delivery, f"rule {rule.name}", key, version=version)
        return
    if reaction is Reaction.RETRAIN:
        model = pipeline.model.name if pipeline.model else pipeline.name
        request = TrainingRequest(
            pipeline.name, stage.name, model, version, alert.name, link_for(delivery), alert.episode
        )
        outcome = await retrain(ctx, pipeline, stage, request, alert.startsAt, alert.fingerprint)
        action = "alert.retrain_dispatched" if outcome.dispatched else "alert.retrain_skipped"
        run = outcome.marker.run_url if outcome.marker else ""
        await record(
            ctx,
            action,
            delivery,
            outcome.reason,
            key,
            version=version,
            run_url=run,
            episode=alert.episode,
        )
        return
    rolled = await rollback_after_alert(
        ctx,
        pipeline,
        stage,
        alert.startsAt,
        rule.rollback_window_seconds,
        rule.rollback_labels,
        f"{explanation(delivery)} {link_for(delivery)}".strip(),
    )
    action = "alert.rollback_opened" if rolled.to_version else "alert.rollback_skipped"
    await record(
        ctx, action, delivery, rolled.reason, key, version=version, pull=rolled.pull, url=rolled.url
    )
