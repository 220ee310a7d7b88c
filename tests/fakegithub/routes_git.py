"""Git data (blobs, trees, commits, refs), repository commits and contents."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from tests.fakegithub import gitops, render
from tests.fakegithub.gitstore import MODE_TYPES, TREE_MODE, Signature, TreeEntry
from tests.fakegithub.queries import resolve_ref
from tests.fakegithub.routing import (
    HTML,
    NOT_FOUND,
    ApiRequest,
    GitHubError,
    Reply,
    RouteTable,
    validation_failed,
)
from tests.fakegithub.state import Repo

routes = RouteTable()
RAW_MEDIA_TYPES = ("application/vnd.github.raw", "application/vnd.github.v3.raw")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _unprocessable(message: str) -> GitHubError:
    return GitHubError(422, message)


# Blobs


@routes("POST /repos/{owner}/{repo}/git/blobs")
def create_blob(req: ApiRequest) -> Reply:
    repo = req.repo()
    encoding = req.body.get("encoding", "utf-8")
    content: str = req.body["content"]
    if encoding == "base64":
        try:
            data = base64.b64decode(content, validate=False)
        except binascii.Error:
            raise _unprocessable("Invalid base64 content") from None
    elif encoding in ("utf-8", "utf8"):
        data = content.encode()
    else:
        raise validation_failed(
            f"encoding {encoding!r} is not utf-8 or base64", "Blob", "encoding", violation=True
        )
    sha = req.state.git.put_blob(data)
    return Reply(201, {"sha": sha, "url": f"{req.base_url}/repos/{repo.full_name}/git/blobs/{sha}"})


@routes("GET /repos/{owner}/{repo}/git/blobs/{file_sha}")
def get_blob(req: ApiRequest) -> Reply:
    repo = req.repo()
    sha = req.path["file_sha"]
    data = req.state.git.blobs.get(sha)
    if data is None:
        raise GitHubError(404, NOT_FOUND)
    return Reply(
        200,
        {
            "sha": sha,
            "node_id": render.node_id("Blob", int(sha[:8], 16)),
            "size": len(data),
            "url": f"{req.base_url}/repos/{repo.full_name}/git/blobs/{sha}",
            "content": _base64_lines(data),
            "encoding": "base64",
        },
    )


def _base64_lines(data: bytes) -> str:
    # GitHub wraps base64 content at 60 characters, like `base64` does at 76.
    encoded = base64.b64encode(data).decode()
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


# Trees


@routes("POST /repos/{owner}/{repo}/git/trees")
def create_tree(req: ApiRequest) -> Reply:
    repo = req.repo()
    git = req.state.git
    base_tree = req.body.get("base_tree")
    if base_tree is not None and base_tree not in git.trees:
        raise _unprocessable("base_tree is not a valid tree oid")
    flat = (
        {path: (e.mode, e.sha) for path, e in git.flatten(base_tree).items()} if base_tree else {}
    )
    for item in req.body["tree"]:
        path = item.get("path", "")
        if not path or path.startswith("/") or path.endswith("/"):
            raise validation_failed(
                f"tree.path {path!r} is not a valid path", "Tree", "path", violation=True
            )
        mode = item.get("mode", "100644")
        kind = item.get("type", MODE_TYPES.get(mode, "blob"))
        if MODE_TYPES.get(mode) != kind:
            raise _unprocessable(f"tree.mode {mode} does not match tree.type {kind}")
        if "content" in item and item.get("sha") is not None:
            raise _unprocessable("Must supply either tree.sha or tree.content, not both")
        # Replacing or deleting a path drops everything under it too.
        flat = {p: v for p, v in flat.items() if p != path and not p.startswith(path + "/")}
        if "content" in item:
            flat[path] = (mode, git.put_blob(item["content"].encode()))
        elif item.get("sha") is None:
            continue
        elif kind == "tree":
            if item["sha"] not in git.trees:
                raise _unprocessable(f"tree.sha {item['sha']} is not a valid tree")
            flat.update(
                {f"{path}/{p}": (e.mode, e.sha) for p, e in git.flatten(item["sha"]).items()}
            )
        elif kind == "blob" and item["sha"] not in git.blobs:
            raise _unprocessable(f"tree.sha {item['sha']} is not a valid blob")
        else:
            flat[path] = (mode, item["sha"])
    sha = git.build_tree(flat)
    return Reply(201, _tree_body(req, repo, sha, recursive=False))


@routes("GET /repos/{owner}/{repo}/git/trees/{tree_sha}")
def get_tree(req: ApiRequest) -> Reply:
    repo = req.repo()
    git = req.state.git
    sha = req.path["tree_sha"]
    if sha not in git.trees:
        # GitHub also accepts a commit-ish here and shows its tree.
        commit = resolve_ref(req.state, repo, sha)
        if commit is None:
            raise GitHubError(404, NOT_FOUND)
        sha = git.commits[commit].tree
    # GitHub recurses for any value of `recursive`, "false" and "0" included.
    return Reply(200, _tree_body(req, repo, sha, recursive="recursive" in req.query))


def _tree_body(req: ApiRequest, repo: Repo, sha: str, *, recursive: bool) -> dict[str, Any]:
    git = req.state.git
    entries = list(git.walk(sha)) if recursive else list(git.trees[sha])
    return {
        "sha": sha,
        "url": f"{req.base_url}/repos/{repo.full_name}/git/trees/{sha}",
        "truncated": False,
        "tree": [_tree_entry(req, repo, entry) for entry in entries],
    }


def _tree_entry(req: ApiRequest, repo: Repo, entry: TreeEntry) -> dict[str, Any]:
    kind = entry.type
    item: dict[str, Any] = {"path": entry.name, "mode": entry.mode, "type": kind, "sha": entry.sha}
    if kind == "blob":
        item["size"] = len(req.state.git.blobs[entry.sha])
        item["url"] = f"{req.base_url}/repos/{repo.full_name}/git/blobs/{entry.sha}"
    elif kind == "tree":
        item["url"] = f"{req.base_url}/repos/{repo.full_name}/git/trees/{entry.sha}"
    return item


# Commits


@routes("POST /repos/{owner}/{repo}/git/commits")
def create_git_commit(req: ApiRequest) -> Reply:
    repo = req.repo()
    git = req.state.git
    body = req.body
    if body["tree"] not in git.trees:
        raise _unprocessable("Tree SHA does not exist")
    parents = body.get("parents", [])
    for parent in parents:
        if parent not in git.commits:
            raise _unprocessable("Parent SHA does not exist or is not a commit object")
    identity = req.login
    default = (identity, f"{identity}@users.noreply.github.com")
    author = _signature(body.get("author"), default)
    committer = (
        _signature(body.get("committer"), (author.name, author.email))
        if body.get("committer")
        else author
    )
    sha = git.put_commit(body["tree"], parents, body["message"], author, committer)
    return Reply(201, render.git_commit(req.base_url, repo, git.commits[sha]))


def _signature(given: dict[str, Any] | None, default: tuple[str, str]) -> Signature:
    if not given:
        return gitops.signature(*default)
    moment = _when(given["date"]) if given.get("date") else None
    return gitops.signature(given.get("name", default[0]), given.get("email", default[1]), moment)


@routes("GET /repos/{owner}/{repo}/git/commits/{commit_sha}")
def get_git_commit(req: ApiRequest) -> Reply:
    repo = req.repo()
    commit = req.state.git.commits.get(req.path["commit_sha"])
    if commit is None:
        raise GitHubError(404, NOT_FOUND)
    return Reply(200, render.git_commit(req.base_url, repo, commit))


@routes("GET /repos/{owner}/{repo}/commits")
def list_commits(req: ApiRequest) -> Reply:
    repo = req.repo()
    q = req.query
    start = resolve_ref(req.state, repo, q.get("sha") or repo.default_branch)
    if start is None:
        raise GitHubError(404, NOT_FOUND)
    git = req.state.git
    shas = git.ancestors(start)
    path = q.get("path")
    if path:
        path = path.strip("/")
        shas = [sha for sha in shas if _touches(req, sha, path)]
    author = q.get("author")
    if author:
        wanted = author.lower()
        shas = [
            s
            for s in shas
            if wanted in (git.commits[s].author.name.lower(), git.commits[s].author.email.lower())
        ]
    if q.get("since"):
        since = _when(q["since"]).timestamp()
        shas = [s for s in shas if git.commits[s].committer.timestamp >= since]
    if q.get("until"):
        until = _when(q["until"]).timestamp()
        shas = [s for s in shas if git.commits[s].committer.timestamp <= until]
    page, headers = req.page(shas)
    return Reply(
        200, [render.commit(req.state, req.base_url, repo, git.commits[s]) for s in page], headers
    )


def _touches(req: ApiRequest, sha: str, path: str) -> bool:
    """Whether the commit changed anything at or under path against its first parent."""
    git = req.state.git
    commit = git.commits[sha]
    mine = git.lookup(commit.tree, path)
    if not commit.parents:
        return mine is not None
    theirs = git.lookup(git.commits[commit.parents[0]].tree, path)
    return (mine.sha if mine else None) != (theirs.sha if theirs else None)


@routes("GET /repos/{owner}/{repo}/commits/{ref}")
def get_commit(req: ApiRequest) -> Reply:
    repo = req.repo()
    git = req.state.git
    sha = resolve_ref(req.state, repo, req.path["ref"])
    if sha is None:
        raise validation_failed(f"No commit found for SHA: {req.path['ref']}", "Commit", "sha")
    commit = git.commits[sha]
    old_tree = git.commits[commit.parents[0]].tree if commit.parents else None
    changes = gitops.diff_trees(git, old_tree, commit.tree)
    body = render.commit(req.state, req.base_url, repo, commit)
    body["stats"] = {
        "additions": sum(c.additions for c in changes),
        "deletions": sum(c.deletions for c in changes),
        "total": sum(c.additions + c.deletions for c in changes),
    }
    body["files"] = [render.diff_entry(req.base_url, repo, sha, change) for change in changes]
    return Reply(200, body)


# Refs


@routes("GET /repos/{owner}/{repo}/git/ref/{ref}")
def get_ref(req: ApiRequest) -> Reply:
    repo = req.repo()
    # The API names refs without "refs/": heads/main, tags/v1.
    name = f"refs/{req.path['ref']}"
    sha = repo.refs.get(name)
    if sha is None:
        raise GitHubError(404, NOT_FOUND)
    return Reply(200, render.git_ref(req.base_url, repo, name, sha))


@routes("POST /repos/{owner}/{repo}/git/refs")
def create_ref(req: ApiRequest) -> Reply:
    repo = req.repo()
    name, sha = req.body["ref"], req.body["sha"]
    if not name.startswith("refs/") or name.count("/") < 2:
        raise _unprocessable(
            "Reference name must start with 'refs/' and have at least two slashes."
        )
    if name in repo.refs:
        raise _unprocessable("Reference already exists")
    if sha not in req.state.git.commits:
        raise _unprocessable("Object does not exist")
    repo.refs[name] = sha
    return Reply(201, render.git_ref(req.base_url, repo, name, sha))


@routes("PATCH /repos/{owner}/{repo}/git/refs/{ref}")
def update_ref(req: ApiRequest) -> Reply:
    repo = req.repo()
    name = f"refs/{req.path['ref']}"
    current = repo.refs.get(name)
    sha = req.body["sha"]
    if current is None:
        raise _unprocessable("Reference does not exist")
    if sha not in req.state.git.commits:
        raise _unprocessable("Object does not exist")
    if not req.body.get("force") and current not in req.state.git.ancestors(sha):
        raise _unprocessable("Update is not a fast forward")
    repo.refs[name] = sha
    return Reply(200, render.git_ref(req.base_url, repo, name, sha))


# Contents


@routes("GET /repos/{owner}/{repo}/contents/{path}")
def get_contents(req: ApiRequest) -> Reply:
    repo = req.repo()
    git = req.state.git
    ref = req.query.get("ref") or repo.default_branch
    sha = resolve_ref(req.state, repo, ref)
    if sha is None:
        raise GitHubError(404, f"No commit found for the ref {ref}")
    path = req.path["path"].strip("/")
    entry = git.lookup(git.commits[sha].tree, path)
    if entry is None:
        raise GitHubError(404, NOT_FOUND)
    if entry.type == "tree":
        items = [
            _content_item(req, repo, ref, TreeEntry(f"{path}/{e.name}", e.mode, e.sha))
            for e in git.trees[entry.sha]
        ]
        return Reply(200, items)
    if any(media in req.headers.get("Accept", "") for media in RAW_MEDIA_TYPES):
        return Reply(200, raw=git.blobs[entry.sha], headers={"ETag": f'"{entry.sha}"'})
    body = _content_item(req, repo, ref, entry)
    body["content"] = _base64_lines(git.blobs[entry.sha])
    body["encoding"] = "base64"
    return Reply(200, body)


def _content_item(req: ApiRequest, repo: Repo, ref: str, entry: TreeEntry) -> dict[str, Any]:
    kind = {"blob": "file", "tree": "dir", "commit": "submodule"}[entry.type]
    if entry.mode == "120000":
        kind = "symlink"
    api = f"{req.base_url}/repos/{repo.full_name}/contents/{entry.name}?ref={ref}"
    kind_path = "trees" if entry.mode == TREE_MODE else "blobs"
    git_url = f"{req.base_url}/repos/{repo.full_name}/git/{kind_path}/{entry.sha}"
    html_url = f"{HTML}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{entry.name}"
    return {
        "type": kind,
        "size": len(req.state.git.blobs[entry.sha]) if entry.type == "blob" else 0,
        "name": entry.name.rsplit("/", 1)[-1],
        "path": entry.name,
        "sha": entry.sha,
        "url": api,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": (
            f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{entry.name}"
            if kind == "file"
            else None
        ),
        "_links": {"self": api, "git": git_url, "html": html_url},
    }
