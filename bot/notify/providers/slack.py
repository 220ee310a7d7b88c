"""Slack incoming webhook: Block Kit blocks with a plain-text `text` fallback."""

from __future__ import annotations

from typing import Any

from bot.notify.escape import fit, link_target, plain, slack_mrkdwn
from bot.notify.providers.common import context_line, join_within
from schemas.notification import Notification

# Block Kit limits (api.slack.com/reference/block-kit): header text 150, section text 3000,
# 10 fields of 2000 per section, 10 context elements, 50 blocks per message.
HEADER_MAX = 150
SECTION_MAX = 3000
FIELDS_PER_SECTION = 10
FIELD_MAX = 2000
FALLBACK_MAX = 3000


def link(label: str, url: str) -> str:
    """`<url|label>` with the label escaped; `|` would end the label early."""
    return f"<{link_target(url)}|{fit(label, 200, slack_mrkdwn).replace('|', '∣')}>"


def payload(notification: Notification) -> dict[str, Any]:
    """The webhook body: `text` for notifications and old clients, `blocks` for the message."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": fit(notification.title, HEADER_MAX, plain),
                "emoji": False,
            },
        }
    ]
    if notification.text:
        blocks.append(_mrkdwn_section(fit(notification.text, SECTION_MAX, slack_mrkdwn)))
    facts = [
        f"*{fit(name, 200, slack_mrkdwn)}*\n{fit(value, FIELD_MAX - 210, slack_mrkdwn)}"
        for name, value in notification.fields.items()
    ]
    for start in range(0, len(facts), FIELDS_PER_SECTION):
        chunk = facts[start : start + FIELDS_PER_SECTION]
        blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": t} for t in chunk]})
    links = [link(label, url) for label, url in notification.links.items()]
    if joined := join_within(links, " · ", SECTION_MAX):
        blocks.append(_mrkdwn_section(joined))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": fit(context_line(notification), 300, slack_mrkdwn)}
            ],
        }
    )
    fallback = f"{notification.severity.value}: {notification.title}"
    return {"text": fit(fallback, FALLBACK_MAX, slack_mrkdwn), "blocks": blocks}


def _mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
