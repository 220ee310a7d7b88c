"""Read-only questions tests ask the fake after the bot has talked to it."""

from __future__ import annotations

from tests.fakegithub.state import (
    CheckRun,
    Comment,
    Dispatch,
    GitHubState,
    Issue,
    Reaction,
    Repo,
    Status,
)


class Queries:
    """Mixed into FakeGitHub; reads `self.state`."""

    state: GitHubState

    def resolve(self, owner: str, repo: str, ref: str) -> str | None:
        """The commit sha a branch, tag, full ref or (abbreviated) sha names, else None."""
        return resolve_ref(self.state, self.state.repo(owner, repo), ref)

    def check_runs(
        self, owner: str, repo: str, sha: str, name: str | None = None
    ) -> list[CheckRun]:
        """Check runs on sha (or a branch), oldest first, optionally only those called name."""
        target = self.state.repo(owner, repo)
        head = resolve_ref(self.state, target, sha) or sha
        return [
            run
            for run in self.state.check_runs.values()
            if run.repo == target.full_name
            and run.head_sha == head
            and (name is None or run.name == name)
        ]

    def statuses(self, owner: str, repo: str, sha: str) -> list[Status]:
        """Commit statuses on sha (or a branch), oldest first."""
        target = self.state.repo(owner, repo)
        head = resolve_ref(self.state, target, sha) or sha
        return [item for item in target.statuses if item.sha == head]

    def comments(self, owner: str, repo: str, number: int) -> list[Comment]:
        target = self.state.repo(owner, repo)
        return [
            c
            for c in self.state.comments.values()
            if c.repo == target.full_name and c.issue_number == number
        ]

    def labels(self, owner: str, repo: str, number: int) -> list[str]:
        return list(self.state.repo(owner, repo).issue(number).labels)

    def issue(self, owner: str, repo: str, number: int) -> Issue:
        return self.state.repo(owner, repo).issue(number)

    def reactions(
        self,
        owner: str,
        repo: str,
        number: int | None = None,
        *,
        comment_id: int | None = None,
        review_comment_id: int | None = None,
    ) -> list[Reaction]:
        """Reactions on an issue/PR (number), an issue comment or a review comment."""
        if comment_id is not None:
            return list(self.state.comments[comment_id].reactions)
        if review_comment_id is not None:
            return list(self.state.review_comments[review_comment_id].reactions)
        if number is None:
            raise ValueError("give number, comment_id or review_comment_id")
        return list(self.state.repo(owner, repo).issue(number).reactions)

    def pulls(self, owner: str, repo: str, state: str = "all") -> list[Issue]:
        """Pull requests (issues with `.pull`), in number order; state: open, closed or all."""
        target = self.state.repo(owner, repo)
        return [
            issue
            for issue in target.issues.values()
            if issue.pull is not None and state in ("all", issue.state)
        ]

    def dispatches(self, owner: str, repo: str) -> list[Dispatch]:
        """Workflow and repository dispatches accepted for the repository, oldest first."""
        target = self.state.repo(owner, repo)
        return [d for d in self.state.dispatches if d.repo == target.full_name]

    def file_at(self, owner: str, repo: str, ref: str, path: str) -> str | None:
        """Text of path at ref (branch, tag or sha), or None if absent."""
        data = self.blob_at(owner, repo, ref, path)
        return None if data is None else data.decode()

    def blob_at(self, owner: str, repo: str, ref: str, path: str) -> bytes | None:
        target = self.state.repo(owner, repo)
        sha = resolve_ref(self.state, target, ref)
        if sha is None:
            return None
        entry = self.state.git.lookup(self.state.git.commits[sha].tree, path.strip("/"))
        if entry is None or entry.type != "blob":
            return None
        return self.state.git.blobs[entry.sha]

    def files_at(self, owner: str, repo: str, ref: str) -> dict[str, str]:
        """Every file at ref as {path: text}."""
        target = self.state.repo(owner, repo)
        sha = resolve_ref(self.state, target, ref)
        if sha is None:
            return {}
        git = self.state.git
        return {
            path: git.blobs[e.sha].decode()
            for path, e in git.flatten(git.commits[sha].tree).items()
        }


def resolve_ref(state: GitHubState, repo: Repo, ref: str) -> str | None:
    """Commit sha for a branch, tag, `refs/...`, `heads/...` or (abbreviated) commit sha."""
    for candidate in (ref, f"refs/{ref}", f"refs/heads/{ref}", f"refs/tags/{ref}"):
        if candidate in repo.refs:
            return repo.refs[candidate]
    if ref in state.git.commits:
        return ref
    if len(ref) >= 7 and all(c in "0123456789abcdef" for c in ref.lower()):
        matches = [sha for sha in state.git.commits if sha.startswith(ref.lower())]
        if len(matches) == 1:
            return matches[0]
    return None
