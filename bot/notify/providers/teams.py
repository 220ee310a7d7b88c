"""Microsoft Teams workflow webhook: one Adaptive Card in a `message` with `attachments`."""

from __future__ import annotations

from typing import Any

from bot.notify.escape import fit, link_target, plain
from bot.notify.providers.common import context_line
from schemas.notification import Notification, Severity

CARD_VERSION = "1.4"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams refuses messages over about 28 KB; these caps keep a full card well below that.
TITLE_MAX = 250
TEXT_MAX = 4000
FACTS_MAX = 20
FACT_TITLE_MAX = 100
FACT_VALUE_MAX = 500
# Teams shows at most six actions on a card.
ACTIONS_MAX = 6

_COLOUR = {
    Severity.INFO: "Good",
    Severity.WARNING: "Warning",
    Severity.ERROR: "Attention",
    Severity.CRITICAL: "Attention",
}


def payload(notification: Notification) -> dict[str, Any]:
    """The webhook body the "Send webhook alerts to a channel" workflow posts as a card."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": fit(notification.title, TITLE_MAX, plain),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {
            "type": "TextBlock",
            "text": fit(context_line(notification), 300, plain),
            "color": _COLOUR[notification.severity],
            "isSubtle": True,
            "spacing": "None",
            "wrap": True,
        },
    ]
    if notification.text:
        body.append(
            {
                "type": "TextBlock",
                "text": fit(notification.text, TEXT_MAX, plain),
                "wrap": True,
            }
        )
    facts = [
        {
            "title": fit(name, FACT_TITLE_MAX, plain),
            "value": fit(value, FACT_VALUE_MAX, plain),
        }
        for name, value in list(notification.fields.items())[:FACTS_MAX]
    ]
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    actions = [
        {"type": "Action.OpenUrl", "title": fit(label, 100, plain), "url": link_target(url)}
        for label, url in list(notification.links.items())[:ACTIONS_MAX]
    ]
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }
