"""A content-addressed Git object store: blobs, trees and commits hashed exactly like git."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

FILE_MODE = "100644"
TREE_MODE = "040000"
MODE_TYPES = {
    "100644": "blob",
    "100755": "blob",
    "120000": "blob",
    "040000": "tree",
    "160000": "commit",
}


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a tree object; name is a single path segment."""

    name: str
    mode: str
    sha: str

    @property
    def type(self) -> str:
        return MODE_TYPES[self.mode]


@dataclass(frozen=True)
class Signature:
    """Author or committer line of a commit."""

    name: str
    email: str
    date: str  # ISO 8601 with Z, as the REST API shows it
    timestamp: int


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author: Signature
    committer: Signature


@dataclass
class GitStore:
    """All objects of every repository; sharing one store mirrors a fork network."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, tuple[TreeEntry, ...]] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    # Creation order breaks committer-date ties: tests make many commits within one second.
    created: dict[str, int] = field(default_factory=dict)
    _flat: dict[str, dict[str, TreeEntry]] = field(default_factory=dict, repr=False)
    # Results derived only from immutable objects (merges, diffs), keyed by their inputs.
    derived: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    def put_blob(self, data: bytes) -> str:
        sha = _hash(b"blob", data)
        self.blobs[sha] = data
        return sha

    def put_tree(self, entries: list[TreeEntry]) -> str:
        ordered = tuple(sorted(entries, key=_tree_sort_key))
        # Git writes directory modes without the leading zero.
        body = b"".join(
            f"{e.mode.lstrip('0')} {e.name}".encode() + b"\0" + bytes.fromhex(e.sha)
            for e in ordered
        )
        sha = _hash(b"tree", body)
        self.trees[sha] = ordered
        return sha

    def put_commit(
        self, tree: str, parents: list[str], message: str, author: Signature, committer: Signature
    ) -> str:
        lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
        lines.append(f"author {author.name} <{author.email}> {author.timestamp} +0000")
        lines.append(f"committer {committer.name} <{committer.email}> {committer.timestamp} +0000")
        sha = _hash(b"commit", ("\n".join(lines) + "\n\n" + message).encode())
        self.commits[sha] = Commit(sha, tree, tuple(parents), message, author, committer)
        self.created.setdefault(sha, len(self.created))
        return sha

    def flatten(self, tree_sha: str) -> Mapping[str, TreeEntry]:
        """Every non-tree entry under tree_sha keyed by full path (entry.name is the full path).

        Trees never change, so the answer is cached; callers must not mutate it.
        """
        cached = self._flat.get(tree_sha)
        if cached is None:
            cached = self._flat[tree_sha] = {}
            for entry in self.trees[tree_sha]:
                if entry.type == "tree":
                    for path, inner in self.flatten(entry.sha).items():
                        full = f"{entry.name}/{path}"
                        cached[full] = TreeEntry(full, inner.mode, inner.sha)
                else:
                    cached[entry.name] = entry
        return cached

    def walk(self, tree_sha: str, prefix: str = "") -> Iterator[TreeEntry]:
        """Every entry, trees included, depth first, with full paths as names."""
        for entry in self.trees[tree_sha]:
            path = f"{prefix}{entry.name}"
            yield TreeEntry(path, entry.mode, entry.sha)
            if entry.type == "tree":
                yield from self.walk(entry.sha, f"{path}/")

    def build_tree(self, files: Mapping[str, tuple[str, str]]) -> str:
        """Write nested trees for {path: (mode, sha)} and return the root tree sha."""
        children: dict[str, dict[str, tuple[str, str]]] = {}
        entries: list[TreeEntry] = []
        for path, (mode, sha) in files.items():
            head, slash, rest = path.partition("/")
            if slash:
                children.setdefault(head, {})[rest] = (mode, sha)
            else:
                entries.append(TreeEntry(head, mode, sha))
        entries.extend(
            TreeEntry(name, TREE_MODE, self.build_tree(sub)) for name, sub in children.items()
        )
        return self.put_tree(entries)

    def lookup(self, tree_sha: str, path: str) -> TreeEntry | None:
        """The entry at path (full path as name), or None; "" is the root tree itself."""
        if not path:
            return TreeEntry("", TREE_MODE, tree_sha)
        current = tree_sha
        parts = path.split("/")
        for index, part in enumerate(parts):
            entry = next((e for e in self.trees.get(current, ()) if e.name == part), None)
            if entry is None:
                return None
            if index == len(parts) - 1:
                return TreeEntry(path, entry.mode, entry.sha)
            if entry.type != "tree":
                return None
            current = entry.sha
        return None

    def ancestors(self, sha: str) -> list[str]:
        """sha and its ancestors, newest committer date first (git log order)."""
        seen: dict[str, Commit] = {}
        stack = [sha]
        while stack:
            current = stack.pop()
            if current in seen or current not in self.commits:
                continue
            seen[current] = self.commits[current]
            stack.extend(seen[current].parents)
        return sorted(seen, key=lambda s: (-seen[s].committer.timestamp, -self.created[s]))

    def merge_base(self, one: str, other: str) -> str | None:
        mine = set(self.ancestors(one))
        return next((sha for sha in self.ancestors(other) if sha in mine), None)


def _tree_sort_key(entry: TreeEntry) -> bytes:
    # Git orders a directory as if its name ended with "/".
    return (entry.name + "/" if entry.type == "tree" else entry.name).encode()


def _hash(kind: bytes, body: bytes) -> str:
    return hashlib.sha1(kind + b" " + str(len(body)).encode() + b"\0" + body).hexdigest()
