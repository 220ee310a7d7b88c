"""GitHub's pull requests as the forge port's ChangeRequest."""

from __future__ import annotations

from collections.abc import Iterable

from bot.forges.port import ChangeRequest
from schemas.forges import ForgeKind
from schemas.github import PullRequest


def change_from_pull(
    owner: str, repo: str, pull: PullRequest, labels: Iterable[str]
) -> ChangeRequest:
    """The pull request with the labels it carries now (commands may have changed them)."""
    return ChangeRequest(
        forge=ForgeKind.GITHUB,
        project=f"{owner}/{repo}",
        number=pull.number,
        title=pull.title,
        author=pull.user.login,
        head_sha=pull.head.sha,
        head_branch=pull.head.ref,
        target_branch=pull.base.ref,
        labels=frozenset(labels),
        draft=pull.draft,
        url=pull.html_url or f"https://github.com/{owner}/{repo}/pull/{pull.number}",
        additions=pull.additions,
        deletions=pull.deletions,
    )
