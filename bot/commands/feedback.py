"""What the user sees: a reaction on their text and at most one reply, posted once per text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from gidgethub.abc import GitHubAPI

from bot.commands.parser import escape_for_reply
from bot.commands.sources import CommentSource, SourceKind
from bot.commands.wording import Sentence, Typed
from bot.github.limits import COMMENT_BODY, fit

# Any comment holding this is ferrybot's own and never read for commands.
MARKER_PREFIX = "<!-- ferrybot:"
_REPLY_MARKER = re.compile(
    r"<!-- ferrybot:reply delivery=(?P<delivery>\S+) source=(?P<source>\S+) "
    r"to=(?P<to>\S+) refusal=(?P<refusal>[01]) -->"
)
_SAFE_TOKEN = re.compile(r"[^A-Za-z0-9._:/-]")


class Reaction(StrEnum):
    """The reactions ferrybot leaves on a comment."""

    ACCEPTED = "+1"
    REFUSED = "confused"


@dataclass
class Feedback:
    """What the commands of one text produced, gathered before anything is posted.

    Refusals keep the typed line and the reason apart from any markup, so the GitHub reply
    and the chat notification each escape them once, for the medium that shows them.
    """

    refusals: list[tuple[str, Sentence]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    accepted: bool = False

    @property
    def refused(self) -> bool:
        """True when some command was not run."""
        return bool(self.refusals)

    def accept(self, message: str | None = None) -> None:
        """A command ran; `message` (if any) goes in the reply."""
        self.accepted = True
        if message:
            self.messages.append(message)

    def refuse(self, line: str, reason: str | Sentence) -> None:
        """A command was not run: the reply quotes it and says why (a plain `str` reason is
        ferrybot's own words, holding nothing the user typed)."""
        self.refusals.append(
            (line, reason if isinstance(reason, Sentence) else Sentence((reason,)))
        )

    def plain_refusals(self) -> list[str]:
        """Each refusal as plain text (`/line`: reason), for chat providers to escape."""
        return [Sentence.of(Typed(line), ": ").plain() + why.plain() for line, why in self.refusals]

    def text(self) -> str:
        """The reply's message: refusals as a list, then what commands had to say."""
        parts = []
        if self.refusals:
            count = len(self.refusals)
            head = "this command was not run:" if count == 1 else f"{count} commands were not run:"
            lines = [
                f"- {escape_for_reply(line)}: {why.for_github()}" for line, why in self.refusals
            ]
            parts.append(head + "\n\n" + "\n".join(lines))
        parts.extend(self.messages)
        return "\n\n".join(parts) or "done."


async def react(gh: GitHubAPI, source: CommentSource, reaction: Reaction) -> None:
    """React to the text (GitHub answers 200 to a repeat, so this is idempotent).

    Review bodies cannot carry reactions on GitHub; the reply is their only feedback.
    """
    if source.kind is SourceKind.REVIEW:
        return
    url, url_vars = _reactions_url(source)
    await gh.post(url, url_vars=url_vars, data={"content": reaction.value})


async def already_handled(gh: GitHubAPI, source: CommentSource, bot_login: str | None) -> bool:
    """True when ferrybot already ran the commands of this version of the text.

    A redelivery (GitHub's "Redeliver", the missed-delivery recovery) comes under a new
    delivery id, so the delivery-id dedupe cannot see it: what ferrybot left on GitHub can.
    The check reads what is written *after* the commands ran — ferrybot's reaction made
    since the text's `updated_at`, or for review bodies (which take no reactions) its reply
    naming the text. A crash between running and reacting then costs one more run of
    idempotent effects; marking the text *before* running would instead lose its commands
    if the worker died in between. Without a known login nothing can be told: run again.
    """
    if bot_login is None:
        return False
    if source.kind is SourceKind.REVIEW:
        since = _parse_time(source.created_at) or datetime.now(UTC)
        past = await past_replies(gh, source, since - timedelta(minutes=1))
        return any(m["source"] == source.key for m, _ in past.markers)
    written = _parse_time(source.updated_at)
    url, url_vars = _reactions_url(source)
    async for reaction in gh.getiter(url + "{?per_page}", url_vars={**url_vars, "per_page": "100"}):
        user = reaction.get("user") or {}
        if str(user.get("login", "")).lower() != bot_login.lower():
            continue
        if reaction.get("content") not in (Reaction.ACCEPTED.value, Reaction.REFUSED.value):
            continue
        made = _parse_time(reaction.get("created_at"))
        if written is None or made is None or made >= written:
            return True
    return False


def _reactions_url(source: CommentSource) -> tuple[str, dict[str, str]]:
    url_vars = {"owner": source.owner, "repo": source.repo}
    if source.kind is SourceKind.ISSUE_COMMENT:
        url_vars["comment_id"] = str(source.id)
        return "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", url_vars
    if source.kind is SourceKind.REVIEW_COMMENT:
        url_vars["comment_id"] = str(source.id)
        return "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions", url_vars
    url_vars["issue_number"] = str(source.number)
    return "/repos/{owner}/{repo}/issues/{issue_number}/reactions", url_vars


@dataclass(frozen=True)
class PastReplies:
    """ferrybot's replies on the pull request, as read from their hidden markers."""

    markers: list[tuple[dict[str, str], datetime]]

    def answered(self, delivery: str, source: CommentSource) -> bool:
        """True when this delivery or this very text already got its reply."""
        return any(
            m["delivery"] == _token(delivery) or m["source"] == source.key for m, _ in self.markers
        )

    def refused_recently(self, login: str, since: datetime) -> bool:
        """True when `login` got a refusal reply after `since`."""
        return any(
            m["to"].lower() == login.lower() and m["refusal"] == "1" and at >= since
            for m, at in self.markers
        )


async def past_replies(gh: GitHubAPI, source: CommentSource, since: datetime) -> PastReplies:
    """Read the markers of replies posted since `since` on the pull request."""
    markers: list[tuple[dict[str, str], datetime]] = []
    async for comment in gh.getiter(
        "/repos/{owner}/{repo}/issues/{issue_number}/comments{?since,per_page}",
        url_vars={
            "owner": source.owner,
            "repo": source.repo,
            "issue_number": str(source.number),
            "since": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "per_page": "100",
        },
    ):
        markers.extend(reply_markers(comment))
    return PastReplies(markers)


def reply_markers(comment: dict[str, Any]) -> list[tuple[dict[str, str], datetime]]:
    """The reply markers in a comment or note (`body`, `created_at`), with its time."""
    body = comment.get("body") or ""
    created = _parse_time(comment.get("created_at")) or datetime.now(UTC)
    return [(match.groupdict(), created) for match in _REPLY_MARKER.finditer(body)]


def render_reply(
    source: CommentSource, delivery: str, feedback: Feedback, commands: list[str]
) -> str:
    """The reply: `@user:` and what happened, the commands quoted, the hidden marker."""
    quoted = "<br>\n".join(escape_for_reply(line) for line in commands)
    marker = (
        f"<!-- ferrybot:reply delivery={_token(delivery)} source={source.key} "
        f"to={source.author} refusal={int(feedback.refused)} -->"
    )
    # A comment of hundreds of command lines is legal: its quote gets a quarter of the
    # comment, what happened the rest; the marker, which makes the reply idempotent, stays.
    details = (
        f"\n\n<details>\n<summary>The commands in your comment</summary>\n\n"
        f"{fit(quoted, COMMENT_BODY // 4)}\n\n</details>\n\n{marker}"
    )
    return fit(f"@{source.author}: {feedback.text()}", COMMENT_BODY, keep=details)


async def post_reply(gh: GitHubAPI, source: CommentSource, body: str) -> None:
    """Post the reply on the pull request's conversation."""
    await gh.post(
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        url_vars={"owner": source.owner, "repo": source.repo, "issue_number": str(source.number)},
        data={"body": body},
    )


def reply_window(source: CommentSource, interval_seconds: int, now: datetime) -> datetime:
    """Earliest time a relevant past reply can have: the text's own time or the rate window."""
    window = now - timedelta(seconds=interval_seconds)
    created = _parse_time(source.created_at)
    # A minute of slack: clocks of GitHub's webhook and API hosts differ slightly.
    return min(window, created - timedelta(minutes=1)) if created else window


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _token(value: str) -> str:
    """A delivery id fit for the marker: nothing that could end the HTML comment."""
    return _SAFE_TOKEN.sub("_", value)[:100] or "-"
