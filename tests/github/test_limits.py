"""Text ferrybot writes to GitHub fits GitHub's documented limits, with a `… N more` line."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import gidgethub.aiohttp
import pytest
from gidgethub.abc import GitHubAPI

from bot.checks import CheckResult, Conclusion, publish_check, publish_status
from bot.forges.port import ChangeProposal
from bot.github.limits import fit
from bot.promotion.gitdata import RepoRef
from bot.promotion.pulls import open_or_update_pr
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import APP_ID, INSTALLATION_ID

FOUR = "line one\nline two\nline three\nline four"
FIT_CASES = [
    ("fits", "a\nb", 3, "", "a\nb"),
    ("fits-with-keep", "a\nb", 8, "<m>", "a\nb<m>"),
    ("one-line-cut", "abcdefghij", 5, "", "abcd…"),
    ("lines-counted", FOUR, 30, "", "line one\n\n… 3 more lines"),
    ("two-kept", FOUR, 35, "", "line one\nline two\n\n… 2 more lines"),
    ("one-more-line", "a\nb\nc\n" + "x" * 50, 20, "", "a\nb\nc\n\n… 1 more line"),
    ("keep-kept", FOUR, 30, "<m>", "line one\n\n… 3 more lines<m>"),
    ("first-line-cut", "x" * 50 + "\nb\nc", 30, "", "x" * 13 + "…\n\n… 2 more lines"),
]


@pytest.mark.parametrize(
    ("text", "limit", "keep", "expected"),
    [case[1:] for case in FIT_CASES],
    ids=[case[0] for case in FIT_CASES],
)
def test_fit_keeps_whole_lines_and_counts_the_rest(
    text: str, limit: int, keep: str, expected: str
) -> None:
    """Whole lines while they fit, then `… N more lines`; a lone line ends with `…`."""
    assert fit(text, limit, keep=keep) == expected


@pytest.mark.parametrize("in_bytes", [False, True], ids=["characters", "utf8-bytes"])
def test_fit_never_exceeds_the_limit_and_always_keeps_the_tail(in_bytes: bool) -> None:
    """Over 5,000 random texts of 1- to 4-byte characters: within the limit (in the unit
    asked for), `keep` at the end, a text that fits untouched."""
    rng = random.Random(8)

    def size(text: str) -> int:
        return len(text.encode()) if in_bytes else len(text)

    for _ in range(5000):
        text = "\n".join(
            rng.choice("yé€😀") * rng.randint(0, 40) for _ in range(rng.randint(1, 60))
        )
        limit = rng.randint(1, 500)
        keep = "k" * rng.randint(0, min(limit - 1, 30))
        fitted = fit(text, limit, keep=keep, in_bytes=in_bytes)
        assert size(fitted) <= limit and fitted.endswith(keep)
        if size(text) + size(keep) <= limit:
            assert fitted == text + keep


def test_fit_in_bytes_never_splits_a_character() -> None:
    """Cut by UTF-8 size, a two-byte character that would be halved is left out whole."""
    assert fit("é" * 10, 8, in_bytes=True) == "éé…"
    assert fit("é" * 10, 8) == "ééééééé…"


def test_fit_refuses_a_tail_longer_than_the_limit() -> None:
    """A marker that cannot fit is a bug to hear about, not something to cut silently."""
    with pytest.raises(ValueError, match="exceeds the limit"):
        fit("text", 5, keep="<!-- marker -->")


@pytest.fixture
async def gh(fake_github: FakeGitHub) -> AsyncIterator[GitHubAPI]:
    fake_github.add_app(APP_ID, "ferrybot")
    fake_github.add_repo("acme", "app", files={"README.md": "# app\n"})
    fake_github.add_repo("acme", "gitops", files={"values.yaml": "tag: v1\n"})
    fake_github.add_installation(INSTALLATION_ID, APP_ID, ["acme/app", "acme/gitops"])
    token = fake_github.issue_token(INSTALLATION_ID).value
    async with aiohttp.ClientSession() as session:
        yield gidgethub.aiohttp.GitHubAPI(
            session, "ferrybot-tests", oauth_token=token, base_url=fake_github.url
        )


def _annotation(line: int) -> dict[str, Any]:
    return {
        "path": "deploy/app.yaml",
        "start_line": line,
        "end_line": line,
        "annotation_level": "failure",
        "message": f"problem on line {line} " + "é" * 40_000,
        "title": "Manifest problem " + "t" * 300,
    }


async def test_a_check_run_over_every_limit_is_published_once_within_them(
    gh: GitHubAPI, fake_github: FakeGitHub
) -> None:
    """96 KB of summary, a 314-character title and 60 long annotations: 50 annotations, the
    other 10 listed in the text, summary and title fitted; the same verdict again writes
    nothing."""
    pr = fake_github.add_pull("acme", "app", head="big", title="feat: big")
    assert pr.pull is not None
    # 36,000 characters but 96,000 bytes, which is what GitHub counts.
    summary = "\n".join(f"- finding {n:03} " + "😀" * 20 for n in range(1000))
    result = CheckResult(
        "ferrybot/manifests",
        Conclusion.FAILURE,
        "Many problems " + "t" * 300,
        summary,
        annotations=[_annotation(line) for line in range(1, 61)],
    )
    await publish_check(gh, "acme", "app", pr.pull.head_sha, result)
    writes = [r for r in fake_github.requests if r[0] in ("POST", "PATCH")]
    await publish_check(gh, "acme", "app", pr.pull.head_sha, result)
    assert [r for r in fake_github.requests if r[0] in ("POST", "PATCH")] == writes
    (run,) = fake_github.check_runs("acme", "app", pr.pull.head_sha)
    output = run.output
    assert len(output["summary"].encode()) <= 65_535 and output["summary"].endswith("more lines")
    assert len(output["title"]) == 255 and output["title"].endswith("…")
    assert len(output["annotations"]) == 50
    assert all(len(a["message"].encode()) <= 64 * 1024 for a in output["annotations"])
    assert all(len(a["title"]) <= 255 for a in output["annotations"])
    assert output["text"].startswith("10 more findings than GitHub shows as annotations")
    assert "deploy/app.yaml:60: problem on line 60" in output["text"]
    assert output["text"].endswith("\n```")


async def test_a_long_title_is_fitted_into_the_status_description(
    gh: GitHubAPI, fake_github: FakeGitHub
) -> None:
    """A commit status description is cut to GitHub's 140 characters, ending with `…`."""
    pr = fake_github.add_pull("acme", "app", head="st", title="feat: st")
    assert pr.pull is not None
    result = CheckResult("ferrybot/policy", Conclusion.FAILURE, "t" * 300, "summary")
    await publish_status(gh, "acme", "app", pr.pull.head_sha, result)
    (status,) = fake_github.statuses("acme", "app", pr.pull.head_sha)
    assert status.description == "t" * 139 + "…"


async def test_a_promotion_pr_body_over_the_limit_is_opened_fitted_and_left_alone_after(
    gh: GitHubAPI, fake_github: FakeGitHub
) -> None:
    """A 100k body and a 300-character title open one PR within limits; the same again is a
    no-op, because the fitted text is what gets compared."""
    head = fake_github.commit_files("acme", "gitops", "promote", {"values.yaml": "tag: v2\n"})
    body = "<!-- ferrybot:promotion -->\n" + "\n".join(f"| tag{n} | value |" for n in range(6000))
    proposal = ChangeProposal(
        source_branch="promote",
        target_branch="main",
        title="promote " + "p" * 300,
        body=body,
        head_sha=head,
        labels=("promotion",),
    )
    gitops = RepoRef("acme", "gitops")
    first = await open_or_update_pr(gh, gitops, proposal)
    second = await open_or_update_pr(gh, gitops, proposal)
    assert (first.created, second.created, second.updated) == (True, False, False)
    (pull,) = fake_github.pulls("acme", "gitops")
    assert len(pull.body) <= 65_536 and pull.body.startswith("<!-- ferrybot:promotion -->")
    assert pull.body.endswith("more lines")
    assert len(pull.title) == 256 and pull.title.endswith("…")
