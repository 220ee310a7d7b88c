"""`ferrybot setup github`: the App manifest for GitHub's "create a GitHub App from a manifest"."""

from __future__ import annotations

from typing import Any

from bot.pipeline.dispatch import Registry
from schemas.envelope import Source

# What ferrybot's REST calls need (tests/data/github/operations.txt lists them all).
PERMISSIONS = {
    "checks": "write",  # check runs per name and head SHA, re-requested suites (/retest)
    "statuses": "write",  # commit statuses where check runs cannot be made
    "pull_requests": "write",  # promotion PRs, reviewers, merges, PR labels
    "issues": "write",  # comments, reactions, labels, assignees on PRs
    "contents": "write",  # reading config and manifests, promotion commits (Git Data API)
    "metadata": "read",  # repositories and collaborator permissions
    "members": "read",  # team membership of approvers (organization permission)
    "packages": "read",  # GitHub Packages events that trigger image promotions
    "actions": "write",  # dispatching the training workflow when an alert asks to retrain
}

# GitHub refuses a manifest that subscribes to an event without the permission behind it.
EVENT_PERMISSION = {
    "pull_request": "pull_requests",
    "pull_request_review": "pull_requests",
    "pull_request_review_comment": "pull_requests",
    "issue_comment": "issues",
    "check_run": "checks",
    "check_suite": "checks",
    "package": "packages",
    "registry_package": "packages",
    "push": "contents",
    "deployment": "deployments",
    "deployment_status": "deployments",
}


class ManifestError(Exception):
    """A handler subscribes to a GitHub event the manifest cannot grant."""


def github_events(registry: Registry) -> list[str]:
    """The GitHub events the discovered handlers react to (`pull_request`, not its actions)."""
    return sorted(
        {
            event.split(".", 1)[0]
            for handler in registry.handlers.values()
            if handler.source is Source.GITHUB
            for event in handler.events
        }
    )


def app_manifest(registry: Registry, public_url: str, name: str) -> dict[str, Any]:
    """The manifest JSON: permissions, the handlers' events, and ferrybot's webhook URL."""
    events = github_events(registry)
    missing = [e for e in events if PERMISSIONS.get(EVENT_PERMISSION.get(e, "")) is None]
    if missing:
        raise ManifestError(f"no App permission grants the events {missing}: add them here")
    base = public_url.rstrip("/")
    return {
        "name": name,
        "url": base,
        "hook_attributes": {"url": f"{base}/webhooks/github", "active": True},
        "public": False,
        "default_permissions": dict(PERMISSIONS),
        "default_events": events,
    }
