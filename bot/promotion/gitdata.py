"""Reading a GitOps repository and committing several files as one commit (Git Data API)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import gidgethub
from gidgethub.abc import GitHubAPI

from bot.pipeline.retry import PermanentError


@dataclass(frozen=True)
class RepoRef:
    """`owner/name` of a GitOps repository, already validated by the config schema."""

    owner: str
    name: str

    @classmethod
    def parse(cls, full_name: str) -> RepoRef:
        """From `owner/name`."""
        owner, name = full_name.split("/", 1)
        return cls(owner, name)

    @property
    def api(self) -> str:
        """The REST prefix of the repository."""
        return f"/repos/{self.owner}/{self.name}"

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


# Branch names contain '/', which a URI template would percent-encode: the paths below are
# built from values validated by the config schema or branches.py, never from payloads.
async def branch_head(gh: GitHubAPI, repo: RepoRef, branch: str) -> str | None:
    """The commit SHA a branch points at, or None when the branch does not exist."""
    try:
        ref = await gh.getitem(f"{repo.api}/git/ref/heads/{branch}")
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise
    sha: str = ref["object"]["sha"]
    return sha


@dataclass(frozen=True)
class CommitInfo:
    """A commit's tree and parents, from one read."""

    tree: str
    parents: list[str]


async def read_commit(gh: GitHubAPI, repo: RepoRef, sha: str) -> CommitInfo:
    """The tree and parent SHAs of a commit."""
    commit = await gh.getitem(f"{repo.api}/git/commits/{sha}")
    return CommitInfo(
        str(commit["tree"]["sha"]), [parent["sha"] for parent in commit.get("parents", [])]
    )


async def commit_tree(gh: GitHubAPI, repo: RepoRef, sha: str) -> str:
    """The tree SHA of a commit."""
    return (await read_commit(gh, repo, sha)).tree


def blob_sha(text: str) -> str:
    """The SHA Git gives a file with this UTF-8 text, computed without asking GitHub."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


async def tree_files(gh: GitHubAPI, repo: RepoRef, tree: str) -> dict[str, tuple[str, str]] | None:
    """Every file of a tree, path → (mode, blob SHA); None when GitHub truncated the listing."""
    listing = await gh.getitem(f"{repo.api}/git/trees/{tree}?recursive=1")
    if listing.get("truncated"):
        return None
    return {
        str(entry["path"]): (str(entry["mode"]), str(entry["sha"]))
        for entry in listing.get("tree", [])
        if entry.get("type") == "blob"
    }


async def tree_is(
    gh: GitHubAPI, repo: RepoRef, tree: str, base_tree: str, files: dict[str, str]
) -> bool:
    """True when `tree` is exactly `base_tree` with `files` written, checked by reads only."""
    if tree == base_tree:
        return not files
    have = await tree_files(gh, repo, tree)
    base = await tree_files(gh, repo, base_tree)
    if have is None or base is None:
        return False  # too big to list: let the caller write it again
    want = {**base, **{path: ("100644", blob_sha(text)) for path, text in files.items()}}
    return have == want


async def read_file(gh: GitHubAPI, repo: RepoRef, path: str, ref: str) -> str | None:
    """A file's text at `ref`, or None when it does not exist there."""
    try:
        item = await gh.getitem(f"{repo.api}/contents/{path}?ref={ref}")
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise
    if not isinstance(item, dict) or item.get("type") != "file":
        raise PermanentError(f"{repo}: {path} is not a file; check the pipeline's `file`")
    return base64.b64decode(item.get("content", "")).decode("utf-8")


async def read_files(gh: GitHubAPI, repo: RepoRef, paths: list[str], ref: str) -> dict[str, str]:
    """Several files at `ref`; a missing one is a config error a person must fix."""
    files: dict[str, str] = {}
    for path in dict.fromkeys(paths):
        text = await read_file(gh, repo, path, ref)
        if text is None:
            raise PermanentError(
                f"{repo}: {path} does not exist at {ref[:12]}; fix the pipeline's `file` or "
                "add the file to the repository"
            )
        files[path] = text
    return files


async def make_tree(gh: GitHubAPI, repo: RepoRef, base_tree: str, files: dict[str, str]) -> str:
    """A tree: `base_tree` with these files replaced (one blob each)."""
    entries: list[dict[str, Any]] = []
    for path, text in files.items():
        blob = await gh.post(f"{repo.api}/git/blobs", data={"content": text, "encoding": "utf-8"})
        entries.append({"path": path, "mode": "100644", "type": "blob", "sha": _sha(blob, path)})
    tree = await gh.post(f"{repo.api}/git/trees", data={"base_tree": base_tree, "tree": entries})
    return _sha(tree, "tree")


async def make_commit(gh: GitHubAPI, repo: RepoRef, message: str, tree: str, parent: str) -> str:
    """A commit of `tree` on top of `parent`."""
    commit = await gh.post(
        f"{repo.api}/git/commits", data={"message": message, "tree": tree, "parents": [parent]}
    )
    return _sha(commit, "commit")


def _sha(created: dict[str, Any], what: str) -> str:
    sha = created.get("sha")
    if isinstance(sha, str):
        return sha
    # The dry-run recorder echoes writes without a SHA: name the object so the record reads.
    if created.get("dry_run"):
        return f"dry-run:{what}"
    raise PermanentError(f"GitHub created a git {what} but sent no sha")


async def point_branch(gh: GitHubAPI, repo: RepoRef, branch: str, sha: str, exists: bool) -> None:
    """Create the branch at `sha`, or move it there (forced: the bot owns this branch)."""
    if exists:
        await gh.patch(f"{repo.api}/git/refs/heads/{branch}", data={"sha": sha, "force": True})
    else:
        await gh.post(f"{repo.api}/git/refs", data={"ref": f"refs/heads/{branch}", "sha": sha})
