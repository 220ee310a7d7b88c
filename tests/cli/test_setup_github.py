"""`ferrybot setup github`: the App manifest covers every event handled and every call made."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.cli.github_manifest import EVENT_PERMISSION
from bot.pipeline.dispatch import discover, registry
from schemas.envelope import Source
from tests.support.payloads import DATA

# Which App permission GitHub's REST docs name for each kind of call ferrybot makes.
_PERMISSION_OF_CALL = [
    ("/app", None),  # App JWT calls need no installation permission
    ("/user", None),  # token auth only (who the token is); an App asks GET /app instead
    ("/repos/{owner}/{repo}/installation", None),
    ("/repos/{owner}/{repo}/check-", "checks"),
    ("/repos/{owner}/{repo}/commits/{ref}/check-", "checks"),
    ("/repos/{owner}/{repo}/statuses", "statuses"),
    ("/repos/{owner}/{repo}/commits/{ref}/status", "statuses"),
    ("/repos/{owner}/{repo}/pulls", "pull_requests"),
    ("/repos/{owner}/{repo}/issues", "issues"),
    ("/repos/{owner}/{repo}/labels", "issues"),
    ("/repos/{owner}/{repo}/collaborators", "metadata"),
    ("/orgs/{org}/teams", "members"),
    ("/repos/{owner}/{repo}/contents", "contents"),
    ("/repos/{owner}/{repo}/commits", "contents"),
    ("/repos/{owner}/{repo}/git/", "contents"),
    ("/repos/{owner}/{repo}/compare", "contents"),
    ("/repos/{owner}/{repo}/branches", "contents"),
    ("/repos/{owner}/{repo}/merges", "contents"),
    ("/repos/{owner}/{repo}/deployments", "deployments"),
    ("/repos/{owner}/{repo}/actions", "actions"),
    ("/repos/{owner}/{repo}/dispatches", "contents"),  # repository_dispatch
    ("/repos/{owner}/{repo}", "metadata"),
]
_LEVEL = {"read": 1, "write": 2}


def _manifest() -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("FERRYBOT_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "setup", "github", "--url", "https://bot.example.com/"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    manifest: dict[str, object] = json.loads(result.stdout)
    return manifest


def test_manifest_subscribes_to_every_event_a_handler_reacts_to() -> None:
    """default_events are the GitHub events of the discovered handlers, each permitted."""
    manifest = _manifest()
    discover()
    handled = {
        event.split(".")[0]
        for handler in registry.handlers.values()
        if handler.source is Source.GITHUB
        for event in handler.events
    }
    assert set(manifest["default_events"]) == handled  # type: ignore[arg-type]
    permissions = manifest["default_permissions"]
    assert isinstance(permissions, dict)
    for event in handled:
        assert EVENT_PERMISSION[event] in permissions, event
    assert manifest["hook_attributes"] == {
        "url": "https://bot.example.com/webhooks/github",
        "active": True,
    }


def test_manifest_grants_what_every_rest_call_needs() -> None:
    """Each operation in operations.txt is covered: writes need write, reads at least read."""
    permissions = _manifest()["default_permissions"]
    assert isinstance(permissions, dict)
    lines = (DATA / "github" / "operations.txt").read_text().splitlines()
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        method, path = line.split()
        needed = next((perm for prefix, perm in _PERMISSION_OF_CALL if path.startswith(prefix)), "")
        if needed == "":
            pytest.fail(f"{line}: which App permission does it need? add it to the table")
        if needed is None:
            continue
        level = "read" if method == "GET" else "write"
        # Reading a PR's collaborator permission is metadata read whatever the method.
        if needed == "metadata":
            level = "read"
        assert _LEVEL.get(permissions.get(needed, ""), 0) >= _LEVEL[level], line
