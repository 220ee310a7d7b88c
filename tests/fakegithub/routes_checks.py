"""Check runs, check suites and commit statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.fakegithub import render
from tests.fakegithub.queries import resolve_ref
from tests.fakegithub.routing import (
    NOT_FOUND,
    ApiRequest,
    GitHubError,
    Reply,
    RouteTable,
    validation_failed,
)
from tests.fakegithub.state import CheckRun, Repo, Status, now

routes = RouteTable()
_STATUS_DESCRIPTION_LIMIT = 140


def _commit(req: ApiRequest, repo: Repo, ref: str) -> str:
    sha = resolve_ref(req.state, repo, ref)
    if sha is None:
        raise validation_failed(f"No commit found for SHA: {ref}", "Commit", "sha")
    return sha


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def _apply(run: CheckRun, body: dict[str, Any]) -> None:
    """Apply create/update fields with GitHub's implied transitions."""
    for name in ("name", "details_url", "external_id", "output", "actions"):
        if name in body:
            setattr(run, name, body[name])
    if "started_at" in body:
        run.started_at = _when(body["started_at"])
    if "status" in body:
        run.status = body["status"]
    if "conclusion" in body:
        # Giving a conclusion completes the run, whatever status says.
        run.conclusion = body["conclusion"]
        run.status = "completed"
    if run.status == "completed":
        if run.conclusion is None:
            raise validation_failed(
                "Conclusion can't be blank when status is completed",
                "CheckRun",
                "conclusion",
                violation=True,
            )
        run.completed_at = _when(body.get("completed_at")) or run.completed_at or now()
    elif run.status == "in_progress" and run.started_at is None:
        run.started_at = now()


@routes("POST /repos/{owner}/{repo}/check-runs")
def create_check_run(req: ApiRequest) -> Reply:
    req.require_app_installation()
    repo = req.repo()
    body = req.body
    sha = _commit(req, repo, body["head_sha"])
    if sha != body["head_sha"]:
        raise validation_failed(
            f"No commit found for SHA: {body['head_sha']}", "CheckRun", "head_sha", violation=True
        )
    assert req.token is not None and req.token.app_id is not None
    suite = req.fake.check_suite_for(repo, req.token.app_id, sha, None)
    run = CheckRun(
        id=req.state.next_id(),
        repo=repo.full_name,
        suite_id=suite.id,
        app_id=req.token.app_id,
        name=body["name"],
        head_sha=sha,
        started_at=now(),
    )
    _apply(run, {"status": "queued", **body})
    req.state.check_runs[run.id] = run
    suite.updated_at = now()
    return Reply(201, render.check_run(req.state, req.base_url, repo, run))


def _own_run(req: ApiRequest, repo: Repo) -> CheckRun:
    run = req.state.check_runs.get(req.path["check_run_id"])
    if run is None or run.repo != repo.full_name:
        raise GitHubError(404, NOT_FOUND)
    return run


@routes("GET /repos/{owner}/{repo}/check-runs/{check_run_id}")
def get_check_run(req: ApiRequest) -> Reply:
    repo = req.repo()
    return Reply(200, render.check_run(req.state, req.base_url, repo, _own_run(req, repo)))


@routes("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(req: ApiRequest) -> Reply:
    req.require_app_installation()
    repo = req.repo()
    run = _own_run(req, repo)
    assert req.token is not None
    if run.app_id != req.token.app_id:
        # Only the app that created a check run may change it.
        raise GitHubError(403, "Resource not accessible by integration")
    _apply(run, req.body)
    req.state.check_suites[run.suite_id].updated_at = now()
    return Reply(200, render.check_run(req.state, req.base_url, repo, run))


@routes("GET /repos/{owner}/{repo}/commits/{ref}/check-runs")
def list_check_runs_for_ref(req: ApiRequest) -> Reply:
    repo = req.repo()
    sha = _commit(req, repo, req.path["ref"])
    q = req.query
    runs = [
        run
        for run in req.state.check_runs.values()
        if run.repo == repo.full_name
        and run.head_sha == sha
        and q.get("check_name") in (None, run.name)
        and q.get("status") in (None, run.status)
        and q.get("app_id") in (None, run.app_id)
    ]
    if q["filter"] == "latest":
        latest: dict[tuple[int, str], CheckRun] = {}
        for run in runs:
            latest[(run.app_id, run.name)] = run
        runs = list(latest.values())
    runs.sort(key=lambda run: run.id, reverse=True)
    page, headers = req.page(runs)
    body = {
        "total_count": len(runs),
        "check_runs": [render.check_run(req.state, req.base_url, repo, run) for run in page],
    }
    return Reply(200, body, headers)


@routes("GET /repos/{owner}/{repo}/commits/{ref}/check-suites")
def list_check_suites_for_ref(req: ApiRequest) -> Reply:
    repo = req.repo()
    sha = _commit(req, repo, req.path["ref"])
    q = req.query
    suites = [
        suite
        for suite in req.state.check_suites.values()
        if suite.repo == repo.full_name
        and suite.head_sha == sha
        and q.get("app_id") in (None, suite.app_id)
        and (
            "check_name" not in q
            or any(
                r.suite_id == suite.id and r.name == q["check_name"]
                for r in req.state.check_runs.values()
            )
        )
    ]
    page, headers = req.page(suites)
    body = {
        "total_count": len(suites),
        "check_suites": [
            render.check_suite(req.state, req.base_url, repo, suite) for suite in page
        ],
    }
    return Reply(200, body, headers)


@routes("POST /repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest")
def rerequest_check_suite(req: ApiRequest) -> Reply:
    req.require_app_installation()
    repo = req.repo()
    suite = req.state.check_suites.get(req.path["check_suite_id"])
    if suite is None or suite.repo != repo.full_name:
        raise GitHubError(404, NOT_FOUND)
    suite.rerequested += 1
    return Reply(201, {})


@routes("POST /repos/{owner}/{repo}/statuses/{sha}")
def create_status(req: ApiRequest) -> Reply:
    repo = req.repo()
    sha = _commit(req, repo, req.path["sha"])
    body = req.body
    description = body.get("description")
    if description is not None and len(description) > _STATUS_DESCRIPTION_LIMIT:
        raise validation_failed(
            "description is too long (maximum is 140 characters)",
            "Status",
            "description",
            violation=True,
        )
    item = Status(
        id=req.state.next_id(),
        repo=repo.full_name,
        sha=sha,
        state=body["state"],
        context=body.get("context") or "default",
        creator=req.login,
        description=description,
        target_url=body.get("target_url"),
    )
    repo.statuses.append(item)
    return Reply(201, render.status(req.state, req.base_url, repo, item))


@routes("GET /repos/{owner}/{repo}/commits/{ref}/statuses")
def list_statuses_for_ref(req: ApiRequest) -> Reply:
    repo = req.repo()
    sha = _commit(req, repo, req.path["ref"])
    newest_first = [item for item in reversed(repo.statuses) if item.sha == sha]
    page, headers = req.page(newest_first)
    return Reply(
        200, [render.status(req.state, req.base_url, repo, item) for item in page], headers
    )


@routes("GET /repos/{owner}/{repo}/commits/{ref}/status")
def get_combined_status(req: ApiRequest) -> Reply:
    repo = req.repo()
    sha = _commit(req, repo, req.path["ref"])
    latest: dict[str, Status] = {}
    for item in repo.statuses:
        if item.sha == sha:
            latest[item.context] = item
    states = {item.state for item in latest.values()}
    if states & {"error", "failure"}:
        combined = "failure"
    elif not states or "pending" in states:
        combined = "pending"
    else:
        combined = "success"
    page, headers = req.page(list(latest.values()))
    body = {
        "state": combined,
        "sha": sha,
        "total_count": len(latest),
        "statuses": [render.status(req.state, req.base_url, repo, item) for item in page],
        "repository": render.repo(req.state, req.base_url, repo),
        "commit_url": f"{req.base_url}/repos/{repo.full_name}/commits/{sha}",
        "url": f"{req.base_url}/repos/{repo.full_name}/commits/{sha}/status",
    }
    return Reply(200, body, headers)
