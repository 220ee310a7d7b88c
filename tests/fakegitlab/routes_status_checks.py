"""External status checks (Ultimate; doc/api/status_checks.md): the responses a service sets."""

from __future__ import annotations

from tests.fakegitlab.params import Param
from tests.fakegitlab.routing import ApiRequest, GitLabError, Reply, RouteTable, not_found
from tests.fakegitlab.state import DEVELOPER, REPORTER

routes = RouteTable()


@routes(
    "POST",
    "/projects/:id/merge_requests/:merge_request_iid/status_check_responses",
    [
        Param("sha", required=True),
        Param("external_status_check_id", "integer", required=True),
        Param("status", values=("passed", "failed", "pending")),
    ],
)
def set_status_check_response(request: ApiRequest) -> Reply:
    """ "Set status of an external status check": the sha must be the MR's head (409 if not,
    ee/lib/api/status_checks.rb), the check one of the project's (404)."""
    project = request.project(DEVELOPER)
    mr = request.merge_request(project)
    check_id = request.params["external_status_check_id"]
    check = project.external_status_checks.get(check_id)
    if check is None:
        raise not_found("External status check")
    if request.params["sha"] != mr.sha:
        raise GitLabError(409, "409 Conflict")
    status = request.params.get("status") or "passed"
    mr.status_check_responses.append({"check": check_id, "sha": mr.sha, "status": status})
    return Reply(
        201,
        {
            "id": len(mr.status_check_responses),
            "merge_request": {"id": mr.id, "iid": mr.iid, "project_id": project.id},
            "external_status_check": {
                "id": check_id,
                "name": check.name,
                "external_url": check.url,
            },
        },
    )


@routes(
    "GET",
    "/projects/:id/merge_requests/:merge_request_iid/status_checks",
    paginated=True,
)
def list_status_checks(request: ApiRequest) -> Reply:
    """ "List status checks for a merge request": each check with its latest status for the head."""
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    listed = []
    for check_id, check in sorted(project.external_status_checks.items()):
        answers = [a for a in mr.status_check_responses if a["check"] == check_id]
        current = [a["status"] for a in answers if a["sha"] == mr.sha]
        listed.append(
            {
                "id": check_id,
                "name": check.name,
                "external_url": check.url,
                "status": current[-1] if current else "pending",
            }
        )
    return request.page(listed)
