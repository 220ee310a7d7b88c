"""Microsoft Teams workflow webhook: one Adaptive Card in a `message` with `attachments`."""

from __future__ import annotations

import json
from typing import Any

from bot.notify.escape import fit, link_target, plain
from bot.notify.providers.common import context_line
from schemas.notification import Notification, Severity

CARD_VERSION = "1.4"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams refuses messages over about 28 KB: the caps keep an ordinary card well below, and
# MESSAGE_MAX_BYTES is enforced on the whole message (links and facts dropped to get there).
MESSAGE_MAX_BYTES = 27 * 1024
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
    message = {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }
    _shrink_to_fit(message, card, body)
    return message


def _size(message: dict[str, Any]) -> int:
    return len(json.dumps(message, ensure_ascii=False).encode())


def _shrink_to_fit(
    message: dict[str, Any], card: dict[str, Any], body: list[dict[str, Any]]
) -> None:
    # Long URLs and many facts can still pass the byte cap: drop links first, then facts
    # from the end; the title, context line and text always stay.
    actions: list[dict[str, Any]] = card.get("actions", [])
    while _size(message) > MESSAGE_MAX_BYTES and actions:
        actions.pop()
    if not actions:
        card.pop("actions", None)
    facts = body[-1].get("facts") if body[-1]["type"] == "FactSet" else None
    while _size(message) > MESSAGE_MAX_BYTES and facts:
        facts.pop()
    if facts is not None and not facts:
        body.pop()
