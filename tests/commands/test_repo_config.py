"""Per-repo `.github/ferrybot.yml`: allowed keys merged, the rest refused and reported once."""

from __future__ import annotations

import asyncio
import re

import gidgethub.aiohttp
import pytest

from bot.repo_config import RepoConfigCache, merge_overrides
from schemas.commands_config import RepoConfigPolicy
from schemas.config import BotConfig
from schemas.envelope import Envelope, Source
from tests.commands.harness import OWNER, REPO, Bot, bot, comment, pull_payload
from tests.support.bot import INSTALLATION_ID

__all__ = ["bot"]
FILE = ".github/ferrybot.yml"
ALLOWED = ["policy.required_labels", "commands.permissions.label"]


def _central() -> BotConfig:
    return BotConfig(repo_config=RepoConfigPolicy(allowed_overrides=ALLOWED))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"policy": {"required_labels": ["kind/*"]}}, None),
        ({"commands": {"permissions": {"label": {"level": "write"}}}}, None),
        ({"policy": {"title_pattern": ".*"}}, "`policy.title_pattern`"),
        ({"commands": {"permissions": {"approve": {"users": ["me"]}}}}, "permissions.approve"),
        ({"policy": "everything"}, "`policy`"),
        ({"policy": {"required_labels": "kind/*"}}, "is not valid"),
    ],
    ids=["allowed-leaf", "allowed-subtree", "other-key", "sibling-key", "not-a-map", "bad-type"],
)
def test_only_allowed_keys_merge(data: dict[str, object], problem: str | None) -> None:
    """A key outside allowed_overrides refuses the whole file, naming the key."""
    if problem is None:
        merged = merge_overrides(_central(), data, ALLOWED, FILE)
        assert merged.repo_config.allowed_overrides == ALLOWED
        return
    with pytest.raises(ValueError, match=re.escape(problem)):
        merge_overrides(_central(), data, ALLOWED, FILE)


async def test_repo_file_raises_a_command_permission(bot: Bot) -> None:
    """The repo asks write for /label: a triager is refused there, per the merged config."""
    bot.config = _central()
    bot.fake.commit_files(
        OWNER, REPO, "main", {FILE: "commands:\n  permissions:\n    label: {level: write}\n"}
    )
    bot.fake.add_label(OWNER, REPO, "bug")
    pr = bot.fake.add_pull(OWNER, REPO, head="x", title="feat: x", user="author")
    bot.fake.set_permission(OWNER, REPO, "tri", "triage")
    await comment(bot, pr, "/label bug", "tri")
    assert "bug" not in bot.fake.labels(OWNER, REPO, pr.number)
    assert "the write role" in bot.fake.comments(OWNER, REPO, pr.number)[-1].body


async def test_a_broken_repo_file_is_reported_once_and_the_central_config_used(bot: Bot) -> None:
    """Bad YAML: one comment on the PR naming the line; commands still run on central rules."""
    bot.config = _central()
    bot.fake.commit_files(OWNER, REPO, "main", {FILE: "policy: [unclosed\n"})
    pr = bot.fake.add_pull(OWNER, REPO, head="y", title="feat: y", user="author")
    bot.fake.set_permission(OWNER, REPO, "tri", "triage")
    await bot.deliver("pull_request", pull_payload(pr))
    await comment(bot, pr, "/hold", "tri")
    reports = [
        c.body
        for c in bot.fake.comments(OWNER, REPO, pr.number)
        if "ferrybot:repo-config" in c.body
    ]
    assert len(reports) == 1
    assert "not valid YAML at line" in reports[0]
    assert "do-not-merge/hold" in bot.fake.labels(OWNER, REPO, pr.number)


async def test_the_file_is_read_from_the_default_branch_not_the_pr(bot: Bot) -> None:
    """A PR adding a permissive repo file does not get to use it."""
    bot.config = _central()
    bot.fake.add_label(OWNER, REPO, "bug")
    pr = bot.fake.add_pull(
        OWNER,
        REPO,
        head="sneaky",
        title="feat: sneaky",
        user="author",
        files={FILE: "commands:\n  permissions:\n    label: {level: none}\n"},
    )
    await comment(bot, pr, "/label bug", "stranger")
    assert "bug" not in bot.fake.labels(OWNER, REPO, pr.number)
    reads = [call for call in bot.fake.calls if "/contents/" in call.path]
    assert reads and all("ref" not in call.query for call in reads)


_LAUGHS = 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("policy: " + "[" * 2000 + "]" * 2000 + "\n", "nests deeper than 32 levels at line 1"),
        ("".join("  " * i + "a:\n" for i in range(40)), "nests deeper than 32 levels at line 32"),
        (
            "".join(
                f"x{k}: &x{k} [[[[[[[[[[{f'*x{k - 1}' if k else 1}]]]]]]]]]]\n" for k in range(4)
            ),
            "nests deeper than 32 levels through aliases",
        ),
        (_LAUGHS + "policy: {required_labels: *i}\n", "holds more than 10000 values"),
        ("policy: &p {required_labels: [*p]}\n", "refers to itself through an alias at line 1"),
        ("policy: {required_labels: [x]}\nwhen: 2001-13-45\n", "holds a value YAML cannot read"),
        ("# " + "x" * 70_000 + "\npolicy: {}\n", "is larger than 64 KiB"),
    ],
    ids=["flow-2000", "block-40", "alias-depth", "billion-laughs", "cycle", "bad-date", "70-kb"],
)
async def test_a_file_that_cannot_be_loaded_is_reported_and_the_central_config_used(
    bot: Bot, text: str, problem: str
) -> None:
    """Too deep, too big, self-referring or unreadable YAML: one report, central rules apply."""
    bot.config = _central()
    bot.fake.commit_files(OWNER, REPO, "main", {FILE: text})
    pr = bot.fake.add_pull(OWNER, REPO, head="deep", title="feat: deep", user="author")
    bot.fake.set_permission(OWNER, REPO, "tri", "triage")
    await bot.deliver("pull_request", pull_payload(pr))
    await comment(bot, pr, "/hold", "tri")
    reports = [
        c.body
        for c in bot.fake.comments(OWNER, REPO, pr.number)
        if "ferrybot:repo-config" in c.body
    ]
    assert len(reports) == 1
    assert problem in reports[0]
    assert "do-not-merge/hold" in bot.fake.labels(OWNER, REPO, pr.number)


async def test_a_file_github_refuses_to_serve_is_reported_not_dead_lettered(bot: Bot) -> None:
    """A 403 reading the file (no contents permission) is said on the PR; commands still run."""
    bot.config = _central()
    pr = bot.fake.add_pull(OWNER, REPO, head="z", title="feat: z", user="author")
    bot.fake.set_permission(OWNER, REPO, "tri", "triage")
    body = {"message": "Resource not accessible by integration"}
    bot.fake.fail_next("GET", r"/contents/\.github/ferrybot\.yml$", 403, times=99, body=body)
    await comment(bot, pr, "/hold", "tri")
    reports = [c.body for c in bot.fake.comments(OWNER, REPO, pr.number) if FILE in c.body]
    assert len(reports) == 1
    assert "could not be read (GitHub answered 403)" in reports[0]
    assert "do-not-merge/hold" in bot.fake.labels(OWNER, REPO, pr.number)


async def test_a_report_naming_thousands_of_keys_fits_in_one_comment(bot: Bot) -> None:
    """1,300 refused keys (61 KB of file): the report is cut to GitHub's 65,536 characters."""
    bot.config = _central()
    keys = "".join(f"  a_long_setting_name_that_is_refused_{n:04}: 1\n" for n in range(1300))
    bot.fake.commit_files(OWNER, REPO, "main", {FILE: "policy:\n" + keys})
    pr = bot.fake.add_pull(OWNER, REPO, head="keys", title="feat: keys", user="author")
    await bot.deliver("pull_request", pull_payload(pr))
    (report,) = [c.body for c in bot.fake.comments(OWNER, REPO, pr.number) if FILE in c.body]
    assert len(report) <= 65_536
    assert "`policy.a_long_setting_name_that_is_refused_0000`" in report
    assert report.endswith("-->") and "ferrybot:repo-config sha=" in report


async def test_the_file_is_read_once_per_repository_per_ttl(bot: Bot) -> None:
    """Two reads within the TTL cost one request; past the TTL, or after a push, one more."""
    bot.fake.commit_files(OWNER, REPO, "main", {FILE: "policy:\n  required_labels: [kind/*]\n"})
    now = [0.0]
    cache = RepoConfigCache(ttl_seconds=60, clock=lambda: now[0])
    token = bot.fake.issue_token(INSTALLATION_ID).value
    gh = gidgethub.aiohttp.GitHubAPI(bot.session, "tests", oauth_token=token, base_url=bot.fake.url)

    def reads() -> int:
        return sum(1 for _, path, _ in bot.fake.requests if "/contents/" in path)

    first, second = await asyncio.gather(
        cache.get(gh, _central(), OWNER, REPO), cache.get(gh, _central(), OWNER, REPO)
    )
    assert first.config.policy.required_labels == second.config.policy.required_labels == ["kind/*"]
    assert reads() == 1
    now[0] = 61.0
    await cache.get(gh, _central(), OWNER, REPO)
    assert reads() == 2
    push = Envelope(
        id="push-1",
        source=Source.GITHUB,
        event="push",
        subject=f"github/{OWNER}/{REPO}",
        payload={
            "ref": "refs/heads/main",
            "repository": {"full_name": f"{OWNER}/{REPO}", "default_branch": "main"},
        },
    )
    feature_push = push.model_copy(update={"payload": {**push.payload, "ref": "refs/heads/x"}})
    cache.note_event(feature_push)
    await cache.get(gh, _central(), OWNER, REPO)
    assert reads() == 2
    cache.note_event(push)
    await cache.get(gh, _central(), OWNER, REPO)
    assert reads() == 3
