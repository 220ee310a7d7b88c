"""Mattermost incoming webhook: the Slack-compatible `text` + `attachments` payload."""

from __future__ import annotations

from typing import Any

from bot.notify.escape import fit, link_target, markdown, plain, units
from bot.notify.providers.common import context_line, hex_colour, join_within
from schemas.notification import Notification

# Mattermost refuses attachments longer than 7900 characters in all and splits posts over
# 16383; stay well inside both.
TEXT_MAX = 4000
LINKS_MAX = 1500
ATTACHMENTS_MAX = 7500
FIELD_TITLE_MAX = 200
FIELD_VALUE_MAX = 1000


def link(label: str, url: str) -> str:
    """`[label](url)` with the label escaped and the URL's delimiters encoded."""
    return f"[{fit(label, 200, markdown)}]({link_target(url)})"


def payload(notification: Notification) -> dict[str, Any]:
    """The webhook body: a bold title line and one attachment with the details."""
    fallback = fit(f"{notification.severity.value}: {notification.title}", 500, plain)
    footer = fit(context_line(notification), 300, plain)
    links = [link(label, url) for label, url in notification.links.items()]
    link_line = join_within(links, " · ", LINKS_MAX)
    body = fit(notification.text, TEXT_MAX - units(link_line) - 2, markdown)
    text = "\n\n".join(part for part in (body, link_line) if part)
    budget = ATTACHMENTS_MAX - units(fallback) - units(footer) - units(text)
    fields: list[dict[str, Any]] = []
    for name, value in notification.fields.items():
        title = fit(name, FIELD_TITLE_MAX, markdown)
        shown = fit(value, FIELD_VALUE_MAX, markdown)
        budget -= units(title) + units(shown)
        if budget < 0:
            break
        fields.append({"title": title, "value": shown, "short": units(shown) <= 40})
    attachment: dict[str, Any] = {
        "fallback": fallback,
        "color": hex_colour(notification.severity),
        "text": text,
        "fields": fields,
        "footer": footer,
    }
    return {"text": f"**{fit(notification.title, 1000, markdown)}**", "attachments": [attachment]}
