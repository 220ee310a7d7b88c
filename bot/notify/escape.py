"""User text made inert for each chat service's markup, and cut to the service's limits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import quote

ELLIPSIS = "…"
# Inserted where a mention or link would otherwise be parsed; renders as nothing.
ZWSP = "\u200b"

Escaper = Callable[[str], str]

# `@word` is a mention in Mattermost (`@channel`, `@all`, `@user`), Discord (`@everyone`,
# `@here`) and, with link_names, Slack: break every one, not only the known group names.
_AT_MENTION = re.compile(r"@(?=\w)")
# Markdown punctuation a backslash makes literal (CommonMark and Discord both honour it).
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_~\[\]()|#])")


def clean(text: str) -> str:
    """Fold look-alikes, drop invisible and control characters, keep newlines and tabs.

    Zero-width and bidi characters (Unicode Cf) let `@every\u200bone` slip past a filter and
    then reassemble, or make a link read backwards; NFKC folds `＠` and `＜` into the ASCII
    characters the escapers below then neutralise.
    """
    folded = unicodedata.normalize("NFKC", text).replace("\u2028", "\n").replace("\u2029", "\n")
    return "".join(
        ch
        for ch in folded
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cf", "Cc", "Co", "Cs", "Cn")
    )


def _break_mentions(text: str) -> str:
    return _AT_MENTION.sub("@" + ZWSP, text)


def _break_links(text: str) -> str:
    # `[x](y)` is a link in Markdown-speaking clients even where the docs say mrkdwn.
    return text.replace("](", "]" + ZWSP + "(")


def slack_mrkdwn(text: str) -> str:
    """Slack mrkdwn: `&<>` as entities, so `<!channel>`, `<@U1>` and `<url|x>` stay text."""
    escaped = clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _break_mentions(_break_links(escaped))


def markdown(text: str) -> str:
    """Mattermost Markdown: entities for `&<>` (its Slack bridge turns `<!channel>` into
    `@channel`), backslashes before Markdown punctuation, mentions broken."""
    escaped = clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _break_mentions(_MARKDOWN_SPECIALS.sub(r"\\\1", escaped))


def discord_markdown(text: str) -> str:
    """Discord Markdown: backslashes before Markdown punctuation; `<` gets a zero-width
    space after it (`<@id>`, `<@&role>`, `<#channel>`, `<t:…>`), mentions broken."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", clean(text)).replace("<", "<" + ZWSP)
    return _break_mentions(escaped)


def plain(text: str) -> str:
    """Text with no escape syntax: Slack plain_text, Adaptive Card TextBlocks (light
    Markdown, no backslash escapes), fallbacks, button titles. Zero-width spaces break
    `<!channel>`-style tokens, `[x](y)` links and mentions while reading the same."""
    return _break_mentions(_break_links(clean(text).replace("<", "<" + ZWSP)))


def link_target(url: str) -> str:
    """A URL safe inside `<url|label>` and `[label](url)`: delimiters percent-encoded."""
    return quote(url, safe=":/?&=%#@!$'*+,;~.-_")


def units(text: str) -> int:
    """Length as the services count it (UTF-16 code units: an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int, escape: Escaper) -> str:
    """`escape(text)` within `limit` units, cut on the raw text (never inside an escape)."""
    escaped = escape(text)
    if units(escaped) <= limit:
        return escaped
    budget = limit - units(ELLIPSIS)
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if units(escape(text[:mid]).rstrip()) <= budget:
            low = mid
        else:
            high = mid - 1
    return escape(text[:low]).rstrip() + ELLIPSIS
