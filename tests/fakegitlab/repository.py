"""Versioned files: commits on branches, the commits API's actions, logs and diffs."""

from __future__ import annotations

import base64
import binascii
import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tests.fakegitlab.state import Commit, GitLabState, NotFound, Project, User


class CommitRefused(Exception):
    """The commits API refused the actions; the message is GitLab's own wording."""


def write(
    state: GitLabState,
    project: Project,
    branch: str,
    changes: Mapping[str, str | None],
    *,
    author: User,
    message: str,
    start: str | None = None,
    extra_parents: Sequence[str] = (),
) -> Commit:
    """One commit on `branch` (created from `start` or the default branch) changing `changes`;
    a None content deletes the file."""
    parent_sha = project.branches.get(branch)
    if parent_sha is None:
        base = start if start is not None else project.default_branch
        parent_sha = project.branches.get(base)
        if parent_sha is None and base in project.commits:
            parent_sha = base
    parent = project.commits[parent_sha] if parent_sha is not None else None
    files = dict(parent.files) if parent else {}
    touched_by = dict(parent.touched_by) if parent else {}
    changed: dict[str, str] = {}
    for path, content in changes.items():
        if content is None:
            if path in files:
                del files[path]
                touched_by.pop(path, None)
                changed[path] = "removed"
        elif files.get(path) != content:
            changed[path] = "modified" if path in files else "added"
            files[path] = content
    parents = ([parent_sha] if parent_sha else []) + list(extra_parents)
    sha = state.new_sha(parents, files, message)
    for path, kind in changed.items():
        if kind != "removed":
            touched_by[path] = sha
    commit = Commit(sha, parents, message, author, files, touched_by, changed)
    project.commits[sha] = commit
    project.branches[branch] = sha
    return commit


def apply_actions(
    state: GitLabState,
    project: Project,
    *,
    branch: str,
    start_branch: str | None,
    start_sha: str | None = None,
    force: bool = False,
    actions: Sequence[Mapping[str, Any]],
    author: User,
    message: str,
) -> Commit:
    """The commits API: every action in ONE commit, or nothing and GitLab's error message.

    The checks run in the order of Commits::CreateService#validate! and
    Files::MultiService#validate_file_status!; the file checks are Gitaly's.
    """
    if start_sha is not None:
        if start_branch is not None:
            raise CommitRefused("You can't pass both start_branch and start_sha")
        if start_sha not in project.commits:
            raise CommitRefused(f"Cannot find start_sha '{start_sha}'")
        start = start_sha
        base = project.commits[start_sha]
    else:
        # lib/api/commits.rb: `attrs[:start_branch] ||= attrs[:branch]`.
        start = start_branch if start_branch is not None else branch
        if start not in project.branches:
            raise CommitRefused("You can only create or edit files when you are on a branch")
        base = project.commits[project.branches[start]]
    if start != branch and branch in project.branches and not force:
        raise CommitRefused(
            f"A branch called '{branch}' already exists. "
            "Switch to that branch in order to make changes"
        )
    for action in actions:
        if action["action"] in ("update", "move", "delete"):
            path = action.get("previous_path") or action["file_path"]
            last_commit_id = action.get("last_commit_id")
            # Compared with the last commit that changed the file on the start branch.
            touched_by = base.touched_by.get(path)
            if last_commit_id and touched_by is not None and touched_by != last_commit_id:
                raise CommitRefused(f"The file has changed since you started editing it: {path}")
    files = dict(base.files)
    changes: dict[str, str | None] = {}
    for action in actions:
        kind = action["action"]
        path = action["file_path"]
        content = _content(action)
        if kind == "create":
            if path in files:
                raise CommitRefused("A file with this name already exists")
        elif kind == "move":
            previous = action.get("previous_path")
            if not previous or previous not in files:
                raise CommitRefused("A file with this name doesn't exist")
            if path in files:
                raise CommitRefused("A file with this name already exists")
            moved = files.pop(previous)
            changes[previous] = None
            content = content if content is not None else moved
        elif path not in files:
            raise CommitRefused("A file with this name doesn't exist")
        if kind == "delete":
            del files[path]
            changes[path] = None
        elif kind == "chmod":
            continue  # Modes are not modelled; the file's content stays.
        else:
            files[path] = content if content is not None else ""
            changes[path] = files[path]
    if start != branch:
        # A new branch (or, with force, a reset one) starts at the start branch or sha.
        project.branches[branch] = base.sha
    return write(state, project, branch, changes, author=author, message=message, start=start)


def _content(action: Mapping[str, Any]) -> str | None:
    content = action.get("content")
    if content is None or action.get("encoding", "text") != "base64":
        return content
    try:
        return base64.b64decode(content, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise CommitRefused("Content is not valid base64") from None


def history(project: Project, ref: str) -> Iterator[Commit]:
    """Commits reachable from ref, newest first (first parents, then the rest), once each."""
    seen: set[str] = set()
    queue = [project.commit(ref).sha]
    while queue:
        sha = queue.pop(0)
        if sha in seen or sha not in project.commits:
            continue
        seen.add(sha)
        commit = project.commits[sha]
        yield commit
        queue.extend(commit.parent_ids)


def contains(project: Project, ref: str, sha: str) -> bool:
    try:
        return any(commit.sha == sha for commit in history(project, ref))
    except NotFound:
        return False


def diffs(old: Mapping[str, str], new: Mapping[str, str]) -> list[dict[str, Any]]:
    """Per-file unified diffs the way the MR diffs API lists them."""
    answer = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        text = "".join(
            difflib.unified_diff(
                (before or "").splitlines(keepends=True),
                (after or "").splitlines(keepends=True),
                fromfile=f"a/{path}",
                tofile=f"b/{path}",
            )
        )
        # GitLab's diff field starts at the first hunk, without the ---/+++ header.
        hunks = text.split("\n", 2)[2] if text.count("\n") >= 2 else text
        answer.append(
            {
                "old_path": path,
                "new_path": path,
                "a_mode": "0" if before is None else "100644",
                "b_mode": "0" if after is None else "100644",
                "new_file": before is None,
                "renamed_file": False,
                "deleted_file": after is None,
                "generated_file": False,
                "diff": hunks,
            }
        )
    return answer
