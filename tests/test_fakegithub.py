"""Behaviour of the fake GitHub itself: validation, auth, and GitHub-like state changes."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest

from tests.fakegithub import FakeGitHub
from tests.fakegithub.state import Issue

OWNER, REPO = "acme", "app"
API = f"/repos/{OWNER}/{REPO}"


@dataclass
class Client:
    """A thin aiohttp client that answers (status, parsed JSON or None)."""

    session: aiohttp.ClientSession
    token: str

    async def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = None, **headers: str
    ) -> tuple[int, Any]:
        auth = {"Authorization": f"token {token or self.token}", **headers}
        kwargs: dict[str, Any] = {"headers": auth}
        if body is not None:
            kwargs["json"] = body
        async with self.session.request(method, path, **kwargs) as response:
            text = await response.text()
            return response.status, (await response.json(content_type=None) if text else None)


@dataclass
class World:
    """A fake with one app installed on acme/app, an open PR #1, and a client holding a token."""

    fake: FakeGitHub
    gh: Client
    pr: Issue
    private_key: str


@pytest.fixture
async def world(fake_github: FakeGitHub) -> AsyncIterator[World]:
    fake = fake_github
    app = fake.add_app(1, "ferrybot")
    fake.add_repo(OWNER, REPO, files={"deploy/values.yaml": "image: v1\n", "README.md": "# app\n"})
    fake.add_installation(10, 1, [f"{OWNER}/{REPO}"])
    pr = fake.add_pull(
        OWNER, REPO, head="bump", files={"deploy/values.yaml": "image: v2\n"}, labels=["deploy"]
    )
    token = fake.issue_token(10).value
    assert app.private_key_pem is not None
    async with aiohttp.ClientSession(fake.url) as session:
        yield World(fake, Client(session, token), pr, app.private_key_pem)


def app_jwt(
    private_key: str, *, app_id: int = 1, iat_offset: int = -30, lifetime: int = 540
) -> str:
    issued = int(time.time()) + iat_offset
    return jwt.encode(
        {"iat": issued, "exp": issued + lifetime, "iss": str(app_id)},
        private_key,
        algorithm="RS256",
    )


# Validation against GitHub's description


VALID_REQUESTS = [
    ("GET", f"{API}/pulls/1", None, 200),
    ("GET", f"{API}/pulls?state=all&head={OWNER}:bump&base=main", None, 200),
    ("GET", f"{API}/issues/1/labels", None, 200),
    ("POST", f"{API}/issues/1/labels", {"labels": ["bug", {"name": "triage"}]}, 200),
    ("POST", f"{API}/issues/1/comments", {"body": "hello"}, 201),
    ("POST", f"{API}/issues/1/reactions", {"content": "rocket"}, 201),
    ("GET", f"{API}/collaborators/someone/permission", None, 200),
    ("GET", f"{API}/contents/deploy/values.yaml?ref=bump", None, 200),
    ("GET", f"{API}/git/ref/heads/bump", None, 200),
    ("GET", f"{API}/commits/bump/check-runs?check_name=ferrybot&filter=all", None, 200),
    ("GET", f"/api/v3{API}/pulls/1", None, 200),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    VALID_REQUESTS,
    ids=[f"{m} {p}" for m, p, _, _ in VALID_REQUESTS],
)
async def test_valid_requests_are_served(
    world: World, method: str, path: str, body: Any, status: int
) -> None:
    """Requests that match the description are served and record no violation."""
    got, _ = await world.gh.call(method, path, body)
    assert got == status
    assert world.fake.violations == []


INVALID_BODIES = [
    ("labels as a bare list", "POST", f"{API}/issues/1/labels", ["bug"]),
    ("comment without body", "POST", f"{API}/issues/1/comments", {"text": "hi"}),
    ("unknown reaction", "POST", f"{API}/issues/1/reactions", {"content": "thumbsup"}),
    ("status state enum", "POST", f"{API}/statuses/main", {"state": "ok"}),
    ("check run without head_sha", "POST", f"{API}/check-runs", {"name": "x"}),
    (
        "check run bad timestamp",
        "POST",
        f"{API}/check-runs",
        {"name": "x", "head_sha": "a", "started_at": "now"},
    ),
    ("merge method enum", "PUT", f"{API}/pulls/1/merge", {"merge_method": "fast-forward"}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), [c[1:] for c in INVALID_BODIES], ids=[c[0] for c in INVALID_BODIES]
)
async def test_invalid_body_is_refused_and_recorded(
    world: World, method: str, path: str, body: Any
) -> None:
    """A body the description refuses gets 422 Validation Failed and a recorded violation."""
    with world.fake.expect_violations() as caught:
        status, answer = await world.gh.call(method, path, body)
    assert status == 422
    assert answer["message"] == "Validation Failed"
    assert caught[0].path == path


UNKNOWN_ROUTES = [
    ("no such path", "GET", "/repos/acme/app/frobnicate"),
    ("method not on path", "DELETE", f"{API}/pulls/1"),
    ("integer param not integer", "GET", f"{API}/issues/abc"),
    ("operation outside the trimmed list", "GET", "/user"),
]


@pytest.mark.parametrize(
    ("method", "path"), [c[1:] for c in UNKNOWN_ROUTES], ids=[c[0] for c in UNKNOWN_ROUTES]
)
async def test_unknown_route_is_404_and_recorded(world: World, method: str, path: str) -> None:
    """A route or method the description lacks answers 404 and records a violation."""
    with world.fake.expect_violations():
        status, answer = await world.gh.call(method, path)
    assert status == 404
    assert answer["message"] == "Not Found"


BAD_QUERIES = [
    ("enum", f"{API}/pulls?state=merged", 422),
    ("integer", f"{API}/pulls?per_page=lots", 422),
    ("undeclared parameter is served but recorded", f"{API}/pulls?label=deploy", 200),
    ("head without owner is served but recorded", f"{API}/pulls?head=bump", 200),
]


@pytest.mark.parametrize(
    ("path", "status"), [c[1:] for c in BAD_QUERIES], ids=[c[0] for c in BAD_QUERIES]
)
async def test_bad_query_parameters_are_recorded(world: World, path: str, status: int) -> None:
    """Query parameters must be declared and match their schema."""
    with world.fake.expect_violations():
        got, _ = await world.gh.call("GET", path)
    assert got == status


MULTI_SEGMENT = [
    ("contents path", f"{API}/contents/deploy/values.yaml", 200),
    ("git ref with slash", f"{API}/git/ref/heads/bump", 200),
    ("commit ref with slash", f"{API}/commits/heads/bump/status", 200),
    ("missing nested ref", f"{API}/git/ref/heads/feature/x", 404),
]


@pytest.mark.parametrize(
    ("path", "status"), [c[1:] for c in MULTI_SEGMENT], ids=[c[0] for c in MULTI_SEGMENT]
)
async def test_multi_segment_path_parameters(world: World, path: str, status: int) -> None:
    """x-multi-segment parameters (contents path, git ref, status ref) may contain slashes."""
    got, _ = await world.gh.call("GET", path)
    assert got == status
    assert world.fake.violations == []


async def test_status_sha_may_be_a_branch_with_slashes(world: World) -> None:
    """POST statuses/{sha} matches the route even when the commit-ish contains slashes."""
    world.fake.commit_files(OWNER, REPO, "release/1.0", {"a.txt": "a"})
    status, body = await world.gh.call("POST", f"{API}/statuses/release/1.0", {"state": "pending"})
    assert status == 201
    assert body["context"] == "default"


# Authentication


@pytest.mark.parametrize(
    "header",
    [None, "token ghs_unknown", "Basic abc", "token "],
    ids=["missing", "unknown token", "wrong scheme", "empty token"],
)
async def test_requests_without_a_known_token_get_401(world: World, header: str | None) -> None:
    """Every route but the app ones needs a known token."""
    headers = {"Authorization": header} if header else {}
    async with world.gh.session.get(f"{API}/pulls/1", headers=headers) as response:
        assert response.status == 401
        assert (await response.json())["message"] in ("Bad credentials", "Requires authentication")


async def test_expired_installation_token_gets_401(world: World) -> None:
    """Tokens stop working once they expire."""
    short = world.fake.issue_token(10, ttl=0).value
    status, body = await world.gh.call("GET", f"{API}/pulls/1", token=short)
    assert (status, body["message"]) == (401, "Bad credentials")
    world.fake.expire_tokens()
    status, _ = await world.gh.call("GET", f"{API}/pulls/1")
    assert status == 401


async def test_jwt_flow_issues_working_installation_token(world: World) -> None:
    """An RS256 app JWT buys an installation token that then authenticates as the app's bot."""
    bearer = {"Authorization": f"Bearer {app_jwt(world.private_key)}"}
    async with world.gh.session.post(
        "/app/installations/10/access_tokens", headers=bearer
    ) as response:
        assert response.status == 201
        issued = await response.json()
    assert issued["token"].startswith("ghs_")
    assert issued["expires_at"].endswith("Z")
    status, comment = await world.gh.call(
        "POST", f"{API}/issues/1/comments", {"body": "hi"}, token=issued["token"]
    )
    assert status == 201
    assert comment["user"]["login"] == "ferrybot[bot]"


async def test_token_ttl_is_configurable(world: World) -> None:
    """fake.token_ttl sets the lifetime of tokens the JWT flow issues."""
    world.fake.token_ttl = 0
    bearer = {"Authorization": f"Bearer {app_jwt(world.private_key)}"}
    async with world.gh.session.post(
        "/app/installations/10/access_tokens", headers=bearer
    ) as response:
        token = (await response.json())["token"]
    status, _ = await world.gh.call("GET", f"{API}/pulls/1", token=token)
    assert status == 401


BAD_JWTS = [
    ("lifetime over ten minutes", {"lifetime": 900}, "too far in the future"),
    ("expired", {"iat_offset": -700}, "future time"),
    ("unknown app", {"app_id": 99}, "could not be decoded"),
    ("issued in the future", {"iat_offset": 300}, "in the past"),
]


@pytest.mark.parametrize(
    ("claims", "message"), [c[1:] for c in BAD_JWTS], ids=[c[0] for c in BAD_JWTS]
)
async def test_bad_app_jwts_get_401(world: World, claims: dict[str, int], message: str) -> None:
    """GitHub's JWT rules: RS256 by the app key, iss = app id, at most 600 s, not expired."""
    bearer = {"Authorization": f"Bearer {app_jwt(world.private_key, **claims)}"}
    async with world.gh.session.post(
        "/app/installations/10/access_tokens", headers=bearer
    ) as response:
        assert response.status == 401
        assert message in (await response.json())["message"]


async def test_jwt_signed_by_another_key_gets_401(world: World) -> None:
    """A JWT not signed by the registered app key is refused."""
    from tests.fakegithub import generate_app_key

    bearer = {"Authorization": f"Bearer {app_jwt(generate_app_key().private_pem)}"}
    async with world.gh.session.post(
        "/app/installations/10/access_tokens", headers=bearer
    ) as response:
        assert response.status == 401


async def test_installation_token_cannot_do_app_routes(world: World) -> None:
    """App routes need the JWT, not an installation token."""
    status, _ = await world.gh.call("GET", "/app")
    assert status == 401


async def test_installation_token_sees_only_its_repositories(world: World) -> None:
    """Repositories outside the installation are hidden (404)."""
    world.fake.add_repo(OWNER, "secret")
    world.fake.add_repo("other", "app")
    for path in ("/repos/acme/secret", "/repos/other/app"):
        status, _ = await world.gh.call("GET", path)
        assert status == 404


async def test_pat_gets_403_on_check_runs_but_may_post_statuses(world: World) -> None:
    """Check runs need an App installation token; statuses accept a PAT."""
    world.fake.add_token("ghp_personal", kind="pat", login="octocat")
    sha = world.pr.pull.head_sha  # type: ignore[union-attr]
    status, body = await world.gh.call(
        "POST", f"{API}/check-runs", {"name": "ci", "head_sha": sha}, token="ghp_personal"
    )
    assert (status, body["message"]) == (403, "Resource not accessible by personal access token")
    status, body = await world.gh.call(
        "POST", f"{API}/statuses/{sha}", {"state": "success"}, token="ghp_personal"
    )
    assert status == 201
    assert body["creator"]["login"] == "octocat"


async def test_missing_app_permission_gets_403(fake_github: FakeGitHub) -> None:
    """An installation without `checks: write` cannot create check runs."""
    fake_github.add_app(2, "reader", permissions={"checks": "read", "metadata": "read"})
    repo = fake_github.add_repo(OWNER, REPO)
    fake_github.add_installation(20, 2, [repo.full_name])
    token = fake_github.issue_token(20).value
    sha = repo.branch_sha("main")
    async with aiohttp.ClientSession(fake_github.url) as session:
        status, body = await Client(session, token).call(
            "POST", f"{API}/check-runs", {"name": "x", "head_sha": sha}
        )
    assert (status, body["message"]) == (403, "Resource not accessible by integration")


# Checks and statuses


async def test_check_run_lifecycle(world: World) -> None:
    """Create, update to completed, list by name; the run belongs to the app's check suite."""
    sha = world.pr.pull.head_sha  # type: ignore[union-attr]
    status, run = await world.gh.call(
        "POST",
        f"{API}/check-runs",
        {"name": "ferrybot/lint", "head_sha": sha, "status": "in_progress"},
    )
    assert status == 201
    assert run["status"] == "in_progress"
    assert run["started_at"] is not None
    status, run = await world.gh.call(
        "PATCH",
        f"{API}/check-runs/{run['id']}",
        {"conclusion": "failure", "output": {"title": "t", "summary": "s"}},
    )
    assert (run["status"], run["conclusion"], run["output"]["title"]) == (
        "completed",
        "failure",
        "t",
    )
    await world.gh.call("POST", f"{API}/check-runs", {"name": "other", "head_sha": sha})
    _, listed = await world.gh.call(
        "GET", f"{API}/commits/bump/check-runs?check_name=ferrybot/lint"
    )
    assert [r["id"] for r in listed["check_runs"]] == [run["id"]]
    _, suites = await world.gh.call("GET", f"{API}/commits/{sha}/check-suites")
    assert suites["total_count"] == 1
    assert suites["check_suites"][0]["id"] == run["check_suite"]["id"]
    assert (
        suites["check_suites"][0]["status"] == "queued"
        or suites["check_suites"][0]["conclusion"] is None
    )
    assert [r.name for r in world.fake.check_runs(OWNER, REPO, "bump")] == [
        "ferrybot/lint",
        "other",
    ]


async def test_check_run_on_branch_name_is_refused(world: World) -> None:
    """head_sha must be a commit sha, as GitHub insists."""
    with world.fake.expect_violations():
        status, _ = await world.gh.call(
            "POST", f"{API}/check-runs", {"name": "x", "head_sha": "bump"}
        )
    assert status == 422


async def test_combined_status_takes_latest_per_context(world: World) -> None:
    """Later statuses for a context replace earlier ones in the combined status."""
    sha = world.pr.pull.head_sha  # type: ignore[union-attr]
    for state, context in (("failure", "ci"), ("success", "ci"), ("pending", "deploy")):
        await world.gh.call("POST", f"{API}/statuses/{sha}", {"state": state, "context": context})
    _, combined = await world.gh.call("GET", f"{API}/commits/{sha}/status")
    assert combined["state"] == "pending"
    assert {s["context"]: s["state"] for s in combined["statuses"]} == {
        "ci": "success",
        "deploy": "pending",
    }
    _, listed = await world.gh.call("GET", f"{API}/commits/{sha}/statuses")
    assert [s["state"] for s in listed] == ["pending", "success", "failure"]


# Issues: comments, reactions, labels, assignees


async def test_comment_round_trip(world: World) -> None:
    """Comments get ids, keep bodies, and update updated_at on edit."""
    _, made = await world.gh.call("POST", f"{API}/issues/1/comments", {"body": "first"})
    _, edited = await world.gh.call(
        "PATCH", f"{API}/issues/comments/{made['id']}", {"body": "second"}
    )
    _, fetched = await world.gh.call("GET", f"{API}/issues/comments/{made['id']}")
    assert fetched["body"] == edited["body"] == "second"
    _, listed = await world.gh.call("GET", f"{API}/issues/1/comments")
    assert [c["id"] for c in listed] == [made["id"]]
    assert [c.body for c in world.fake.comments(OWNER, REPO, 1)] == ["second"]


async def test_repeated_reaction_returns_existing_with_200(world: World) -> None:
    """The same user reacting twice with the same content gets the first reaction back."""
    comment = world.fake.add_comment(OWNER, REPO, 1, "/deploy")
    path = f"{API}/issues/comments/{comment.id}/reactions"
    first_status, first = await world.gh.call("POST", path, {"content": "+1"})
    second_status, second = await world.gh.call("POST", path, {"content": "+1"})
    assert (first_status, second_status) == (201, 200)
    assert first["id"] == second["id"]
    assert [r.content for r in world.fake.reactions(OWNER, REPO, comment_id=comment.id)] == ["+1"]


async def test_reaction_on_review_comment(world: World) -> None:
    """Pull request review comments take reactions too."""
    comment = world.fake.add_review_comment(OWNER, REPO, 1, "nit", path="deploy/values.yaml")
    status, _ = await world.gh.call(
        "POST", f"{API}/pulls/comments/{comment.id}/reactions", {"content": "eyes"}
    )
    assert status == 201
    assert world.fake.reactions(OWNER, REPO, review_comment_id=comment.id)[0].content == "eyes"


async def test_labels_add_creates_missing_and_remove_absent_is_404(world: World) -> None:
    """Adding creates unknown repo labels; removing a label not on the issue answers 404."""
    status, labels = await world.gh.call(
        "POST", f"{API}/issues/1/labels", {"labels": ["needs review"]}
    )
    assert status == 200
    assert [label["name"] for label in labels] == ["deploy", "needs review"]
    _, repo_labels = await world.gh.call("GET", f"{API}/labels")
    assert "needs review" in {label["name"] for label in repo_labels}
    status, _ = await world.gh.call("DELETE", f"{API}/issues/1/labels/needs%20review")
    assert status == 200
    status, body = await world.gh.call("DELETE", f"{API}/issues/1/labels/needs%20review")
    assert (status, body["message"]) == (404, "Label does not exist")
    assert world.fake.labels(OWNER, REPO, 1) == ["deploy"]


async def test_creating_an_existing_repo_label_is_422(world: World) -> None:
    """Repository label names are unique, case-insensitively."""
    status, body = await world.gh.call(
        "POST", f"{API}/labels", {"name": "Deploy", "color": "ff0000"}
    )
    assert status == 422
    assert body["errors"][0]["code"] == "already_exists"


async def test_assignees_add_and_remove(world: World) -> None:
    """People with access can be assigned and unassigned."""
    world.fake.set_permission(OWNER, REPO, "alice", "write")
    status, issue = await world.gh.call(
        "POST", f"{API}/issues/1/assignees", {"assignees": ["alice"]}
    )
    assert status == 201
    assert [a["login"] for a in issue["assignees"]] == ["alice"]
    status, issue = await world.gh.call(
        "DELETE", f"{API}/issues/1/assignees", {"assignees": ["alice"]}
    )
    assert (status, issue["assignees"]) == (200, [])


# People


@pytest.mark.parametrize(
    ("permission", "legacy"),
    [
        ("admin", "admin"),
        ("maintain", "write"),
        ("write", "write"),
        ("triage", "read"),
        ("read", "read"),
    ],
    ids=["admin", "maintain", "write", "triage", "read"],
)
async def test_collaborator_permission(world: World, permission: str, legacy: str) -> None:
    """permission is the legacy level; role_name is the real role."""
    world.fake.set_permission(OWNER, REPO, "alice", permission)
    _, body = await world.gh.call("GET", f"{API}/collaborators/alice/permission")
    assert (body["permission"], body["role_name"]) == (legacy, permission)


async def test_team_membership(world: World) -> None:
    """Members get 200 active; others 404."""
    world.fake.add_team_member(OWNER, "deployers", "alice")
    status, body = await world.gh.call("GET", "/orgs/acme/teams/deployers/memberships/alice")
    assert (status, body["state"]) == (200, "active")
    status, _ = await world.gh.call("GET", "/orgs/acme/teams/deployers/memberships/bob")
    assert status == 404


# Pull requests


async def test_pull_files_are_computed_from_trees(world: World) -> None:
    """The files list is the diff of head against its merge base."""
    _, files = await world.gh.call("GET", f"{API}/pulls/1/files")
    assert [(f["filename"], f["status"], f["additions"], f["deletions"]) for f in files] == [
        ("deploy/values.yaml", "modified", 1, 1)
    ]
    assert "+image: v2" in files[0]["patch"]


async def test_fail_next_injects_then_serves(world: World) -> None:
    """fail_next answers matching requests with the given status and headers, then stops."""
    world.fake.fail_next("GET", r"/pulls/1$", 503, times=2)
    world.fake.fail_next(
        "POST", r"/comments$", 403, headers={"retry-after": "1", "x-ratelimit-remaining": "0"}
    )
    assert (await world.gh.call("GET", f"{API}/pulls/1"))[0] == 503
    assert (await world.gh.call("GET", f"{API}/pulls/1"))[0] == 503
    assert (await world.gh.call("GET", f"{API}/pulls/1"))[0] == 200
    async with world.gh.session.post(
        f"{API}/issues/1/comments",
        json={"body": "x"},
        headers={"Authorization": f"token {world.gh.token}"},
    ) as response:
        assert response.status == 403
        assert response.headers["retry-after"] == "1"
        assert response.headers["x-ratelimit-remaining"] == "0"
    assert [status for _, _, status in world.fake.requests] == [503, 503, 200, 403]


async def test_requests_log(world: World) -> None:
    """fake.requests records (method, path, status) tuples in order."""
    await world.gh.call("GET", f"{API}/pulls?per_page=5")
    assert world.fake.requests == [("GET", f"{API}/pulls", 200)]
    assert world.fake.calls[0].query == {"per_page": "5"}


async def test_conditional_get_answers_304(world: World) -> None:
    """A GET with the previous ETag in If-None-Match answers 304 Not Modified."""
    headers = {"Authorization": f"token {world.gh.token}"}
    async with world.gh.session.get(f"{API}/contents/README.md", headers=headers) as response:
        etag = response.headers["ETag"]
    async with world.gh.session.get(
        f"{API}/contents/README.md", headers={**headers, "If-None-Match": etag}
    ) as response:
        assert response.status == 304
    world.fake.commit_files(OWNER, REPO, "main", {"README.md": "# changed\n"})
    async with world.gh.session.get(
        f"{API}/contents/README.md", headers={**headers, "If-None-Match": etag}
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert base64.b64decode(body["content"]) == b"# changed\n"
