"""Behaviour of the fake GitHub itself: validation, auth, and GitHub-like state changes."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest

from tests.fakegithub import FakeGitHub, Violation
from tests.fakegithub.state import Issue
from tests.support.violations import fail_on_violations

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


def _check_run(message: str = "m", summary: str = "s") -> dict[str, Any]:
    annotation = {
        "path": "README.md",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "failure",
        "message": message,
    }
    output = {"title": "t", "summary": summary, "annotations": [annotation]}
    return {"name": "x", "head_sha": "HEAD_SHA", "output": output}


# (case, method, path, the field's name, body at GitHub's limit, body one unit over it)
LENGTH_LIMITS = [
    (
        "comment body",
        "POST",
        f"{API}/issues/1/comments",
        "body",
        {"body": "x" * 65_536},
        {"body": "x" * 65_537},
    ),
    (
        "pull body",
        "PATCH",
        f"{API}/pulls/1",
        "body",
        {"body": "x" * 65_536},
        {"body": "x" * 65_537},
    ),
    ("pull title", "PATCH", f"{API}/pulls/1", "title", {"title": "x" * 256}, {"title": "x" * 257}),
    (
        "status description",
        "POST",
        f"{API}/statuses/HEAD_SHA",
        "description",
        {"state": "success", "description": "x" * 140},
        {"state": "success", "description": "x" * 141},
    ),
    (
        "check summary in bytes",
        "POST",
        f"{API}/check-runs",
        "summary",
        _check_run(summary="é" * 32_767 + "x"),
        _check_run(summary="é" * 32_768),
    ),
    (
        "annotation message in bytes",
        "POST",
        f"{API}/check-runs",
        "message",
        _check_run("é" * (32 * 1024)),
        _check_run("é" * (32 * 1024) + "x"),
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "field", "at_limit", "over"),
    [c[1:] for c in LENGTH_LIMITS],
    ids=[c[0] for c in LENGTH_LIMITS],
)
async def test_text_over_githubs_documented_limit_is_422(
    world: World, method: str, path: str, field: str, at_limit: Any, over: Any
) -> None:
    """Text at GitHub's documented limit is served; one more character is 422, recorded."""
    assert world.pr.pull is not None
    head = world.pr.pull.head_sha
    path = path.replace("HEAD_SHA", head)
    at_limit, over = (json.loads(json.dumps(b).replace("HEAD_SHA", head)) for b in (at_limit, over))
    with world.fake.expect_violations() as caught:
        status, answer = await world.gh.call(method, path, over)
    assert status == 422
    assert answer["errors"][0]["message"].startswith(f"{field} ")
    assert caught[0].path == path
    status, _ = await world.gh.call(method, path, at_limit)
    assert status in (200, 201)
    assert world.fake.violations == []


def test_every_length_limit_names_a_served_operation() -> None:
    """A typo in the limits table would silently enforce nothing."""
    from tests.fakegithub.limits import LIMITS

    assert set(LIMITS) <= set(FakeGitHub().description.operations)


UNKNOWN_ROUTES = [
    ("no such path", "GET", "/repos/acme/app/frobnicate"),
    ("method not on path", "DELETE", f"{API}/pulls/1"),
    ("integer param not integer", "GET", f"{API}/issues/abc"),
    ("operation outside the trimmed list", "GET", "/emojis"),
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


async def test_pull_list_filters(world: World) -> None:
    """List filters state, head=owner:branch and base."""
    world.fake.add_pull(OWNER, REPO, head="other")
    closed = world.fake.add_pull(OWNER, REPO, head="old")
    closed.state = "closed"
    _, open_pulls = await world.gh.call("GET", f"{API}/pulls")
    assert sorted(p["number"] for p in open_pulls) == [1, 2]
    _, by_head = await world.gh.call("GET", f"{API}/pulls?head={OWNER}:bump")
    assert [p["number"] for p in by_head] == [1]
    _, everything = await world.gh.call("GET", f"{API}/pulls?state=all&base=main")
    assert len(everything) == 3
    _, none = await world.gh.call("GET", f"{API}/pulls?base=release")
    assert none == []


async def test_fork_pull_has_head_in_the_fork(world: World) -> None:
    """A contributor's PR from a fork names the fork as head repo and owner."""
    pr = world.fake.add_pull(OWNER, REPO, head="fix", fork=True, user="bob")
    _, body = await world.gh.call("GET", f"{API}/pulls/{pr.number}")
    assert body["head"]["label"] == "bob:fix"
    assert body["head"]["repo"]["full_name"] == "bob/app"
    assert body["head"]["repo"]["fork"] is True
    assert body["base"]["repo"]["full_name"] == f"{OWNER}/{REPO}"
    _, by_head = await world.gh.call("GET", f"{API}/pulls?head=bob:fix")
    assert [p["number"] for p in by_head] == [pr.number]


async def test_pagination_links(world: World) -> None:
    """List endpoints page with per_page/page and a Link header, as gidgethub's getiter expects."""
    for n in range(5):
        world.fake.add_comment(OWNER, REPO, 1, f"c{n}")
    headers = {"Authorization": f"token {world.gh.token}"}
    async with world.gh.session.get(
        f"{API}/issues/1/comments?per_page=2", headers=headers
    ) as response:
        page = await response.json()
        link = response.headers["Link"]
    assert [c["body"] for c in page] == ["c0", "c1"]
    assert 'rel="next"' in link and "page=2" in link and 'rel="last"' in link
    _, last = await world.gh.call("GET", f"{API}/issues/1/comments?per_page=2&page=3")
    assert [c["body"] for c in last] == ["c4"]


# Pull requests: create and merge


async def test_create_pull_refuses_a_duplicate(world: World) -> None:
    """A second open PR for the same head and base gets 422 naming the existing head."""
    world.fake.commit_files(OWNER, REPO, "promote", {"deploy/values.yaml": "image: v3\n"})
    request = {"title": "Promote", "head": "promote", "base": "main", "body": "auto"}
    status, made = await world.gh.call("POST", f"{API}/pulls", request)
    assert status == 201
    assert (made["head"]["ref"], made["user"]["login"], made["changed_files"]) == (
        "promote",
        "ferrybot[bot]",
        1,
    )
    status, body = await world.gh.call("POST", f"{API}/pulls", request)
    assert status == 422
    assert body["errors"][0]["message"] == "A pull request already exists for acme:promote."
    assert len(world.fake.pulls(OWNER, REPO, state="open")) == 2


@pytest.mark.parametrize(
    ("head", "base", "field"),
    [("nope", "main", "head"), ("bump", "nope", "base")],
    ids=["missing head", "missing base"],
)
async def test_create_pull_needs_existing_branches(
    world: World, head: str, base: str, field: str
) -> None:
    """Unknown head or base branches are 422 invalid on that field."""
    status, body = await world.gh.call(
        "POST", f"{API}/pulls", {"title": "t", "head": head, "base": base}
    )
    assert status == 422
    assert body["errors"][0]["field"] == field


async def test_create_pull_without_commits_is_refused(world: World) -> None:
    """A head with nothing new over base cannot become a PR."""
    world.fake.commit_files(OWNER, REPO, "same", {}, from_branch="main")
    world.fake.state.repo(OWNER, REPO).refs["refs/heads/same"] = (
        world.fake.resolve(OWNER, REPO, "main") or ""
    )
    status, body = await world.gh.call(
        "POST", f"{API}/pulls", {"title": "t", "head": "same", "base": "main"}
    )
    assert status == 422
    assert body["errors"][0]["message"] == "No commits between main and same"


@pytest.mark.parametrize("method", ["merge", "squash", "rebase"])
async def test_merge_moves_base_and_closes(world: World, method: str) -> None:
    """Merging writes the head's change onto base, moves the base ref and marks the PR merged."""
    before = world.fake.resolve(OWNER, REPO, "main")
    status, merged = await world.gh.call("PUT", f"{API}/pulls/1/merge", {"merge_method": method})
    assert (status, merged["merged"]) == (200, True)
    assert world.fake.resolve(OWNER, REPO, "main") == merged["sha"]
    assert world.fake.file_at(OWNER, REPO, "main", "deploy/values.yaml") == "image: v2\n"
    parents = world.fake.state.git.commits[merged["sha"]].parents
    assert parents[0] == before
    assert len(parents) == (2 if method == "merge" else 1)
    _, pull = await world.gh.call("GET", f"{API}/pulls/1")
    assert (pull["state"], pull["merged"], pull["merge_commit_sha"]) == (
        "closed",
        True,
        merged["sha"],
    )
    assert pull["merged_at"] is not None
    _, files = await world.gh.call("GET", f"{API}/pulls/1/files")
    assert [f["filename"] for f in files] == ["deploy/values.yaml"]
    status, again = await world.gh.call("PUT", f"{API}/pulls/1/merge", {})
    assert (status, again["message"]) == (405, "Pull Request is not mergeable")


async def test_merge_refuses_stale_sha_and_conflicts(world: World) -> None:
    """A merge naming an old head sha is 409; conflicting changes are 405."""
    status, _ = await world.gh.call("PUT", f"{API}/pulls/1/merge", {"sha": "0" * 40})
    assert status == 409
    world.fake.commit_files(OWNER, REPO, "main", {"deploy/values.yaml": "image: hotfix\n"})
    _, pull = await world.gh.call("GET", f"{API}/pulls/1")
    assert (pull["mergeable"], pull["mergeable_state"]) == (False, "dirty")
    status, body = await world.gh.call("PUT", f"{API}/pulls/1/merge", {})
    assert (status, body["message"]) == (405, "Merge conflict")


async def test_update_pull_and_review_requests(world: World) -> None:
    """PATCH changes title/state; reviewers can be requested (not the author) and removed."""
    status, pull = await world.gh.call(
        "PATCH", f"{API}/pulls/1", {"title": "Renamed", "state": "closed"}
    )
    assert (status, pull["title"], pull["state"]) == (200, "Renamed", "closed")
    status, pull = await world.gh.call(
        "POST", f"{API}/pulls/1/requested_reviewers", {"reviewers": ["alice"]}
    )
    assert (status, [u["login"] for u in pull["requested_reviewers"]]) == (201, ["alice"])
    status, _ = await world.gh.call(
        "POST", f"{API}/pulls/1/requested_reviewers", {"reviewers": ["octocat"]}
    )
    assert status == 422
    status, pull = await world.gh.call(
        "DELETE", f"{API}/pulls/1/requested_reviewers", {"reviewers": ["alice"]}
    )
    assert (status, pull["requested_reviewers"]) == (200, [])


# Git data, commits and contents


async def test_git_data_round_trip(world: World) -> None:
    """blob → tree (on base_tree) → commit → ref update → contents shows the new file."""
    gh = world.gh
    _, main = await gh.call("GET", f"{API}/git/ref/heads/main")
    _, head = await gh.call("GET", f"{API}/git/commits/{main['object']['sha']}")
    status, blob = await gh.call(
        "POST",
        f"{API}/git/blobs",
        {"content": base64.b64encode(b"tag: v9\n").decode(), "encoding": "base64"},
    )
    assert status == 201
    tree_items = [
        {"path": "deploy/prod/values.yaml", "mode": "100644", "type": "blob", "sha": blob["sha"]},
        {"path": "README.md", "mode": "100644", "type": "blob", "sha": None},
    ]
    status, tree = await gh.call(
        "POST", f"{API}/git/trees", {"base_tree": head["tree"]["sha"], "tree": tree_items}
    )
    assert status == 201
    commit_body = {"message": "Promote v9", "tree": tree["sha"], "parents": [head["sha"]]}
    status, commit = await gh.call("POST", f"{API}/git/commits", commit_body)
    assert (status, commit["parents"][0]["sha"]) == (201, head["sha"])
    status, ref = await gh.call(
        "POST", f"{API}/git/refs", {"ref": "refs/heads/promote/v9", "sha": commit["sha"]}
    )
    assert (status, ref["object"]["sha"]) == (201, commit["sha"])
    status, content = await gh.call("GET", f"{API}/contents/deploy/prod/values.yaml?ref=promote/v9")
    assert status == 200
    assert base64.b64decode(content["content"]) == b"tag: v9\n"
    assert content["sha"] == blob["sha"]
    status, _ = await gh.call("GET", f"{API}/contents/README.md?ref=promote/v9")
    assert status == 404
    assert world.fake.files_at(OWNER, REPO, "promote/v9") == {
        "deploy/values.yaml": "image: v1\n",
        "deploy/prod/values.yaml": "tag: v9\n",
    }
    _, recursive = await gh.call("GET", f"{API}/git/trees/{tree['sha']}?recursive=1")
    assert {e["path"] for e in recursive["tree"]} == {
        "deploy",
        "deploy/values.yaml",
        "deploy/prod",
        "deploy/prod/values.yaml",
    }


async def test_blob_read_back(world: World) -> None:
    """Blobs read back base64 with their git sha and size."""
    _, made = await world.gh.call("POST", f"{API}/git/blobs", {"content": "hello\n"})
    assert made["sha"] == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object
    _, blob = await world.gh.call("GET", f"{API}/git/blobs/{made['sha']}")
    assert (base64.b64decode(blob["content"]), blob["size"], blob["encoding"]) == (
        b"hello\n",
        6,
        "base64",
    )


def test_object_ids_match_git() -> None:
    """Blob, tree and commit ids are computed exactly as `git` computes them."""
    from tests.fakegithub.gitops import signature
    from tests.fakegithub.gitstore import GitStore, Signature

    git = GitStore()
    assert git.put_tree([]) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    tree = git.build_tree(
        {"a/b.txt": ("100644", git.put_blob(b"hello\n")), "a.txt": ("100644", git.put_blob(b""))}
    )
    # Expected ids come from `git write-tree` and `git commit-tree` on the same content.
    assert tree == "db3e7ff0f8a6dcb7092c2c7159bc29e02c55d7c5"
    who = Signature("A U Thor", "author@example.com", "2005-04-07T22:13:13Z", 1112911993)
    assert git.put_commit(tree, [], "msg\n", who, who) == "8d0f7636234ded17542c40f34e2abd939c8f85e5"
    assert signature("x", "y").date.endswith("Z")


async def test_refs_create_and_update_rules(world: World) -> None:
    """Creating an existing ref is 422; non-fast-forward updates need force; missing refs 404."""
    gh = world.gh
    main = world.fake.resolve(OWNER, REPO, "main")
    bump = world.fake.resolve(OWNER, REPO, "bump")
    status, body = await gh.call("POST", f"{API}/git/refs", {"ref": "refs/heads/bump", "sha": main})
    assert (status, body["message"]) == (422, "Reference already exists")
    status, body = await gh.call("PATCH", f"{API}/git/refs/heads/bump", {"sha": main})
    assert (status, body["message"]) == (422, "Update is not a fast forward")
    status, ref = await gh.call("PATCH", f"{API}/git/refs/heads/bump", {"sha": main, "force": True})
    assert (status, ref["object"]["sha"]) == (200, main)
    status, ref = await gh.call("PATCH", f"{API}/git/refs/heads/bump", {"sha": bump})
    assert (status, ref["object"]["sha"]) == (200, bump)
    status, _ = await gh.call("GET", f"{API}/git/ref/heads/missing")
    assert status == 404
    status, body = await gh.call("POST", f"{API}/git/refs", {"ref": "heads/x", "sha": main})
    assert status == 422


async def test_commits_list_filters_by_path_and_sha(world: World) -> None:
    """Commits come newest first, filtered by the starting sha/branch and by path."""
    world.fake.commit_files(OWNER, REPO, "bump", {"docs/x.md": "x\n"}, "Docs")
    world.fake.commit_files(OWNER, REPO, "bump", {"deploy/values.yaml": "image: v3\n"}, "Bump v3")
    _, on_branch = await world.gh.call("GET", f"{API}/commits?sha=bump")
    assert [c["commit"]["message"] for c in on_branch] == [
        "Bump v3",
        "Docs",
        "A change",
        "Initial commit",
    ]
    _, touching = await world.gh.call("GET", f"{API}/commits?sha=bump&path=deploy/values.yaml")
    assert [c["commit"]["message"] for c in touching] == ["Bump v3", "A change", "Initial commit"]
    _, on_main = await world.gh.call("GET", f"{API}/commits")
    assert [c["commit"]["message"] for c in on_main] == ["Initial commit"]
    _, single = await world.gh.call("GET", f"{API}/commits/bump")
    assert [f["filename"] for f in single["files"]] == ["deploy/values.yaml"]


async def test_contents_directory_and_raw(world: World) -> None:
    """A directory lists its entries; the raw media type answers the bytes."""
    _, listing = await world.gh.call("GET", f"{API}/contents/deploy")
    assert [(e["name"], e["type"]) for e in listing] == [("values.yaml", "file")]
    headers = {
        "Authorization": f"token {world.gh.token}",
        "Accept": "application/vnd.github.raw+json",
    }
    async with world.gh.session.get(
        f"{API}/contents/deploy/values.yaml?ref=bump", headers=headers
    ) as response:
        assert await response.read() == b"image: v2\n"


# Remaining check routes


async def test_only_the_creating_app_may_update_a_check_run(world: World) -> None:
    """Another app's check run is read-only for this app."""
    sha = world.pr.pull.head_sha  # type: ignore[union-attr]
    world.fake.add_app(2, "ci")
    theirs = world.fake.add_check_run(OWNER, REPO, sha, "build", app_id=2, status="in_progress")
    status, run = await world.gh.call("GET", f"{API}/check-runs/{theirs.id}")
    assert (status, run["app"]["slug"]) == (200, "ci")
    status, _ = await world.gh.call(
        "PATCH", f"{API}/check-runs/{theirs.id}", {"conclusion": "success"}
    )
    assert status == 403


async def test_rerequest_check_suite(world: World) -> None:
    """Rerequesting a suite answers 201 and is counted."""
    sha = world.pr.pull.head_sha  # type: ignore[union-attr]
    _, run = await world.gh.call("POST", f"{API}/check-runs", {"name": "x", "head_sha": sha})
    status, _ = await world.gh.call(
        "POST", f"{API}/check-suites/{run['check_suite']['id']}/rerequest"
    )
    assert status == 201
    assert world.fake.state.check_suites[run["check_suite"]["id"]].rerequested == 1


async def test_completed_check_run_without_conclusion_is_a_violation(world: World) -> None:
    """status=completed needs a conclusion."""
    sha = world.pr.pull.head_sha  # type: ignore[union-attr]
    with world.fake.expect_violations():
        status, _ = await world.gh.call(
            "POST", f"{API}/check-runs", {"name": "x", "head_sha": sha, "status": "completed"}
        )
    assert status == 422


# The fake's own contract


def test_every_listed_operation_has_a_handler() -> None:
    """operations.txt, the trimmed description and the route tables agree."""
    fake = FakeGitHub()
    assert set(fake.routes) == set(fake.description.operations)
    listed = Path(__file__).parent / "data" / "github" / "operations.txt"
    lines = [line.split("#")[0].strip() for line in listed.read_text().splitlines()]
    assert {line for line in lines if line} == set(fake.description.operations)


def test_fixture_teardown_fails_on_violations() -> None:
    """A recorded violation fails the test at fixture teardown; an empty list passes."""
    fake = FakeGitHub()
    fail_on_violations(fake.violations, "GitHub", "fake_github")
    fake.record_violation(Violation("GET", "/nope", ("no operation",)))
    with pytest.raises(pytest.fail.Exception, match="GET /nope: no operation"):
        fail_on_violations(fake.violations, "GitHub", "fake_github")


def test_expect_violations_requires_one() -> None:
    """expect_violations() fails the block when nothing was refused."""
    fake = FakeGitHub()
    with pytest.raises(AssertionError, match="none was"), fake.expect_violations():
        pass


def _spec_quirk(error: Any) -> bool:
    # OAS 3.0 `nullable` is ignored by enum/oneOf checks, and label descriptions are null on
    # GitHub although pull-request-simple declares a string: both are the description's slips.
    if error.instance is not None:
        return False
    return error.schema.get("nullable") is True or list(error.absolute_path)[-1:] == ["description"]


async def test_answers_match_the_response_schemas(world: World) -> None:
    """Every 2xx JSON answer validates against the description's response schema."""
    fake, gh = world.fake, world.gh
    sha = world.pr.pull.head_sha  # type: ignore[union-attr]
    tree = fake.state.git.commits[sha].tree
    comment = fake.add_comment(OWNER, REPO, 1, "hi")
    review_comment = fake.add_review_comment(OWNER, REPO, 1, "nit", path="README.md")
    fake.add_team_member(OWNER, "t", "alice")
    fake.add_pull(OWNER, REPO, head="fix", fork=True, user="bob")
    bearer = f"Bearer {app_jwt(world.private_key)}"
    script: list[tuple[str, str, Any, str | None]] = [
        ("GET", "/app", None, bearer),
        ("GET", f"{API}/installation", None, bearer),
        ("POST", "/app/installations/10/access_tokens", {"repositories": [REPO]}, bearer),
        ("GET", API, None, None),
        (
            "POST",
            f"{API}/check-runs",
            {"name": "a", "head_sha": sha, "conclusion": "success"},
            None,
        ),
        ("GET", f"{API}/commits/bump/check-runs", None, None),
        ("GET", f"{API}/commits/bump/check-suites", None, None),
        ("POST", f"{API}/statuses/{sha}", {"state": "success"}, None),
        ("GET", f"{API}/commits/bump/statuses", None, None),
        ("GET", f"{API}/commits/bump/status", None, None),
        ("GET", f"{API}/issues/1", None, None),
        ("PATCH", f"{API}/issues/1", {"title": "t2"}, None),
        ("GET", f"{API}/issues/1/comments", None, None),
        ("POST", f"{API}/issues/1/comments", {"body": "x"}, None),
        ("GET", f"{API}/issues/comments/{comment.id}", None, None),
        ("PATCH", f"{API}/issues/comments/{comment.id}", {"body": "y"}, None),
        ("POST", f"{API}/issues/comments/{comment.id}/reactions", {"content": "+1"}, None),
        ("POST", f"{API}/pulls/comments/{review_comment.id}/reactions", {"content": "+1"}, None),
        ("POST", f"{API}/issues/1/reactions", {"content": "+1"}, None),
        ("GET", f"{API}/issues/1/labels", None, None),
        ("POST", f"{API}/issues/1/labels", {"labels": ["y"]}, None),
        ("DELETE", f"{API}/issues/1/labels/y", None, None),
        ("GET", f"{API}/labels", None, None),
        ("POST", f"{API}/labels", {"name": "z"}, None),
        ("POST", f"{API}/issues/1/assignees", {"assignees": ["octocat"]}, None),
        ("DELETE", f"{API}/issues/1/assignees", {"assignees": ["octocat"]}, None),
        ("GET", f"{API}/pulls?state=all", None, None),
        ("GET", f"{API}/pulls/2", None, None),
        ("PATCH", f"{API}/pulls/1", {"body": "b"}, None),
        ("GET", f"{API}/pulls/1/files", None, None),
        ("POST", f"{API}/pulls/1/requested_reviewers", {"reviewers": ["alice"]}, None),
        ("DELETE", f"{API}/pulls/1/requested_reviewers", {"reviewers": ["alice"]}, None),
        ("GET", f"{API}/collaborators/alice/permission", None, None),
        ("GET", f"/orgs/{OWNER}/teams/t/memberships/alice", None, None),
        ("GET", f"{API}/contents/deploy/values.yaml", None, None),
        ("GET", f"{API}/commits", None, None),
        ("GET", f"{API}/commits/bump", None, None),
        ("GET", f"{API}/git/ref/heads/main", None, None),
        ("POST", f"{API}/git/blobs", {"content": "hello"}, None),
        ("GET", f"{API}/git/blobs/b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0", None, None),
        (
            "POST",
            f"{API}/git/trees",
            {"tree": [{"path": "a/b", "mode": "100644", "type": "blob", "content": "x"}]},
            None,
        ),
        ("GET", f"{API}/git/trees/{tree}?recursive=1", None, None),
        ("POST", f"{API}/git/commits", {"message": "m", "tree": tree, "parents": [sha]}, None),
        ("GET", f"{API}/git/commits/{sha}", None, None),
        ("POST", f"{API}/git/refs", {"ref": "refs/heads/new", "sha": sha}, None),
        ("PATCH", f"{API}/git/refs/heads/new", {"sha": sha}, None),
        ("PUT", f"{API}/pulls/1/merge", {}, None),
    ]
    problems = []
    for method, path, body, auth in script:
        headers = {"Authorization": auth or f"token {gh.token}"}
        async with gh.session.request(method, path, json=body, headers=headers) as response:
            status, answer = response.status, await response.json()
        operation, _ = fake.description.match(method, path.split("?")[0]) or (None, None)
        assert operation is not None and status in (200, 201), (method, path, status, answer)
        validator = fake.description.response_validator(operation, status)
        assert validator is not None, operation.key
        problems += [
            f"{method} {path} {'/'.join(map(str, e.absolute_path))}: {e.message[:120]}"
            for e in validator.iter_errors(answer)
            if not _spec_quirk(e)
        ]
    assert problems == []


async def test_gidgethub_interoperates(world: World) -> None:
    """gidgethub's app token helper, getiter pagination, ETag cache and errors work unchanged."""
    from gidgethub import BadRequest
    from gidgethub.aiohttp import GitHubAPI
    from gidgethub.apps import get_installation_access_token

    for n in range(35):
        world.fake.add_comment(OWNER, REPO, 1, f"c{n}")
    app_client = GitHubAPI(world.gh.session, "ferrybot-tests", base_url=world.fake.url)
    issued = await get_installation_access_token(
        app_client, installation_id="10", app_id="1", private_key=world.private_key
    )
    cache: dict[Any, Any] = {}
    gh = GitHubAPI(
        world.gh.session,
        "ferrybot-tests",
        oauth_token=issued["token"],
        base_url=world.fake.url,
        cache=cache,
    )
    bodies = [c["body"] async for c in gh.getiter(f"{API}/issues/1/comments")]
    assert len(bodies) == 35
    first = await gh.getitem(f"{API}/pulls/1")
    again = await gh.getitem(f"{API}/pulls/1")
    assert first == again
    assert world.fake.requests[-1][2] == 304
    with pytest.raises(BadRequest) as refused:
        await gh.post(f"{API}/pulls", data={"title": "t", "head": "nope", "base": "main"})
    assert refused.value.status_code == 422


def _regeneration_script() -> Any:
    import importlib.util

    path = Path(__file__).parent.parent / "scripts" / "regenerate_github_testdata.py"
    spec = importlib.util.spec_from_file_location("regenerate_github_testdata", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regeneration_fails_loudly_on_a_missing_operation() -> None:
    """Trimming stops, naming the operation, when the description lacks a listed one."""
    script = _regeneration_script()
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {}}},
    }
    with pytest.raises(SystemExit, match="POST /a"):
        script.trim_spec(spec, [("get", "/a"), ("post", "/a")])


def test_regeneration_keeps_referenced_components_and_strips_docs() -> None:
    """Components are followed transitively; descriptions go, properties named like them stay."""
    script = _regeneration_script()
    schema = {"$ref": "#/components/schemas/outer"}
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "description": "doc",
                    "responses": {"200": {"content": {"application/json": {"schema": schema}}}},
                }
            }
        },
        "components": {
            "schemas": {
                "outer": {
                    "description": "doc",
                    "properties": {"description": {"$ref": "#/components/schemas/inner"}},
                },
                "inner": {"type": "string", "example": "x"},
                "unused": {"type": "integer"},
            }
        },
    }
    trimmed = script.trim_spec(spec, [("get", "/a")])
    assert trimmed["components"]["schemas"] == {
        "outer": {"properties": {"description": {"$ref": "#/components/schemas/inner"}}},
        "inner": {"type": "string"},
    }
    assert "description" not in trimmed["paths"]["/a"]["get"]


WORKFLOW = """\
on:
  workflow_dispatch:
    inputs:
      model: {required: true}
      link: {required: false}
"""


async def test_workflow_dispatch_checks_inputs_against_the_workflow_file(world: World) -> None:
    """Declared inputs are recorded (with run details on request); undeclared or missing are 422."""
    world.fake.commit_files(OWNER, REPO, "main", {".github/workflows/retrain.yml": WORKFLOW})
    path = f"{API}/actions/workflows/retrain.yml/dispatches"
    status, answer = await world.gh.call("POST", path, {"ref": "main", "inputs": {"model": "m"}})
    assert (status, answer) == (204, None)
    status, answer = await world.gh.call(
        "POST", path, {"ref": "main", "inputs": {"model": "m"}, "return_run_details": True}
    )
    assert status == 200 and answer["html_url"].endswith(f"/runs/{answer['workflow_run_id']}")
    status, answer = await world.gh.call(
        "POST", path, {"ref": "main", "inputs": {"model": "m", "extra": "x"}}
    )
    assert status == 422 and "Unexpected inputs provided: ['extra']" in answer["message"]
    status, answer = await world.gh.call("POST", path, {"ref": "main", "inputs": {}})
    assert status == 422 and "Required input 'model' not provided" in answer["message"]
    status, _ = await world.gh.call("POST", path, {"ref": "nope", "inputs": {"model": "m"}})
    assert status == 422
    status, _ = await world.gh.call(
        "POST", f"{API}/actions/workflows/missing.yml/dispatches", {"ref": "main"}
    )
    assert status == 404
    assert [d.inputs for d in world.fake.dispatches(OWNER, REPO)] == [{"model": "m"}] * 2


async def test_repository_dispatch_is_recorded_and_bounded_by_the_spec(world: World) -> None:
    """repository_dispatch records its payload; over 10 payload keys is refused, as GitHub does."""
    status, _ = await world.gh.call(
        "POST", f"{API}/dispatches", {"event_type": "retrain", "client_payload": {"a": 1}}
    )
    assert status == 204
    with world.fake.expect_violations():
        status, _ = await world.gh.call(
            "POST",
            f"{API}/dispatches",
            {"event_type": "retrain", "client_payload": {str(i): i for i in range(11)}},
        )
    assert status == 422
    [dispatch] = world.fake.dispatches(OWNER, REPO)
    assert (dispatch.event_type, dispatch.client_payload) == ("retrain", {"a": 1})
