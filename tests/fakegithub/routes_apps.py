"""Routes a GitHub App calls with its JWT: the app itself, installations, access tokens."""

from __future__ import annotations

import re
from typing import Any

from yarl import URL

from tests.fakegithub import render
from tests.fakegithub.routing import NOT_FOUND, ApiRequest, GitHubError, Reply, RouteTable
from tests.fakegithub.state import NotFound, iso
from tests.fakegithub.webhooks import HookDelivery

routes = RouteTable()
_LEVELS = {"read": 1, "write": 2, "admin": 3}


@routes("GET /app", auth="jwt")
def get_app(req: ApiRequest) -> Reply:
    assert req.app is not None
    return Reply(200, render.app(req.state, req.base_url, req.app))


@routes("GET /repos/{owner}/{repo}/installation", auth="jwt")
def get_repo_installation(req: ApiRequest) -> Reply:
    assert req.app is not None
    try:
        repo = req.state.repo(req.path["owner"], req.path["repo"])
        installation = req.state.installation_for(repo, req.app.id)
    except NotFound:
        raise GitHubError(404, NOT_FOUND) from None
    return Reply(200, render.installation(req.state, req.base_url, installation))


@routes("POST /app/installations/{installation_id}/access_tokens", auth="jwt")
def create_access_token(req: ApiRequest) -> Reply:
    assert req.app is not None
    installation = req.state.installations.get(req.path["installation_id"])
    if installation is None or installation.app_id != req.app.id:
        raise GitHubError(404, NOT_FOUND)
    body: dict[str, Any] = req.body or {}
    names = _requested_repositories(req, installation.account, body)
    permissions = body.get("permissions")
    if permissions is not None:
        for name, level in permissions.items():
            granted = installation.permissions.get(name)
            if granted is None or _LEVELS.get(level, 9) > _LEVELS.get(granted, 0):
                raise GitHubError(
                    422, "The permissions requested are not granted to this installation."
                )
    token = req.fake.issue_token(installation.id, repositories=names, permissions=permissions)
    answer: dict[str, Any] = {
        "token": token.value,
        "expires_at": iso(token.expires_at),
        "permissions": token.permissions,
        "repository_selection": "all" if token.repositories is None else "selected",
    }
    if token.repositories is not None:
        answer["repositories"] = [
            render.repo(req.state, req.base_url, req.state.repos[key])
            for key in sorted(token.repositories)
        ]
    return Reply(201, answer)


def _requested_repositories(
    req: ApiRequest, account: str, body: dict[str, Any]
) -> list[str] | None:
    """Repository names the token is narrowed to, refusing ones the installation lacks."""
    if "repositories" not in body and "repository_ids" not in body:
        return None
    by_id = {repo.id: repo.name for repo in req.state.repos.values()}
    names = list(body.get("repositories", ())) + [
        by_id.get(i, f"#{i}") for i in body.get("repository_ids", ())
    ]
    installation = req.state.installations[req.path["installation_id"]]
    for name in names:
        key = f"{account}/{name}".lower()
        visible = installation.repositories is None or key in installation.repositories
        if key not in req.state.repos or not visible:
            raise GitHubError(
                422,
                "There is at least one repository that does not exist or is not accessible "
                "to the parent installation.",
            )
    return names


# The App's webhook deliveries


@routes("GET /app/hook/deliveries", auth="jwt")
def list_hook_deliveries(req: ApiRequest) -> Reply:
    """Newest first, `per_page` at a time, the next page named by an opaque `cursor`."""
    assert req.app is not None
    found = [d for d in req.fake.webhooks.deliveries if d.app_id == req.app.id]
    wanted = req.query.get("status")
    if wanted is not None:
        found = [d for d in found if d.ok == (wanted == "success")]
    found.sort(key=lambda d: d.id, reverse=True)
    cursor = req.query.get("cursor")
    if cursor is not None:
        if not re.fullmatch(r"v1_[0-9]+", cursor):
            raise GitHubError(400, "Bad request: invalid cursor")
        found = [d for d in found if d.id < int(cursor.removeprefix("v1_"))]
    per_page = max(1, min(int(req.query.get("per_page", 30)), 100))
    page = found[:per_page]
    headers = {}
    if len(found) > per_page:
        following = URL(req.url).update_query(per_page=per_page, cursor=f"v1_{page[-1].id}")
        headers["Link"] = f'<{following}>; rel="next"'
    return Reply(200, [_delivery_item(d) for d in page], headers)


@routes("POST /app/hook/deliveries/{delivery_id}/attempts", auth="jwt")
def redeliver_hook_delivery(req: ApiRequest) -> Reply:
    """202 at once; the new attempt (same guid, `redelivery: true`) is made right after."""
    assert req.app is not None
    original = req.fake.webhooks.find(req.app.id, req.path["delivery_id"])
    if original is None:
        raise GitHubError(404, NOT_FOUND)
    req.fake.webhooks.redeliver_later(req.state.next_id(), original)
    return Reply(202, {})


def _delivery_item(item: HookDelivery) -> dict[str, Any]:
    return {
        "id": item.id,
        "guid": item.guid,
        "delivered_at": iso(item.delivered_at),
        "redelivery": item.redelivery,
        "duration": item.duration,
        "status": item.status,
        "status_code": item.status_code,
        "event": item.event,
        "action": item.action,
        "installation_id": item.installation_id,
        "repository_id": item.repository_id,
        "throttled_at": None,
    }
