"""GitHub behind the GitOps port: Git Data API commits and one pull request per branch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from gidgethub.abc import GitHubAPI

from bot.checks import CheckResult, publish_check
from bot.forges.github.changes import change_from_pull
from bot.forges.port import ChangeProposal, ChangeRequest, ProposalOutcome
from bot.github.dryrun import DryRunGitHubAPI
from bot.promotion import gitdata
from bot.promotion.gitdata import RepoRef
from bot.promotion.pulls import close_superseded, open_or_update_pr, open_pull
from schemas.forges import ForgeKind
from schemas.github import PullRequest


class GitHubGitOps:
    """A GitOps repository on GitHub, through the installation client that covers it."""

    kind = ForgeKind.GITHUB

    def __init__(self, gh: GitHubAPI) -> None:
        self.gh = gh

    @property
    def dry_run(self) -> bool:
        """True when the client records writes instead of sending them."""
        return isinstance(self.gh, DryRunGitHubAPI)

    async def branch_head(self, project: str, branch: str) -> str | None:
        """The branch's commit (Git refs API)."""
        return await gitdata.branch_head(self.gh, RepoRef.parse(project), branch)

    async def read_file(self, project: str, path: str, ref: str) -> str | None:
        """The file's text at `ref` (contents API)."""
        return await gitdata.read_file(self.gh, RepoRef.parse(project), path, ref)

    async def commit_files(
        self,
        project: str,
        branch: str,
        base: tuple[str, str],
        files: dict[str, str],
        message: str,
    ) -> tuple[str, bool]:
        """One commit on the base through blobs → tree → commit → ref, made only when needed.

        Whether the branch already holds exactly that is found by reads alone (a redelivery or
        a repeated trigger then writes nothing).
        """
        gh, repo, base_sha = self.gh, RepoRef.parse(project), base[1]
        base_tree = await gitdata.commit_tree(gh, repo, base_sha)
        head = await gitdata.branch_head(gh, repo, branch)
        if head is not None:
            current = await gitdata.read_commit(gh, repo, head)
            if current.parents == [base_sha] and await gitdata.tree_is(
                gh, repo, current.tree, base_tree, files
            ):
                return head, False
        tree = await gitdata.make_tree(gh, repo, base_tree, files)
        sha = await gitdata.make_commit(gh, repo, message, tree, base_sha)
        await gitdata.point_branch(gh, repo, branch, sha, exists=head is not None)
        return sha, True

    async def open_or_update_change(
        self, project: str, proposal: ChangeProposal
    ) -> ProposalOutcome:
        """The branch's pull request, updated when it reads differently, else opened."""
        repo = RepoRef.parse(project)
        pull = await open_or_update_pr(self.gh, repo, proposal)
        change = ChangeRequest(
            forge=ForgeKind.GITHUB,
            project=project,
            number=pull.number,
            title=proposal.title,
            author="",
            head_sha=proposal.head_sha,
            head_branch=proposal.source_branch,
            target_branch=proposal.target_branch,
            labels=frozenset(proposal.labels),
            draft=proposal.draft,
            url=pull.html_url,
        )
        return ProposalOutcome(change, pull.created, pull.updated)

    async def open_change(self, project: str, source_branch: str) -> ChangeRequest | None:
        """The branch's open pull request."""
        owner, name = project.split("/", 1)
        found = await open_pull(self.gh, RepoRef.parse(project), source_branch)
        if found is None:
            return None
        pull = PullRequest.model_validate(found)
        return change_from_pull(owner, name, pull, pull.label_names)

    async def add_labels(self, change: ChangeRequest, names: Sequence[str]) -> None:
        """Add the labels the pull request lacks (read first: a label present costs no write)."""
        api = RepoRef.parse(change.project).api
        listed = await self.gh.getitem(f"{api}/issues/{change.number}/labels")
        have = {label["name"] for label in listed}
        if missing := [label for label in names if label not in have]:
            await self.gh.post(f"{api}/issues/{change.number}/labels", data={"labels": missing})

    async def file_history(
        self, project: str, branch: str, path: str, limit: int
    ) -> list[tuple[str, datetime]]:
        """Commits that changed `path`, newest first (commits API, committer dates)."""
        api = RepoRef.parse(project).api
        listing = f"{api}/commits?sha={quote(branch)}&path={quote(path)}&per_page={limit}"
        found: list[tuple[str, datetime]] = []
        async for commit in self.gh.getiter(listing):
            when = commit["commit"]["committer"]["date"].replace("Z", "+00:00")
            found.append((str(commit["sha"]), datetime.fromisoformat(when)))
            if len(found) >= limit:
                break
        return found

    async def close_change(self, project: str, source_branch: str, why: str) -> int | None:
        """Close the branch's open pull request with a comment saying why."""
        return await close_superseded(self.gh, RepoRef.parse(project), source_branch, why)

    async def set_check(self, change: ChangeRequest, result: CheckResult) -> str | None:
        """A check run on the head commit (a commit status under a personal token)."""
        owner, name = change.project.split("/", 1)
        return await publish_check(self.gh, owner, name, change.head_sha, result)
