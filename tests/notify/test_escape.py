"""Escaping user text for each chat service, and cutting it to the service's limits."""

from __future__ import annotations

import re

import pytest

from bot.notify.escape import (
    ELLIPSIS,
    ZWSP,
    Escaper,
    clean,
    discord_markdown,
    fit,
    markdown,
    plain,
    slack_mrkdwn,
    units,
)

ESCAPERS = [slack_mrkdwn, markdown, discord_markdown, plain]
ESCAPER_IDS = ["slack", "mattermost", "discord", "plain-and-teams"]


@pytest.mark.parametrize("escape", ESCAPERS, ids=ESCAPER_IDS)
@pytest.mark.parametrize(
    ("hostile", "live"),
    [
        ("<!channel> deploy", "<!channel>"),
        ("<!here|here>", "<!here"),
        ("ping <@U024BE7LH>", "<@U024BE7LH>"),
        ("<!subteam^S123|@team>", "<!subteam"),
        ("@everyone look", "@everyone"),
        ("@here look", "@here"),
        ("@channel and @all", "@channel"),
        ("[docs](https://evil.example)", "](https://evil"),
        ("<https://evil.example|docs>", "<https://evil.example|"),
        ("@every\u200bone", "@everyone"),
        ("<!chan\u2060nel>", "<!channel>"),
        ("＜!channel＞ ＠everyone", "@everyone"),
    ],
    ids=[
        "slack-channel",
        "slack-here",
        "slack-user",
        "slack-usergroup",
        "everyone",
        "here",
        "mattermost-channel",
        "markdown-link",
        "slack-link",
        "zero-width-split",
        "word-joiner-split",
        "fullwidth",
    ],
)
def test_mentions_and_links_are_inert(escape: Escaper, hostile: str, live: str) -> None:
    """No escaper lets a mention or a link through, however it is disguised."""
    assert live not in escape(hostile)


@pytest.mark.parametrize("escape", ESCAPERS, ids=ESCAPER_IDS)
def test_the_text_still_reads_the_same(escape: Escaper) -> None:
    """Escaping changes markup, not what a reader sees."""
    out = escape("churn v7 → production (eu-west-1)")
    for word in ("churn", "v7", "→", "production", "eu-west-1"):
        assert word in out.replace("\\", "")


def test_invisible_and_direction_characters_are_dropped() -> None:
    """Zero-width, bidi override and control characters never reach a message."""
    assert clean("abc\u202edcba\u200b\u2066x\x07\x1b[31m") == "abcdcbax[31m"
    assert clean("line one\u2028line two\ttab") == "line one\nline two\ttab"


def test_slack_entities_are_the_only_escapes() -> None:
    """Slack gets `&amp; &lt; &gt;` and nothing else (mrkdwn has no backslash escapes)."""
    assert slack_mrkdwn("a & b < c > d_e*f") == "a &amp; b &lt; c &gt; d_e*f"


def test_discord_and_mattermost_use_backslash_escapes() -> None:
    """Markdown punctuation is backslash-escaped where the service honours it."""
    assert discord_markdown("*bold* `code` ||spoiler||") == r"\*bold\* \`code\` \|\|spoiler\|\|"
    assert markdown("# heading ~~gone~~") == r"\# heading \~\~gone\~\~"


@pytest.mark.parametrize("escape", ESCAPERS, ids=ESCAPER_IDS)
@pytest.mark.parametrize(
    "raw",
    ["n" * 5000, "&<>" * 2000, "[x](y) " * 900, "😀" * 3000, "@here " * 900],
    ids=["long-name", "entities", "links", "astral", "mentions"],
)
def test_long_text_is_cut_within_the_limit_with_an_ellipsis(escape: Escaper, raw: str) -> None:
    """A very long value is cut to the limit (in UTF-16 units) and ends with an ellipsis."""
    out = fit(raw, 150, escape)
    assert units(out) <= 150
    assert out.endswith(ELLIPSIS)
    assert units(out) > 100


def test_cutting_never_splits_an_escape() -> None:
    """The cut happens on the raw text, so no half entity or lone backslash is left."""
    out = fit("&" * 100, 52, slack_mrkdwn).removesuffix(ELLIPSIS)
    assert re.fullmatch(r"(&amp;)+", out)
    out = fit("_" * 100, 51, discord_markdown).removesuffix(ELLIPSIS)
    assert re.fullmatch(r"(\\_)+", out)


def test_short_text_is_left_whole() -> None:
    """Text within the limit is only escaped."""
    assert fit("promote churn", 150, plain) == "promote churn"


def test_mentions_are_broken_with_an_invisible_space() -> None:
    """`@word` becomes `@` + zero-width space + word: the same to read, no ping."""
    assert plain("@everyone") == f"@{ZWSP}everyone"
