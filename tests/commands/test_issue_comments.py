"""Comments on plain issues run only the commands declared `on_issues`; the rest are left alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.commands import Invocation, commands
from bot.commands.parser import TOO_MANY_COMMANDS
from schemas.commands_config import PermissionLevel
from tests.commands.harness import OWNER, REPO, Bot, bot, comment

__all__ = ["bot"]
ACTOR = "maria"


def _replies(bot: Bot, number: int) -> list[str]:
    return [c.body for c in bot.fake.comments(OWNER, REPO, number) if c.user == "ferrybot[bot]"]


@pytest.mark.parametrize(
    "body",
    ["/lgtm", "/label bug", "/close", "/hold\n/assign"],
    ids=["lgtm", "label", "close", "two"],
)
async def test_pull_request_commands_on_an_issue_are_left_alone(bot: Bot, body: str) -> None:
    """A pull-request command on a plain issue gets no reaction, no reply and changes nothing."""
    bot.fake.set_permission(OWNER, REPO, ACTOR, "admin")
    issue = bot.fake.add_issue(OWNER, REPO, "a bug", user="author")
    made = await comment(bot, issue, body, ACTOR)
    assert bot.writes() == []
    assert bot.fake.reactions(OWNER, REPO, comment_id=made) == []
    assert bot.fake.labels(OWNER, REPO, issue.number) == []
    assert bot.fake.issue(OWNER, REPO, issue.number).state == "open"
    assert bot.publisher.audits == []


async def test_help_on_an_issue_answers_and_skips_the_pull_request_commands(bot: Bot) -> None:
    """`/help` with `/lgtm` on an issue: the table says where each runs; `/lgtm` is not quoted."""
    bot.fake.set_permission(OWNER, REPO, ACTOR, "write")
    issue = bot.fake.add_issue(OWNER, REPO, "how do I", user="author")
    made = await comment(bot, issue, "/help\n/lgtm", ACTOR)
    assert [r.content for r in bot.fake.reactions(OWNER, REPO, comment_id=made)] == ["+1"]
    [reply] = _replies(bot, issue.number)
    rows = {row.split(" | ")[0]: row for row in reply.splitlines() if row.startswith("| `/")}
    for usage in ("/help", "/retrain <pipeline> [in <stage>]", "/status [<pipeline>]"):
        assert rows[f"| `{usage}`"].endswith("| pull requests and issues |")
    assert rows["| `/lgtm [cancel]`"].endswith("| pull requests |")
    assert "&#47;lgtm" not in reply
    assert "lgtm" not in bot.fake.labels(OWNER, REPO, issue.number)
    fetched = [p for m, p, _ in bot.fake.requests if m == "GET" and p.endswith(f"/{issue.number}")]
    assert fetched == [f"/repos/{OWNER}/{REPO}/issues/{issue.number}"]
    [record] = bot.publisher.audits
    assert record.action == "command.help"
    assert record.subject == f"github/{OWNER}/{REPO}#{issue.number}"


async def test_status_on_an_issue_answers(bot: Bot) -> None:
    """`/status` runs on an issue: with no pipelines configured the reply says so."""
    issue = bot.fake.add_issue(OWNER, REPO, "what runs where", user="author")
    bot.fake.set_permission(OWNER, REPO, ACTOR, "read")
    made = await comment(bot, issue, "/status", ACTOR)
    assert [r.content for r in bot.fake.reactions(OWNER, REPO, comment_id=made)] == ["+1"]
    [reply] = _replies(bot, issue.number)
    assert reply.startswith(f"@{ACTOR}: no promotion pipelines are configured.")


async def test_the_command_cap_holds_on_issues(bot: Bot) -> None:
    """Eleven `/help` lines on an issue: ten run, the eleventh is refused with the cap's reason."""
    issue = bot.fake.add_issue(OWNER, REPO, "many", user="author")
    made = await comment(bot, issue, "\n".join(["/help"] * 11), ACTOR)
    reactions = sorted(r.content for r in bot.fake.reactions(OWNER, REPO, comment_id=made))
    assert reactions == ["+1", "confused"]
    [reply] = _replies(bot, issue.number)
    assert f"this command was not run:\n\n- <code>&#47;help</code>: {TOO_MANY_COMMANDS}" in reply
    assert len([a for a in bot.publisher.audits if a.action == "command.help"]) == 10


@pytest.fixture
def reads_the_pull_request() -> Iterator[str]:
    """A command wrongly declared `on_issues` although it reads the pull request."""
    name = "needs-pull"

    @commands.command(
        name,
        usage=f"/{name}",
        help="Read the head.",
        permission=PermissionLevel.NONE,
        on_issues=True,
    )
    async def needs_pull(inv: Invocation) -> str | None:
        return inv.state.head_sha

    yield name
    del commands.specs[name]
    del commands._names[name]


async def test_a_command_reading_the_pull_request_is_refused_on_an_issue(
    bot: Bot, reads_the_pull_request: str
) -> None:
    """`Invocation.state` on an issue refuses the command with a reply instead of failing."""
    issue = bot.fake.add_issue(OWNER, REPO, "x", user="author")
    made = await comment(bot, issue, f"/{reads_the_pull_request}", ACTOR)
    assert [r.content for r in bot.fake.reactions(OWNER, REPO, comment_id=made)] == ["confused"]
    [reply] = _replies(bot, issue.number)
    assert f"`/{reads_the_pull_request}` works on pull requests only" in reply
