"""What every provider shows the same way: severity colours and the context line."""

from __future__ import annotations

from bot.notify.escape import units
from schemas.notification import Notification, Severity

SEVERITY_COLOUR = {
    Severity.INFO: 0x2EB67D,
    Severity.WARNING: 0xECB22E,
    Severity.ERROR: 0xE01E5A,
    Severity.CRITICAL: 0x8B0000,
}


def hex_colour(severity: Severity) -> str:
    """`#rrggbb` for the severity."""
    return f"#{SEVERITY_COLOUR[severity]:06x}"


def context_line(notification: Notification) -> str:
    """`error · promotion_failed · model/churn`, raw (escape it for the service)."""
    return " · ".join((notification.severity.value, notification.kind.value, notification.subject))


def join_within(items: list[str], separator: str, limit: int) -> str:
    """Join whole items while the result stays within `limit` units; the rest are left out."""
    joined = ""
    for item in items:
        candidate = f"{joined}{separator}{item}" if joined else item
        if units(candidate) > limit:
            break
        joined = candidate
    return joined


def non_empty(text: str) -> str:
    """The text, or a dash where a service refuses an empty string (all-invisible input)."""
    return text or "-"
