"""Discord webhook: one embed, and no mention may ping (`allowed_mentions.parse` empty)."""

from __future__ import annotations

from typing import Any

from bot.notify.escape import discord_markdown, fit, link_target, plain, units
from bot.notify.providers.common import SEVERITY_COLOUR, context_line, join_within, non_empty
from schemas.notification import Notification

# discord.com/developers/docs/resources/message#embed-object-embed-limits
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
TOTAL_MAX = 6000
LINKS_MAX = 1000
# Discord refuses longer embed URLs (its form validation caps URLs at 2048).
URL_MAX = 2048
# However many fields there are, this much of the text stays in the description.
TEXT_RESERVE = 1000


def link(label: str, url: str) -> str:
    """A masked link we write ourselves: label escaped, URL delimiters encoded."""
    return f"[{fit(label, 200, discord_markdown)}]({link_target(url)})"


def payload(notification: Notification) -> dict[str, Any]:
    """The webhook body: an embed coloured by severity, links in the description."""
    title = non_empty(fit(notification.title, TITLE_MAX, plain))
    footer = fit(context_line(notification), 300, plain)
    links = [link(label, url) for label, url in notification.links.items()]
    link_line = join_within(links, " · ", LINKS_MAX)
    remaining = TOTAL_MAX - units(title) - units(footer) - units(link_line) - 2
    reserve = min(units(discord_markdown(notification.text)), TEXT_RESERVE)
    fields: list[dict[str, Any]] = []
    for name, value in list(notification.fields.items())[:FIELDS_MAX]:
        shown_name = non_empty(fit(name, FIELD_NAME_MAX, plain))
        shown_value = non_empty(fit(value, FIELD_VALUE_MAX, discord_markdown))
        cost = units(shown_name) + units(shown_value)
        if cost > remaining - reserve:
            break
        remaining -= cost
        fields.append(
            {"name": shown_name, "value": shown_value, "inline": units(shown_value) <= 40}
        )
    text_max = max(0, min(DESCRIPTION_MAX - units(link_line) - 2, remaining))
    text = fit(notification.text, text_max, discord_markdown)
    embed: dict[str, Any] = {
        "title": title,
        "color": SEVERITY_COLOUR[notification.severity],
        "footer": {"text": footer},
        "timestamp": notification.created_at.isoformat(),
    }
    if description := "\n\n".join(part for part in (text, link_line) if part):
        embed["description"] = description
    first = link_target(next(iter(notification.links.values()), ""))
    if first and units(first) <= URL_MAX:
        embed["url"] = first
    if fields:
        embed["fields"] = fields
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}
