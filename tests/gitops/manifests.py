"""The manifest fixtures, an independent YAML reader, and the diff the edit tests assert on."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bot.gitops.yamlpath import Index, Key, Match, parse_path

MANIFESTS = Path(__file__).resolve().parents[1] / "data" / "manifests"


def read_manifest(name: str) -> str:
    """A fixture's exact text (read_text would translate line endings and hide a CRLF change)."""
    return (MANIFESTS / name).read_bytes().decode("utf-8")


def diff_lines(before: str, after: str) -> list[str]:
    """The removed (-) and added (+) lines, line endings included."""
    diff = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), n=0
    )
    return [line for line in diff if not line.startswith(("---", "+++", "@@"))]


def read_back(text: str, path: str, *, document: int = 0, yaml_1_1: bool = False) -> Any:
    """The value at `path` as a plain YAML reader (ruamel's safe loader) sees it."""
    if yaml_1_1:
        text = "%YAML 1.1\n---\n" + text
    documents = [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc is not None]
    node = documents[document]
    for segment in parse_path(path).segments:
        match segment:
            case Key(name):
                node = node[name]
            case Index(position):
                node = node[position]
            case Match(key, value):
                (node,) = [item for item in node if item.get(key) == value]
    return node
