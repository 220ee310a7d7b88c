"""The fake GitLab behaves like GitLab's REST API for what ferrybot uses."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import gidgetlab
import gidgetlab.aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.ingress.gitlab import gitlab_envelope
from bot.settings import Settings
from tests.fakegitlab.__main__ import DEFAULT_SEED, DEMO_TOKEN, apply_seed
from tests.fakegitlab.server import FakeGitLab

TOKEN = "glpat-ferrybot"
BOT = "ferrybot"
PROJECT = "acme/platform/app"
ENCODED = "acme%2Fplatform%2Fapp"
EXAMPLES = Path(__file__).parent / "data" / "gitlab" / "webhooks"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def seeded(fake_gitlab: FakeGitLab) -> FakeGitLab:
    fake_gitlab.add_token(TOKEN, BOT)
    fake_gitlab.add_project(PROJECT, files={"deploy/values.yaml": "tag: v1\n"})
    fake_gitlab.add_member(PROJECT, BOT, 30)
    return fake_gitlab


@pytest.fixture
def gl(seeded: FakeGitLab, session: aiohttp.ClientSession) -> gidgetlab.aiohttp.GitLabAPI:
    return gidgetlab.aiohttp.GitLabAPI(session, BOT, access_token=TOKEN, url=seeded.url)


async def call(
    fake: FakeGitLab,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    """A raw request (yarl must not re-encode the path: it is sent as written)."""
    url = aiohttp.client.URL(f"{fake.url}/api/v4{path}", encoded=True)
    sent = {"PRIVATE-TOKEN": TOKEN} if headers is None else headers
    async with session.request(method, url, headers=sent, **kwargs) as response:
        text = await response.text()
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        return response.status, body, response.headers


# Authentication and routing


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"PRIVATE-TOKEN": "glpat-unknown"}, 401),
        ({"Authorization": "Bearer glpat-unknown"}, 401),
        ({"PRIVATE-TOKEN": TOKEN}, 200),
        ({"Authorization": f"Bearer {TOKEN}"}, 200),
    ],
    ids=["no-token", "unknown-private-token", "unknown-bearer", "private-token", "bearer"],
)
async def test_auth(
    seeded: FakeGitLab, session: aiohttp.ClientSession, headers: dict[str, str], status: int
) -> None:
    """Only a known token, as PRIVATE-TOKEN or Bearer, authenticates; else 401 Unauthorized."""
    got, body, _ = await call(seeded, session, "GET", "/user", headers=headers)
    assert got == status
    if status == 401:
        assert body == {"message": "401 Unauthorized"}
    else:
        assert body["username"] == BOT
        assert set(body) >= {"id", "username", "name", "state", "web_url"}


async def test_project_by_id_or_encoded_path(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI
) -> None:
    """A project is found by its numeric id and by its URL-encoded full path."""
    by_path = await gl.getitem(f"/projects/{ENCODED}")
    by_id = await gl.getitem(f"/projects/{by_path['id']}")
    assert by_path == by_id
    assert by_path["path_with_namespace"] == PROJECT
    assert by_path["namespace"]["full_path"] == "acme/platform"
    assert by_path["default_branch"] == "main"


async def test_unencoded_project_path_is_404(
    seeded: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """An unencoded '/' in :id matches no route: 404 and a violation, as on GitLab."""
    with seeded.expect_violations() as caught:
        status, body, _ = await call(seeded, session, "GET", f"/projects/{PROJECT}")
    assert (status, body) == (404, {"error": "404 Not Found"})
    assert "no GitLab API operation" in str(caught[0])


async def test_unknown_project_is_404_without_violation(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI
) -> None:
    """A well-formed request for a missing project is GitLab's 404 Project Not Found."""
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.getitem("/projects/acme%2Fnope")
    assert raised.value.status_code == 404
    assert str(raised.value) == "404 Project Not Found"


async def test_prefix_instance(session: aiohttp.ClientSession) -> None:
    """A self-managed GitLab under /gitlab serves the API at /gitlab/api/v4 and nowhere else."""
    async with FakeGitLab("/gitlab") as fake:
        fake.add_token(TOKEN, BOT)
        fake.add_project(PROJECT)
        fake.add_member(PROJECT, BOT, 10)
        assert fake.url.endswith("/gitlab")
        gl = gidgetlab.aiohttp.GitLabAPI(session, BOT, access_token=TOKEN, url=fake.url)
        project = await gl.getitem(f"/projects/{ENCODED}")
        assert project["web_url"] == f"{fake.url}/{PROJECT}"
        bare = fake.url.removesuffix("/gitlab")
        async with session.get(f"{bare}/api/v4/user", headers={"PRIVATE-TOKEN": TOKEN}) as r:
            assert r.status == 404
        assert [str(v) for v in fake.take_violations()] == [
            "GET /api/v4/user: not under /gitlab/api/v4/"
        ]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "body"),
    [
        ("GET", "/projects/1/nothing_here", {}, 404, {"error": "404 Not Found"}),
        ("DELETE", "/projects/1", {}, 405, {"error": "405 Not Allowed"}),
        ("POST", "/projects/1/statuses/abc", {"json": {}}, 400, {"error": "state is missing"}),
        (
            "POST",
            "/projects/1/statuses/abc",
            {"json": {"state": "done"}},
            400,
            {"error": "state does not have a valid value"},
        ),
        (
            "GET",
            "/projects/1/merge_requests",
            {"params": {"per_page": "many"}},
            400,
            {"error": "per_page is invalid"},
        ),
        (
            "PUT",
            "/projects/1/merge_requests/1",
            {"json": {}},
            400,
            None,
        ),
        ("GET", "/projects/1/merge_requests", {"params": {"colour": "red"}}, 200, None),
        (
            "GET",
            "/projects/1/merge_requests/first",
            {},
            400,
            {"error": "merge_request_iid is invalid"},
        ),
        (
            "POST",
            "/projects/1/repository/commits",
            {"json": {"branch": "b", "commit_message": "m", "actions": [{"file_path": "x"}]}},
            400,
            {"error": "actions[0][action] is missing"},
        ),
        (
            "POST",
            "/projects/1/merge_requests/1/notes",
            {"json": {"body": "x" * 1_000_001}},
            400,
            {"message": "400 Bad request - Note is too long (maximum is 1000000 characters)"},
        ),
        (
            "POST",
            "/projects/1/merge_requests/1/discussions",
            {"json": {"body": " "}},
            400,
            {"message": "400 Bad request - Note can't be blank"},
        ),
    ],
    ids=[
        "unknown-route",
        "unknown-method",
        "missing-param",
        "value-not-allowed",
        "type-not-coercible",
        "update-without-params",
        "unknown-param-served",
        "iid-not-a-number",
        "nested-missing",
        "note-too-long",
        "note-blank",
    ],
)
async def test_refused_requests_are_violations(
    seeded: FakeGitLab,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    body: Any,
) -> None:
    """Every request GitLab would refuse or misread answers like GitLab and is a violation."""
    seeded.add_merge_request(PROJECT, source_branch="bump", author="alice")
    with seeded.expect_violations() as caught:
        got, answer, _ = await call(seeded, session, method, path, **kwargs)
    assert got == status
    if body is not None:
        assert answer == body
    assert len(caught) == 1


async def test_update_without_params_uses_grapes_wording(
    seeded: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """PUT on an MR with no parameter is Grape's at_least_one_of error."""
    seeded.add_merge_request(PROJECT, source_branch="bump", author="alice")
    with seeded.expect_violations():
        status, body, _ = await call(seeded, session, "PUT", "/projects/1/merge_requests/1")
    assert status == 400
    assert body["error"].endswith("are missing, at least one parameter must be provided")


# Pagination and knobs


async def test_pagination_followed_over_250_notes(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI, session: aiohttp.ClientSession
) -> None:
    """Lists page by 20 (max 100) with X-* headers and a Link gidgetlab follows to the end."""
    mr = seeded.add_merge_request(PROJECT, source_branch="bump", author="alice")
    for n in range(250):
        seeded.add_note(PROJECT, mr.iid, author="alice", body=f"note {n}")
    path = f"/projects/{ENCODED}/merge_requests/{mr.iid}/notes"
    bodies = [note["body"] async for note in gl.getiter(path, {"sort": "asc"})]
    assert bodies == [f"note {n}" for n in range(250)]
    status, page, headers = await call(seeded, session, "GET", path)
    assert (status, len(page)) == (200, 20)
    assert (headers["X-Page"], headers["X-Per-Page"], headers["X-Total"]) == ("1", "20", "250")
    assert headers["X-Next-Page"] == "2"
    assert 'rel="next"' in headers["Link"]
    _, page, headers = await call(seeded, session, "GET", path, params={"per_page": "500"})
    assert (len(page), headers["X-Per-Page"], headers["X-Total-Pages"]) == (100, "100", "3")
    _, page, headers = await call(seeded, session, "GET", path, params={"page": "13"})
    assert (len(page), headers["X-Next-Page"]) == (10, "")
    assert 'rel="next"' not in headers["Link"]
    assert "RateLimit-Remaining" in headers


@pytest.mark.parametrize(
    ("headers", "expected_retry_after"),
    [({"Retry-After": "7"}, "7"), ({}, None)],
    ids=["with-retry-after", "without-retry-after"],
)
async def test_fail_next_429(
    seeded: FakeGitLab,
    session: aiohttp.ClientSession,
    gl: gidgetlab.aiohttp.GitLabAPI,
    headers: dict[str, str],
    expected_retry_after: str | None,
) -> None:
    """fail_next answers the next matching request with the status, then serves again."""
    seeded.fail_next("GET", r"^/api/v4/user$", 429, headers=headers)
    status, body, answer_headers = await call(seeded, session, "GET", "/user")
    assert (status, body) == (429, "Retry later\n")
    assert answer_headers.get("Retry-After") == expected_retry_after
    assert (await gl.getitem("/user"))["username"] == BOT
    assert [r.status for r in seeded.requests] == [429, 200]


async def test_fail_next_json_error(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """Other injected statuses carry GitLab's {"message": "<status> <reason>"} body."""
    seeded.fail_next("*", r"/projects/", 502, times=2)
    for _ in range(2):
        with pytest.raises(gidgetlab.GitLabBroken) as raised:
            await gl.getitem(f"/projects/{ENCODED}")
        assert str(raised.value) == "502 Bad Gateway"
    assert (await gl.getitem(f"/projects/{ENCODED}"))["id"] == 1
    assert seeded.calls[-1].raw_path == f"/api/v4/projects/{ENCODED}"


# Members


async def test_members_all(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """members/all/:user_id shows a member's access level and 404s for a stranger."""
    stranger = seeded.add_user("mallory")
    bot = await gl.getitem("/user")
    member = await gl.getitem(f"/projects/{ENCODED}/members/all/{bot['id']}")
    assert (member["username"], member["access_level"]) == (BOT, 30)
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.getitem(f"/projects/{ENCODED}/members/all/{stranger.id}")
    assert (raised.value.status_code, str(raised.value)) == (404, "404 Not found")


# Commit statuses


async def post_status(gl: gidgetlab.aiohttp.GitLabAPI, sha: str, **fields: Any) -> Any:
    return await gl.post(f"/projects/{ENCODED}/statuses/{sha}", data=fields)


async def test_status_state_machine(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """pending twice is GitLab's 400; running→success updates in place; success again adds a row."""
    mr = seeded.add_merge_request(PROJECT, source_branch="bump", author="alice")
    first = await post_status(gl, mr.sha, state="pending", name="ferrybot/plan")
    assert (first["status"], first["name"], first["ref"]) == ("pending", "ferrybot/plan", "bump")
    assert first["pipeline_id"] == mr.head_pipeline_id
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await post_status(gl, mr.sha, state="pending", name="ferrybot/plan")
    assert str(raised.value) == (
        "Cannot transition status via :enqueue from :pending"
        ' (Reason(s): Status cannot transition via "enqueue")'
    )
    running = await post_status(gl, mr.sha, state="running", name="ferrybot/plan")
    done = await post_status(gl, mr.sha, state="success", context="ferrybot/plan")
    assert running["id"] == done["id"] == first["id"]
    assert done["status"] == "success" and done["finished_at"] is not None
    again = await post_status(gl, mr.sha, state="success", name="ferrybot/plan")
    other = await post_status(gl, mr.sha, state="failed", name="lint")
    assert again["id"] != first["id"]
    rows = seeded.statuses(PROJECT, mr.sha)
    assert [(r["name"], r["status"]) for r in rows] == [
        ("ferrybot/plan", "success"),
        ("ferrybot/plan", "success"),
        ("lint", "failed"),
    ]
    listed = await gl.getitem(f"/projects/{ENCODED}/repository/commits/{mr.sha}/statuses")
    assert [r["id"] for r in listed] == [again["id"], other["id"]]
    everything = await gl.getitem(
        f"/projects/{ENCODED}/repository/commits/{mr.sha}/statuses", {"all": "true"}
    )
    assert len(everything) == 3
    # The pipeline's own jobs still run; once they pass, the failed external status decides.
    assert seeded.merge_request(PROJECT, mr.iid)["head_pipeline"]["status"] == "running"
    assert mr.head_pipeline_id is not None
    seeded.set_pipeline_status(PROJECT, mr.head_pipeline_id, "success")
    assert seeded.merge_request(PROJECT, mr.iid)["head_pipeline"]["status"] == "failed"


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("running", "running", ":run from :running"),
        ("running", "pending", ":enqueue from :running"),
        ("running", "skipped", ":skip from :running"),
    ],
    ids=["running-twice", "running-then-pending", "running-then-skipped"],
)
async def test_status_refused_transitions(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI, first: str, second: str, message: str
) -> None:
    """Transitions the state machine does not allow are 400 with GitLab's message."""
    sha = seeded.push(PROJECT, "feature", {"a.txt": "a\n"}, author="alice")
    await post_status(gl, sha, state=first)
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await post_status(gl, sha, state=second)
    event = message.split()[0][1:]
    assert str(raised.value) == (
        f"Cannot transition status via {message}"
        f' (Reason(s): Status cannot transition via "{event}")'
    )


async def test_status_pipeline_and_sha_must_exist(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI
) -> None:
    """A pipeline_id of another sha is refused with 404, as is an unknown sha."""
    one = seeded.add_merge_request(PROJECT, source_branch="one", author="alice")
    two = seeded.add_merge_request(PROJECT, source_branch="two", author="alice")
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await post_status(gl, one.sha, state="running", pipeline_id=two.head_pipeline_id)
    assert (raised.value.status_code, str(raised.value)) == (
        404,
        "404 Pipeline for pipeline_id, sha and ref Not Found",
    )
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await post_status(gl, "f" * 40, state="running")
    assert str(raised.value) == "404 Commit Not Found"
    posted = await post_status(gl, one.sha, state="running", pipeline_id=one.head_pipeline_id)
    assert posted["pipeline_id"] == one.head_pipeline_id


# Repository


async def test_commit_with_actions(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """Three actions make one commit on a branch created from start_branch."""
    before = seeded.branch_head(PROJECT, "main")
    made = await gl.post(
        f"/projects/{ENCODED}/repository/commits",
        data={
            "branch": "promote/v2",
            "start_branch": "main",
            "commit_message": "Promote v2\n\nBy ferrybot",
            "actions": [
                {"action": "update", "file_path": "deploy/values.yaml", "content": "tag: v2\n"},
                {"action": "create", "file_path": "deploy/new.yaml", "content": "a: 1\n"},
                {
                    "action": "create",
                    "file_path": "deploy/b64.yaml",
                    "content": base64.b64encode(b"b: 2\n").decode(),
                    "encoding": "base64",
                },
            ],
        },
    )
    assert made["parent_ids"] == [before]
    assert made["title"] == "Promote v2"
    assert seeded.branch_head(PROJECT, "promote/v2") == made["id"]
    assert seeded.branch_head(PROJECT, "main") == before
    assert seeded.file(PROJECT, "promote/v2", "deploy/values.yaml") == "tag: v2\n"
    assert seeded.file(PROJECT, "promote/v2", "deploy/b64.yaml") == "b: 2\n"
    log = await gl.getitem(
        f"/projects/{ENCODED}/repository/commits",
        {"ref_name": "promote/v2", "path": "deploy/new.yaml"},
    )
    assert [c["id"] for c in log] == [made["id"]]
    single = await gl.getitem(f"/projects/{ENCODED}/repository/commits/{made['id']}")
    assert single["short_id"] == made["id"][:8]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            {"action": "create", "file_path": "deploy/values.yaml", "content": "x"},
            "A file with this name already exists",
        ),
        (
            {"action": "update", "file_path": "deploy/missing.yaml", "content": "x"},
            "A file with this name doesn't exist",
        ),
        (
            {"action": "delete", "file_path": "deploy/missing.yaml"},
            "A file with this name doesn't exist",
        ),
        (
            {"action": "move", "file_path": "deploy/values.yaml", "previous_path": "a.txt"},
            "A file with this name already exists",
        ),
        (
            {
                "action": "update",
                "file_path": "deploy/values.yaml",
                "content": "x",
                "last_commit_id": "0" * 40,
            },
            "The file has changed since you started editing it: deploy/values.yaml",
        ),
    ],
    ids=[
        "create-existing",
        "update-missing",
        "delete-missing",
        "move-onto-existing",
        "stale-last-commit-id",
    ],
)
async def test_commit_refused(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI, action: dict[str, str], message: str
) -> None:
    """A refused action is 400 with GitLab's message, and nothing is committed."""
    before = seeded.push(PROJECT, "feature", {"a.txt": "a\n"}, author="alice")
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.post(
            f"/projects/{ENCODED}/repository/commits",
            data={"branch": "feature", "commit_message": "m", "actions": [action]},
        )
    assert (raised.value.status_code, str(raised.value)) == (400, message)
    assert seeded.branch_head(PROJECT, "feature") == before


async def test_last_commit_id_of_the_file_is_accepted(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI
) -> None:
    """The files API's last_commit_id is what the commits API checks an update against."""
    seeded.push(PROJECT, "feature", {"other.txt": "o\n"}, author="alice")
    path = "deploy%2Fvalues.yaml"
    shown = await gl.getitem(f"/projects/{ENCODED}/repository/files/{path}", {"ref": "feature"})
    assert base64.b64decode(shown["content"]) == b"tag: v1\n"
    assert shown["last_commit_id"] != shown["commit_id"]
    made = await gl.post(
        f"/projects/{ENCODED}/repository/commits",
        data={
            "branch": "feature",
            "commit_message": "bump",
            "actions": [
                {
                    "action": "update",
                    "file_path": "deploy/values.yaml",
                    "content": "tag: v3\n",
                    "last_commit_id": shown["last_commit_id"],
                }
            ],
        },
    )
    raw = await gl.getitem(f"/projects/{ENCODED}/repository/files/{path}/raw", {"ref": "feature"})
    assert raw == "tag: v3\n"
    branch = await gl.getitem(f"/projects/{ENCODED}/repository/branches/feature")
    assert (branch["commit"]["id"], branch["default"], branch["protected"]) == (
        made["id"],
        False,
        False,
    )


async def test_missing_file_and_branch(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """Missing files and branches are GitLab's named 404s."""
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.getitem(f"/projects/{ENCODED}/repository/files/nope.txt", {"ref": "main"})
    assert str(raised.value) == "404 File Not Found"
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.getitem(f"/projects/{ENCODED}/repository/branches/nope")
    assert str(raised.value) == "404 Branch Not Found"


# Merge requests


async def test_second_open_mr_for_a_branch_is_409(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI
) -> None:
    """Creating an MR is 201; a second open one from the same source branch is 409."""
    seeded.push(PROJECT, "promote", {"deploy/values.yaml": "tag: v9\n"}, author=BOT)
    fields = {"source_branch": "promote", "target_branch": "main", "title": "Promote v9"}
    created = await gl.post(f"/projects/{ENCODED}/merge_requests", data=fields)
    assert (created["iid"], created["state"], created["head_pipeline"]["status"]) == (
        1,
        "opened",
        "running",
    )
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.post(f"/projects/{ENCODED}/merge_requests", data=fields)
    assert raised.value.status_code == 409
    assert seeded.calls[-1].status == 409
    assert seeded.calls[-1].route == "POST /projects/:id/merge_requests"
    diffs = await gl.getitem(f"/projects/{ENCODED}/merge_requests/1/diffs")
    assert [(d["new_path"], d["new_file"]) for d in diffs] == [("deploy/values.yaml", False)]
    assert "+tag: v9" in diffs[0]["diff"]


async def test_labels_add_and_remove(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """add_labels and remove_labels (comma separated) change only the labels named."""
    mr = seeded.add_merge_request(PROJECT, source_branch="bump", author="alice", labels=["env"])
    url = f"/projects/{ENCODED}/merge_requests/{mr.iid}"
    updated = await gl.put(url, data={"add_labels": "deploy,needs-review"})
    assert updated["labels"] == ["deploy", "env", "needs-review"]
    updated = await gl.put(url, data={"remove_labels": "needs-review,absent"})
    assert updated["labels"] == ["deploy", "env"]
    assert seeded.labels(PROJECT, mr.iid) == ["deploy", "env"]
    listed = await gl.getitem(f"/projects/{ENCODED}/merge_requests", {"labels": "deploy"})
    assert [m["iid"] for m in listed] == [mr.iid]
    closed = await gl.put(url, data={"state_event": "close"})
    assert closed["state"] == "closed"
    opened = await gl.getitem(f"/projects/{ENCODED}/merge_requests", {"state": "opened"})
    assert opened == []


async def test_push_moves_the_mr(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """A push to the source branch gives the MR the new sha and a new head pipeline."""
    mr = seeded.add_merge_request(PROJECT, source_branch="bump", author="alice", draft=True)
    first_pipeline = mr.head_pipeline_id
    sha = seeded.push(PROJECT, "bump", {"deploy/values.yaml": "tag: v5\n"}, author="alice")
    shown = await gl.getitem(f"/projects/{ENCODED}/merge_requests/{mr.iid}")
    assert shown["sha"] == sha == shown["diff_refs"]["head_sha"]
    assert shown["head_pipeline"]["id"] == mr.head_pipeline_id != first_pipeline
    assert (shown["draft"], shown["detailed_merge_status"]) == (True, "draft_status")
    merged = seeded.merge(PROJECT, mr.iid, by="alice")
    assert seeded.file(PROJECT, "main", "deploy/values.yaml") == "tag: v5\n"
    assert seeded.merge_request(PROJECT, mr.iid)["merge_commit_sha"] == merged


async def test_notes_and_discussions(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """Notes are created and edited; a thread is resolvable and resolved by PUT."""
    mr = seeded.add_merge_request(PROJECT, source_branch="bump", author="alice")
    base = f"/projects/{ENCODED}/merge_requests/{mr.iid}"
    note = await gl.post(f"{base}/notes", data={"body": "Plan: 1 to change"})
    assert (note["noteable_id"], note["noteable_iid"], note["noteable_type"]) == (
        mr.id,
        mr.iid,
        "MergeRequest",
    )
    edited = await gl.put(f"{base}/notes/{note['id']}", data={"body": "Plan: 2 to change"})
    assert edited["body"] == "Plan: 2 to change"
    assert (await gl.getitem(f"{base}/notes/{note['id']}"))["body"] == "Plan: 2 to change"
    thread = await gl.post(f"{base}/discussions", data={"body": "Blocked until approved"})
    assert thread["individual_note"] is False
    assert (thread["notes"][0]["resolvable"], thread["notes"][0]["resolved"]) == (True, False)
    resolved = await gl.put(f"{base}/discussions/{thread['id']}", data={"resolved": True})
    assert resolved["notes"][0]["resolved"] is True
    threads = await gl.getitem(f"{base}/discussions")
    assert [t["individual_note"] for t in threads] == [True, False]
    seeded.approve(PROJECT, mr.iid, user="carol")
    approvals = await gl.getitem(f"{base}/approvals")
    assert approvals["approved"] is True
    assert approvals["approved_by"][0]["user"]["username"] == "carol"


# Pipelines


async def test_pipelines(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """Pipelines start by API (variables list) or trigger token (variables[KEY] form fields)."""
    seeded.add_trigger_token(PROJECT, "glptt-secret")
    seeded.push(PROJECT, "release", {"a.txt": "a\n"}, author="alice")
    made = await gl.post(
        f"/projects/{ENCODED}/pipeline",
        data={"ref": "release", "variables": [{"key": "ENV", "value": "prod"}]},
    )
    assert (made["status"], made["source"], made["ref"]) == ("created", "api", "release")
    assert (await gl.getitem(f"/projects/{ENCODED}/pipelines/{made['id']}"))["id"] == made["id"]
    url = f"{seeded.url}/api/v4/projects/{ENCODED}/trigger/pipeline"
    form = {"token": "glptt-secret", "ref": "main", "variables[PROMOTE]": "v2"}
    session = gl._session
    async with session.post(aiohttp.client.URL(url, encoded=True), data=form) as response:
        assert response.status == 201
    form["token"] = "glptt-wrong"
    async with session.post(aiohttp.client.URL(url, encoded=True), data=form) as response:
        assert response.status == 404
    variables = [p["variables"] for p in seeded.pipelines(PROJECT)]
    assert variables == [
        [{"key": "ENV", "value": "prod", "variable_type": "env_var"}],
        [{"key": "PROMOTE", "value": "v2", "variable_type": "env_var"}],
    ]
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.post(f"/projects/{ENCODED}/pipeline", data={"ref": "nope"})
    assert raised.value.status_code == 400


# Webhook payloads


def keys(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value (lists by their first item)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            found.add(prefix + key)
            found |= keys(inner, f"{prefix}{key}.")
    elif isinstance(value, list) and value:
        found |= keys(value[0], prefix)
    return found


async def test_webhook_payloads_keep_the_documented_shape(seeded: FakeGitLab) -> None:
    """Built payloads have every key of GitLab's documented examples, filled from the state."""
    mr = seeded.add_merge_request(PROJECT, source_branch="bump", author="alice", labels=["deploy"])
    note = seeded.add_note(PROJECT, mr.iid, author="alice", body="/ferrybot plan")
    before = seeded.branch_head(PROJECT, "bump")
    after = seeded.push(PROJECT, "bump", {"x.txt": "x\n"}, author="alice")
    assert before is not None
    built = {
        "merge_request": seeded.merge_request_hook(PROJECT, mr.iid, "open", user="alice"),
        "note_merge_request": seeded.note_hook(PROJECT, mr.iid, note),
        "push": seeded.push_hook(PROJECT, "bump", before, after, user="alice"),
        "deployment": seeded.deployment_hook(
            PROJECT, status="success", environment="production", sha=after, user=BOT
        ),
    }
    for name, payload in built.items():
        documented = json.loads((EXAMPLES / f"{name}.json").read_text())
        # Nobody is assigned or reviewing in the fake, and no change is claimed by default.
        unfilled = ("changes.", "assignees", "reviewers", "merge_request.assignee")
        missing = {k for k in keys(documented) - keys(payload) if not k.startswith(unfilled)}
        assert not missing, (name, missing)
    hook = built["merge_request"]["object_attributes"]
    assert (hook["iid"], hook["last_commit"]["id"], hook["action"]) == (mr.iid, after, "open")
    assert [label["title"] for label in hook["labels"]] == ["deploy"]
    assert hook["head_pipeline_id"] == seeded.merge_request(PROJECT, mr.iid)["head_pipeline"]["id"]
    assert built["note_merge_request"]["object_attributes"]["note"] == "/ferrybot plan"
    assert built["note_merge_request"]["merge_request"]["iid"] == mr.iid
    assert [c["id"] for c in built["push"]["commits"]] == [after]
    assert built["deployment"]["environment_tier"] == "production"
    update = seeded.merge_request_hook(
        PROJECT,
        mr.iid,
        "update",
        user="alice",
        changes={"labels": {"previous": [], "current": ["deploy"]}},
    )
    current = update["changes"]["labels"]["current"]
    assert [(label["title"], label["type"]) for label in current] == [("deploy", "ProjectLabel")]


# Roles and protected branches


async def test_roles(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI, session: aiohttp.ClientSession
) -> None:
    """Private projects hide from non-members (404); a Reporter may read but not set statuses."""
    seeded.add_token("glpat-reporter", "rita")
    seeded.add_token("glpat-stranger", "sam")
    seeded.add_member(PROJECT, "rita", 20)
    sha = seeded.push(PROJECT, "feature", {"a.txt": "a\n"}, author="alice")
    as_sam = {"PRIVATE-TOKEN": "glpat-stranger"}
    status, body, _ = await call(seeded, session, "GET", f"/projects/{ENCODED}", headers=as_sam)
    assert (status, body) == (404, {"message": "404 Project Not Found"})
    as_rita = {"PRIVATE-TOKEN": "glpat-reporter"}
    status, _, _ = await call(
        seeded, session, "GET", f"/projects/{ENCODED}/repository/commits/{sha}", headers=as_rita
    )
    assert status == 200
    status, body, _ = await call(
        seeded,
        session,
        "POST",
        f"/projects/{ENCODED}/statuses/{sha}",
        headers=as_rita,
        json={"state": "running"},
    )
    assert (status, body) == (403, {"message": "403 Forbidden"})


async def test_protected_default_branch(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI
) -> None:
    """On the protected default branch only a Maintainer commits, sets statuses, runs CI."""
    main = seeded.branch_head(PROJECT, "main")
    actions = [{"action": "create", "file_path": "n.txt", "content": "n"}]
    commit = {"branch": "main", "commit_message": "m", "actions": actions}
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.post(f"/projects/{ENCODED}/repository/commits", data=commit)
    assert str(raised.value) == "403 Forbidden - You are not allowed to push into this branch"
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await post_status(gl, main, state="running")
    assert raised.value.status_code == 403
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.post(f"/projects/{ENCODED}/pipeline", data={"ref": "main"})
    assert raised.value.status_code == 400
    seeded.add_member(PROJECT, BOT, 40)
    made = await gl.post(f"/projects/{ENCODED}/repository/commits", data=commit)
    assert (await post_status(gl, made["id"], state="running"))["ref"] == "main"
    assert (await gl.post(f"/projects/{ENCODED}/pipeline", data={"ref": "main"}))["sha"] == (
        made["id"]
    )


@pytest.mark.parametrize(
    "target_url",
    ["git://example.com/x", "https://example.com/" + "x" * 250],
    ids=["not-http", "too-long"],
)
async def test_status_target_url_rules(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI, target_url: str
) -> None:
    """A target_url that is not http(s) or over 255 characters is a 400, and a violation."""
    sha = seeded.push(PROJECT, "feature", {"a.txt": "a\n"}, author="alice")
    with seeded.expect_violations(), pytest.raises(gidgetlab.BadRequest) as raised:
        await post_status(gl, sha, state="running", target_url=target_url)
    assert raised.value.status_code == 400
    assert seeded.statuses(PROJECT, sha) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"branch": "feature", "start_branch": "main"},
            "A branch called 'feature' already exists. "
            "Switch to that branch in order to make changes",
        ),
        ({"branch": "new"}, "You can only create or edit files when you are on a branch"),
        (
            {"branch": "new", "start_branch": "main", "start_sha": "0" * 40},
            "You can't pass both start_branch and start_sha",
        ),
    ],
    ids=["existing-branch-other-start", "new-branch-without-start", "start-branch-and-sha"],
)
async def test_commit_branch_rules(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI, fields: dict[str, str], message: str
) -> None:
    """Commits::CreateService's branch checks answer 400 with its messages."""
    seeded.push(PROJECT, "feature", {"a.txt": "a\n"}, author="alice")
    actions = [{"action": "create", "file_path": "n.txt", "content": "n"}]
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.post(
            f"/projects/{ENCODED}/repository/commits",
            data={**fields, "commit_message": "m", "actions": actions},
        )
    assert (raised.value.status_code, str(raised.value)) == (400, message)


async def test_commit_from_start_sha_and_force(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI
) -> None:
    """start_sha starts a new branch there; force resets an existing branch to the start."""
    main = seeded.branch_head(PROJECT, "main")
    seeded.push(PROJECT, "feature", {"a.txt": "a\n"}, author="alice")
    actions = [{"action": "create", "file_path": "n.txt", "content": "n"}]
    made = await gl.post(
        f"/projects/{ENCODED}/repository/commits",
        data={"branch": "from-sha", "start_sha": main, "commit_message": "m", "actions": actions},
    )
    assert made["parent_ids"] == [main]
    forced = await gl.post(
        f"/projects/{ENCODED}/repository/commits",
        data={
            "branch": "feature",
            "start_branch": "main",
            "force": True,
            "commit_message": "m",
            "actions": actions,
        },
    )
    assert forced["parent_ids"] == [main]
    assert seeded.file(PROJECT, "feature", "a.txt") is None


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("main", "main", ["You can't use same project/branch for source and target"]),
        ("nope", "main", ['Source branch "nope" does not exist']),
        ("feature", "gone", ['Target branch "gone" does not exist']),
    ],
    ids=["same-branch", "missing-source", "missing-target"],
)
async def test_mr_branch_errors(
    seeded: FakeGitLab,
    session: aiohttp.ClientSession,
    source: str,
    target: str,
    message: list[str],
) -> None:
    """Bad MR branches are 422 with GitLab's list of messages."""
    seeded.push(PROJECT, "feature", {"a.txt": "a\n"}, author="alice")
    status, body, _ = await call(
        seeded,
        session,
        "POST",
        f"/projects/{ENCODED}/merge_requests",
        json={"source_branch": source, "target_branch": target, "title": "t"},
    )
    assert (status, body) == (422, {"message": message})


async def test_head_is_served_like_get(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """HEAD answers a GET route's headers (gidgetlab's head() returns them)."""
    headers = await gl.head(f"/projects/{ENCODED}/merge_requests")
    assert headers["x-total"] == "0"


async def test_users_lookup(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """GET /users?username= finds one user ignoring case; /users/:id shows one; blocked shows."""
    alice = seeded.add_user("Alice", state="blocked")
    found = [u async for u in gl.getiter("/users", {"username": "alice"})]
    assert [(u["id"], u["state"]) for u in found] == [(alice.id, "blocked")]
    assert [u async for u in gl.getiter("/users", {"username": "nobody"})] == []
    assert (await gl.getitem(f"/users/{alice.id}"))["username"] == "Alice"
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.getitem("/users/999")
    assert str(raised.value) == "404 User Not Found"
    seeded.add_member(PROJECT, "Alice", 40)
    member = await gl.getitem(f"/projects/{ENCODED}/members/all/{alice.id}")
    assert (member["state"], member["access_level"]) == ("blocked", 40)


# Webhook delivery


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[TestServer, list[tuple[dict[str, str], bytes]]]]:
    """A webhook receiver on 127.0.0.1 that keeps what it was sent."""
    received: list[tuple[dict[str, str], bytes]] = []

    async def keep(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/webhooks/gitlab", keep)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, received
    await server.close()


async def test_webhook_delivery_passes_ferrybots_ingress(
    seeded: FakeGitLab, receiver: tuple[TestServer, list[tuple[dict[str, str], bytes]]]
) -> None:
    """Signed deliveries and their resend pass ferrybot's ingress as one delivery."""
    server, received = receiver
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    url = str(server.make_url("/webhooks/gitlab"))
    seeded.add_project_hook(PROJECT, url, token="hook-token", signing_token=secret)
    mr = seeded.add_merge_request(PROJECT, source_branch="bump", author="alice")
    payload = seeded.merge_request_hook(PROJECT, mr.iid, "open", user="alice")
    [first] = await seeded.send_webhook(PROJECT, payload)
    again = await seeded.redeliver(first)
    assert (first.status, again.status) == (202, 202)
    assert first.headers["X-Gitlab-Event"] == "Merge Request Hook"
    assert again.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    settings = Settings(gitlab_webhook_tokens="hook-token", gitlab_signing_secrets=secret)
    envelopes = [gitlab_envelope(headers, body, settings) for headers, body in received]
    assert [e.id for e in envelopes] == [f"gitlab:{first.headers['Idempotency-Key']}"] * 2
    assert envelopes[0].subject.endswith(f"!{mr.iid}")
    assert seeded.webhook_deliveries == [first, again]


async def test_webhook_delivery_to_nowhere_is_logged(seeded: FakeGitLab) -> None:
    """A receiver that is not listening is a logged failed delivery, not an exception."""
    seeded.add_project_hook(PROJECT, "http://127.0.0.1:9/webhooks/gitlab", token="t")
    before = seeded.branch_head(PROJECT, "main")
    after = seeded.push(PROJECT, "main", {"a.txt": "a"}, author="alice")
    assert before is not None
    payload = seeded.push_hook(PROJECT, "main", before, after, user="alice")
    [delivery] = await seeded.send_webhook(PROJECT, payload)
    assert delivery.status is None
    assert delivery.error is not None
    assert delivery.payload["after"] == after


async def test_merge_request_pipelines(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """An MR pipeline's ref is refs/merge-requests/<iid>/head, so ref=<branch> misses it."""
    mr = seeded.add_merge_request(
        PROJECT, source_branch="bump", author="alice", pipeline_source="merge_request_event"
    )
    shown = await gl.getitem(f"/projects/{ENCODED}/merge_requests/{mr.iid}")
    assert shown["head_pipeline"]["ref"] == f"refs/merge-requests/{mr.iid}/head"
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await post_status(gl, mr.sha, state="running", ref="bump", pipeline_id=mr.head_pipeline_id)
    assert raised.value.status_code == 404
    posted = await post_status(gl, mr.sha, state="running", pipeline_id=mr.head_pipeline_id)
    assert (posted["pipeline_id"], posted["ref"]) == (
        mr.head_pipeline_id,
        shown["head_pipeline"]["ref"],
    )
    assert mr.head_pipeline_id is not None
    hook = seeded.pipeline_hook(PROJECT, mr.head_pipeline_id)
    assert hook["merge_request"]["iid"] == mr.iid
    assert hook["object_attributes"]["ref"] == "bump"
    assert [b["name"] for b in hook["builds"]] == ["default"]
    documented = json.loads((EXAMPLES / "pipeline.json").read_text())
    unfilled = ("source_pipeline", "object_attributes.variables.")  # no upstream, no variables
    missing = {k for k in keys(documented) - keys(hook) if not k.startswith(unfilled)}
    assert not missing


async def test_merge_api(seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI) -> None:
    """Merging checks role (401), sha (409) and draft (405), and can wait for the pipeline."""
    mr = seeded.add_merge_request(
        PROJECT, source_branch="bump", author="alice", files={"deploy/values.yaml": "tag: v7\n"}
    )
    url = f"/projects/{ENCODED}/merge_requests/{mr.iid}/merge"
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.put(url, data={"sha": mr.sha})
    assert raised.value.status_code == 401
    seeded.add_member(PROJECT, BOT, 40)
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.put(url, data={"sha": "0" * 40})
    assert (raised.value.status_code, str(raised.value)) == (
        409,
        f"SHA does not match HEAD of source branch: {mr.sha}",
    )
    waiting = await gl.put(url, data={"sha": mr.sha, "merge_when_pipeline_succeeds": True})
    assert (waiting["state"], waiting["merge_when_pipeline_succeeds"]) == ("opened", True)
    assert mr.head_pipeline_id is not None
    seeded.set_pipeline_status(PROJECT, mr.head_pipeline_id, "success")
    merged = seeded.merge_request(PROJECT, mr.iid)
    assert merged["state"] == "merged"
    assert seeded.branch_head(PROJECT, "main") == merged["merge_commit_sha"]
    assert seeded.file(PROJECT, "main", "deploy/values.yaml") == "tag: v7\n"
    draft = seeded.add_merge_request(PROJECT, source_branch="wip", author="alice", draft=True)
    with pytest.raises(gidgetlab.BadRequest) as raised:
        await gl.put(f"/projects/{ENCODED}/merge_requests/{draft.iid}/merge", data={})
    assert (raised.value.status_code, str(raised.value)) == (405, "405 Method Not Allowed")
    squashed = seeded.add_merge_request(PROJECT, source_branch="sq", author="alice")
    done = await gl.put(
        f"/projects/{ENCODED}/merge_requests/{squashed.iid}/merge",
        data={"squash": True, "should_remove_source_branch": True},
    )
    assert done["squash_commit_sha"] == seeded.branch_head(PROJECT, "main")
    assert seeded.branch_head(PROJECT, "sq") is None


async def test_pipeline_lists_and_note_deletion(
    seeded: FakeGitLab, gl: gidgetlab.aiohttp.GitLabAPI
) -> None:
    """Pipelines list by project (filtered) and by MR; a note's author deletes it (204)."""
    mr = seeded.add_merge_request(PROJECT, source_branch="bump", author="alice")
    seeded.push(PROJECT, "bump", {"b.txt": "b"}, author="alice")
    other = seeded.add_merge_request(PROJECT, source_branch="other", author="alice")
    of_mr = await gl.getitem(f"/projects/{ENCODED}/merge_requests/{mr.iid}/pipelines")
    assert [p["ref"] for p in of_mr] == ["bump", "bump"]
    running = await gl.getitem(f"/projects/{ENCODED}/pipelines", {"ref": "other"})
    assert [p["id"] for p in running] == [other.head_pipeline_id]
    note = await gl.post(f"/projects/{ENCODED}/merge_requests/{mr.iid}/notes", data={"body": "x"})
    await gl.delete(f"/projects/{ENCODED}/merge_requests/{mr.iid}/notes/{note['id']}")
    assert seeded.notes(PROJECT, mr.iid) == []


async def test_default_seed_of_the_standalone_fake(
    fake_gitlab: FakeGitLab, session: aiohttp.ClientSession
) -> None:
    """The standalone fake's default seed gives ferrybot a project with an open MR."""
    apply_seed(fake_gitlab, DEFAULT_SEED)
    gl = gidgetlab.aiohttp.GitLabAPI(session, BOT, access_token=DEMO_TOKEN, url=fake_gitlab.url)
    mr = await gl.getitem("/projects/acme%2Fapp/merge_requests/1")
    assert (mr["title"], mr["author"]["username"]) == ("Bump image to v2", "alice")
