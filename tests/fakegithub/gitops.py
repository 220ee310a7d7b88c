"""Git operations on top of the object store: commit files, merge, diff."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tests.fakegithub.gitstore import FILE_MODE, GitStore, Signature, TreeEntry
from tests.fakegithub.state import Repo, iso, now

DEFAULT_AUTHOR = ("Fake GitHub", "noreply@github.com")


class MergeConflict(Exception):
    """Both sides changed the same path differently."""


def signature(name: str, email: str, moment: datetime | None = None) -> Signature:
    moment = moment or now()
    return Signature(name, email, iso(moment) or "", int(moment.timestamp()))


def write_files(
    git: GitStore, base_tree: str | None, files: Mapping[str, str | bytes | None]
) -> str:
    """A tree like base_tree with files written (None deletes); returns its sha."""
    flat = (
        {path: (e.mode, e.sha) for path, e in git.flatten(base_tree).items()} if base_tree else {}
    )
    for path, content in files.items():
        path = path.strip("/")
        if content is None:
            flat.pop(path, None)
            continue
        data = content.encode() if isinstance(content, str) else content
        flat[path] = (flat.get(path, (FILE_MODE, ""))[0], git.put_blob(data))
    return git.build_tree(flat)


def commit_files(
    git: GitStore,
    repo: Repo,
    branch: str,
    files: Mapping[str, str | bytes | None],
    message: str,
    author: tuple[str, str] = DEFAULT_AUTHOR,
    start_from: str | None = None,
) -> str:
    """Commit files on branch (created from start_from, else from scratch) and move the ref."""
    parent = repo.branch_sha(branch) or start_from
    base_tree = git.commits[parent].tree if parent else None
    tree = write_files(git, base_tree, files)
    who = signature(*author)
    sha = git.put_commit(tree, [parent] if parent else [], message, who, who)
    repo.refs[f"refs/heads/{branch}"] = sha
    return sha


def merge_trees(git: GitStore, ancestor: str | None, ours: str, theirs: str) -> str:
    """Three-way merge of root trees by path; raises MergeConflict."""
    key = ("merge", ancestor or "", ours, theirs)
    if key not in git.derived:
        try:
            git.derived[key] = _merge_trees(git, ancestor, ours, theirs)
        except MergeConflict as conflict:
            git.derived[key] = conflict
    result: str | MergeConflict = git.derived[key]
    if isinstance(result, MergeConflict):
        raise result
    return result


def _merge_trees(git: GitStore, ancestor: str | None, ours: str, theirs: str) -> str:
    base = _flat(git, ancestor)
    mine, other = _flat(git, ours), _flat(git, theirs)
    merged: dict[str, tuple[str, str]] = {}
    for path in base.keys() | mine.keys() | other.keys():
        was, left, right = base.get(path), mine.get(path), other.get(path)
        if left == right or right == was:
            chosen = left
        elif left == was:
            chosen = right
        else:
            raise MergeConflict(path)
        if chosen is not None:
            merged[path] = chosen
    return git.build_tree(merged)


def _flat(git: GitStore, tree: str | None) -> dict[str, tuple[str, str]]:
    return {p: (e.mode, e.sha) for p, e in git.flatten(tree).items()} if tree else {}


@dataclass(frozen=True)
class FileChange:
    """One entry of a pull request's files list."""

    filename: str
    status: str
    sha: str | None
    additions: int
    deletions: int
    patch: str


def diff_trees(git: GitStore, old_tree: str | None, new_tree: str) -> list[FileChange]:
    """Changed files between two root trees, in path order."""
    key = ("diff", old_tree or "", new_tree)
    if key not in git.derived:
        git.derived[key] = _diff_trees(git, old_tree, new_tree)
    changes: list[FileChange] = git.derived[key]
    return list(changes)


def _diff_trees(git: GitStore, old_tree: str | None, new_tree: str) -> list[FileChange]:
    old, new = _entries(git, old_tree), _entries(git, new_tree)
    changes = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before is not None and after is not None and before.sha == after.sha:
            continue
        status = "added" if before is None else "removed" if after is None else "modified"
        old_lines = _lines(git, before)
        new_lines = _lines(git, after)
        patch_lines = list(difflib.unified_diff(old_lines, new_lines, lineterm="", n=3))[2:]
        changes.append(
            FileChange(
                filename=path,
                status=status,
                sha=after.sha if after else before.sha if before else None,
                additions=sum(1 for line in patch_lines if line.startswith("+")),
                deletions=sum(1 for line in patch_lines if line.startswith("-")),
                patch="\n".join(patch_lines),
            )
        )
    return changes


def _entries(git: GitStore, tree: str | None) -> Mapping[str, TreeEntry]:
    return git.flatten(tree) if tree else {}


def _lines(git: GitStore, entry: TreeEntry | None) -> list[str]:
    if entry is None:
        return []
    return git.blobs[entry.sha].decode("utf-8", errors="replace").splitlines()
