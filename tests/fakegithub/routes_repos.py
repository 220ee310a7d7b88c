"""Routes about a repository and the people around it: metadata, permissions, teams."""

from __future__ import annotations

from tests.fakegithub import render
from tests.fakegithub.conform import PLACEHOLDER_TIME
from tests.fakegithub.routing import NOT_FOUND, ApiRequest, GitHubError, Reply, RouteTable

routes = RouteTable()
# role_name GitHub reports next to the legacy `permission` (which folds maintain/triage).
_LEGACY = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


@routes("GET /repos/{owner}/{repo}")
def get_repo(req: ApiRequest) -> Reply:
    repo = req.repo()
    body = render.repo(req.state, req.base_url, repo)
    body["permissions"] = {
        "admin": False,
        "maintain": False,
        "push": True,
        "triage": True,
        "pull": True,
    }
    if repo.fork_of is not None:
        parent = req.state.repos[repo.fork_of.lower()]
        body["parent"] = body["source"] = render.repo(req.state, req.base_url, parent)
    return Reply(200, body)


@routes("GET /repos/{owner}/{repo}/collaborators/{username}/permission")
def get_collaborator_permission(req: ApiRequest) -> Reply:
    repo = req.repo()
    login = req.path["username"]
    level = req.state.permission(repo, login)
    user = render.user(req.state, req.base_url, login)
    user["permissions"] = _flags(level)
    user["role_name"] = level
    return Reply(200, {"permission": _LEGACY[level], "role_name": level, "user": user})


def _flags(level: str) -> dict[str, bool]:
    order = ("read", "triage", "write", "maintain", "admin")
    rank = order.index(level) if level in order else -1
    return {
        "pull": rank >= 0,
        "triage": rank >= 1,
        "push": rank >= 2,
        "maintain": rank >= 3,
        "admin": rank >= 4,
    }


@routes("GET /orgs/{org}/teams/{team_slug}/memberships/{username}")
def get_team_membership(req: ApiRequest) -> Reply:
    org, team, login = req.path["org"], req.path["team_slug"], req.path["username"]
    role = req.state.teams.get((org.lower(), team.lower()), {}).get(login.lower())
    if role is None:
        raise GitHubError(404, NOT_FOUND)
    return Reply(
        200,
        {
            "url": f"{req.base_url}/orgs/{org}/teams/{team}/memberships/{login}",
            "role": role,
            "state": "active",
        },
    )


@routes("GET /user")
def get_authenticated_user(req: ApiRequest) -> Reply:
    """The token's own account; an installation token is no user, so GitHub refuses it."""
    assert req.token is not None
    if req.token.kind == "installation":
        raise GitHubError(403, "Resource not accessible by integration")
    body = render.user(req.state, req.base_url, req.token.login)
    # `public-user` is one of a oneOf, which the response filler leaves alone: spell it out.
    body.update(
        user_view_type="public",
        name=None,
        company=None,
        blog=None,
        location=None,
        email=None,
        hireable=None,
        bio=None,
        public_repos=0,
        public_gists=0,
        followers=0,
        following=0,
        created_at=PLACEHOLDER_TIME,
        updated_at=PLACEHOLDER_TIME,
    )
    return Reply(200, body)
