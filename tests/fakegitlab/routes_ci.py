"""Routes for commit statuses, pipelines and pipeline triggers."""

from __future__ import annotations

from tests.fakegitlab import ci, render
from tests.fakegitlab.params import Param
from tests.fakegitlab.routing import (
    ApiRequest,
    GitLabError,
    Reply,
    RouteTable,
    not_found,
    record_not_found,
)
from tests.fakegitlab.state import DEVELOPER, MAINTAINER, REPORTER, NotFound

routes = RouteTable()


@routes(
    "POST",
    "/projects/:id/statuses/:sha",
    [
        Param("state", required=True, values=ci.STATES),
        Param("ref"),
        Param("target_url"),
        Param("description"),
        Param("name", alias="context"),
        Param("coverage", "float"),
        Param("pipeline_id", "integer"),
    ],
)
def set_status(request: ApiRequest) -> Reply:
    project = request.project(DEVELOPER)
    row = ci.set_status(
        request.state,
        project,
        request.path["sha"],
        request.params,
        request.author,
        may_write_protected=request.level(project) >= MAINTAINER,
    )
    return Reply(201, render.status(request.web_url, row))


@routes(
    "GET",
    "/projects/:id/repository/commits/:sha/statuses",
    [
        Param("ref"),
        Param("stage"),
        Param("name"),
        Param("pipeline_id", "integer"),
        Param("all", "boolean"),
        Param("order_by", values=("id", "pipeline_id")),
        Param("sort", values=("asc", "desc")),
    ],
    paginated=True,
)
def list_statuses(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    params = request.params
    try:
        sha = project.commit(request.path["sha"]).sha
    except NotFound:
        raise not_found("Commit") from None
    rows = [
        s
        for s in project.statuses
        if s.sha == sha
        and params.get("ref") in (None, s.ref)
        and params.get("name") in (None, s.name)
        and params.get("pipeline_id") in (None, s.pipeline_id)
        and params.get("stage") in (None, "external")
    ]
    if not params.get("all"):
        rows = ci.latest(rows)
    if params.get("sort") == "desc":
        rows.reverse()
    return request.page([render.status(request.web_url, row) for row in rows])


VARIABLE = (
    Param("key", required=True),
    Param("value", required=True),
    Param("variable_type", values=("env_var", "file")),
)


@routes(
    "POST",
    "/projects/:id/pipeline",
    [
        Param("ref", required=True),
        Param("variables", "hashes", fields=VARIABLE),
        Param("inputs", "hash"),
    ],
)
def create_pipeline(request: ApiRequest) -> Reply:
    project = request.project(DEVELOPER)
    ref = request.params["ref"]
    if ref not in project.branches:
        raise GitLabError(400, {"base": ["Reference not found"]})
    if project.protected(ref) and request.level(project) < MAINTAINER:
        raise GitLabError(400, {"base": ["Insufficient permissions for protected ref"]})
    variables = [
        {"key": v["key"], "value": v["value"], "variable_type": v.get("variable_type") or "env_var"}
        for v in request.params.get("variables") or []
    ]
    pipeline = ci.new_pipeline(
        request.state,
        project,
        sha=project.branches[ref],
        ref=ref,
        status="created",
        source="api",
        user=request.author,
        variables=variables,
    )
    return Reply(201, render.pipeline(request.web_url, project, pipeline))


@routes(
    "POST",
    "/projects/:id/trigger/pipeline",
    [
        Param("ref", required=True, allow_blank=False),
        Param("token", required=True),
        Param("variables", "hash"),
        Param("inputs", "hash"),
    ],
    auth="trigger",
)
def trigger_pipeline(request: ApiRequest) -> Reply:
    """lib/api/ci/triggers.rb: the trigger token authenticates; a wrong one is not_found!."""
    raw_variables = request.params.get("variables") or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw_variables.items()):
        raise GitLabError(400, "variables needs to be a map of key-valued strings", violation=True)
    try:
        project = request.project(None)
    except GitLabError:
        raise not_found() from None
    if request.params["token"] not in project.trigger_tokens:
        raise not_found()
    ref = request.params["ref"]
    if ref not in project.branches:
        raise GitLabError(400, "Reference not found")
    variables = [
        {"key": str(k), "value": str(v), "variable_type": "env_var"}
        for k, v in raw_variables.items()
    ]
    pipeline = ci.new_pipeline(
        request.state,
        project,
        sha=project.branches[ref],
        ref=ref,
        status="created",
        source="trigger",
        user=None,
        variables=variables,
    )
    return Reply(201, render.pipeline(request.web_url, project, pipeline))


PIPELINE_STATUSES = (
    "created",
    "waiting_for_resource",
    "preparing",
    "pending",
    "running",
    "success",
    "failed",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
)


@routes(
    "GET",
    "/projects/:id/pipelines",
    [
        Param("scope", values=("running", "pending", "finished", "branches", "tags")),
        Param("status", values=PIPELINE_STATUSES),
        Param("source"),
        Param("ref"),
        Param("sha"),
        Param("username"),
        Param("order_by", values=("id", "status", "ref", "updated_at", "user_id")),
        Param("sort", values=("asc", "desc")),
    ],
    paginated=True,
)
def list_pipelines(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    params = request.params
    found = [
        p
        for p in sorted(project.pipelines.values(), key=lambda p: p.id, reverse=True)
        if params.get("status") in (None, p.status)
        and params.get("source") in (None, p.source)
        and params.get("ref") in (None, p.ref)
        and params.get("sha") in (None, p.sha)
        and params.get("username") in (None, p.user.username if p.user else None)
    ]
    if params.get("sort") == "asc":
        found.reverse()
    return request.page([render.pipeline(request.web_url, project, p) for p in found])


@routes("GET", "/projects/:id/pipelines/:pipeline_id")
def get_pipeline(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    pipeline = project.pipelines.get(request.path_int("pipeline_id"))
    if pipeline is None:
        raise record_not_found()
    return Reply(200, render.pipeline(request.web_url, project, pipeline))
