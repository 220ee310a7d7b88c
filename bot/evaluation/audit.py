"""Audit records of reactions: each names the pipeline, stage, alert fingerprint and fired-at."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from schemas.alertmanager import AlertDelivery
from schemas.audit import AuditRecord


async def record(
    ctx: Context,
    action: str,
    delivery: AlertDelivery,
    reason: str,
    key: str = "",
    **details: Any,
) -> None:
    """Audit one decision about an alert, under an id derived from the delivery (replay-safe)."""
    alert = delivery.alert
    pipeline = delivery.pipeline or ""
    stage = delivery.stage or ""
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:{action}" + (f":{key}" if key else ""),
            delivery_id=ctx.envelope.id,
            actor="alertmanager",
            action=action,
            subject=f"pipeline/{pipeline}/{stage}" if pipeline else ctx.envelope.subject,
            reason=reason[:1000],
            details={
                "pipeline": pipeline,
                "stage": stage,
                "alert": alert.name,
                "fingerprint": alert.fingerprint,
                "fired_at": alert.startsAt.isoformat(),
                "status": alert.status,
                **details,
            },
        )
    )
