"""Routes for merge requests, their diffs, notes, threads, approvals and emoji on notes."""

from __future__ import annotations

from typing import Any

from tests.fakegitlab import render
from tests.fakegitlab.params import Param
from tests.fakegitlab.repository import diffs, history
from tests.fakegitlab.routing import (
    ApiRequest,
    GitLabError,
    Reply,
    RouteTable,
    not_found,
    record_not_found,
)
from tests.fakegitlab.state import (
    DEVELOPER,
    MAINTAINER,
    REPORTER,
    Award,
    Discussion,
    MergeRequest,
    Note,
    Project,
    discussion_id,
    iso,
    now,
)

routes = RouteTable()

# doc/api/notes.md: "The maximum size of a note body is 1,000,000 characters."
NOTE_MAX = 1_000_000
STATES = ("opened", "closed", "locked", "merged", "all")


def answer(request: ApiRequest, project: Project, mr: MergeRequest) -> dict[str, Any]:
    head = project.pipelines.get(mr.head_pipeline_id) if mr.head_pipeline_id else None
    return render.merge_request(request.web_url, project, mr, head)


@routes(
    "GET",
    "/projects/:id/merge_requests",
    [
        Param("state", values=STATES),
        Param("source_branch"),
        Param("target_branch"),
        Param("labels", "csv"),
        Param(
            "order_by",
            values=(
                "created_at",
                "updated_at",
                "title",
                "merged_at",
                "label_priority",
                "milestone_due",
                "popularity",
                "priority",
            ),
        ),
        Param("sort", values=("asc", "desc")),
        Param("scope", values=("created_by_me", "assigned_to_me", "reviews_for_me", "all")),
        Param("view", values=("simple",)),
        Param("iids", "csv"),
        Param("author_username"),
        Param("search"),
        Param("with_labels_details", "boolean"),
    ],
    paginated=True,
)
def list_merge_requests(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    params = request.params
    found = sorted(project.merge_requests.values(), key=lambda mr: mr.created_at, reverse=True)
    state = params.get("state", "all")
    wanted_labels = set(params.get("labels") or ())
    iids = {int(i) for i in params.get("iids") or () if i.isdigit()}
    found = [
        mr
        for mr in found
        if (state == "all" or mr.state == state)
        and params.get("source_branch") in (None, mr.source_branch)
        and params.get("target_branch") in (None, mr.target_branch)
        and params.get("author_username") in (None, mr.author.username)
        and wanted_labels <= set(mr.labels)
        and (not iids or mr.iid in iids)
    ]
    if params.get("sort") == "asc":
        found.reverse()
    return request.page([answer(request, project, mr) for mr in found])


@routes(
    "GET",
    "/projects/:id/merge_requests/:merge_request_iid",
    [
        Param("render_html", "boolean"),
        Param("include_diverged_commits_count", "boolean"),
        Param("include_rebase_in_progress", "boolean"),
    ],
)
def get_merge_request(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    return Reply(200, answer(request, project, request.merge_request(project)))


@routes(
    "POST",
    "/projects/:id/merge_requests",
    [
        Param("source_branch", required=True),
        Param("target_branch", required=True),
        Param("title", required=True),
        Param("description"),
        Param("labels", "csv"),
        Param("remove_source_branch", "boolean"),
        Param("squash", "boolean"),
        Param("assignee_id", "integer"),
        Param("assignee_ids", "integers"),
        Param("reviewer_ids", "integers"),
        Param("target_project_id", "integer"),
        Param("allow_collaboration", "boolean"),
    ],
)
def create_merge_request(request: ApiRequest) -> Reply:
    project = request.project(DEVELOPER)
    params = request.params
    source, target = params["source_branch"], params["target_branch"]
    # MergeRequests::BuildService and MergeRequest#validate_branches; the API answers the
    # :branch_conflict and :base errors 422 and :validate_branches 409, as lists.
    if source == target:
        raise GitLabError(422, ["You can't use same project/branch for source and target"])
    missing = [
        f'{role} branch "{name}" does not exist'
        for role, name in (("Source", source), ("Target", target))
        if name not in project.branches
    ]
    if missing:
        raise GitLabError(422, missing)
    for existing in project.merge_requests.values():
        if existing.state == "opened" and existing.source_branch == source:
            raise GitLabError(
                409,
                [
                    "Another open merge request already exists for this source branch: "
                    f"!{existing.iid}"
                ],
            )
    mr = request.fake.open_merge_request(
        project,
        source_branch=source,
        target_branch=target,
        title=params["title"],
        description=params.get("description") or "",
        labels=params.get("labels") or [],
        author=request.author,
    )
    mr.remove_source_branch = params.get("remove_source_branch")
    _set_people(request, mr, params)
    return Reply(201, answer(request, project, mr))


def _set_people(request: ApiRequest, mr: MergeRequest, params: dict[str, Any]) -> None:
    """`reviewer_ids` / `assignee_ids` replace the lists; ids of no user are dropped, as
    GitLab's MergeRequests::BaseService filters them (doc/api/merge_requests.md)."""
    users = {who.id: who for who in request.fake.state.users.values()}
    if "reviewer_ids" in params:
        mr.reviewers = [users[i] for i in params["reviewer_ids"] or [] if i in users]
    if "assignee_ids" in params:
        mr.assignees = [users[i] for i in params["assignee_ids"] or [] if i in users]


UPDATABLE = (
    "title",
    "description",
    "labels",
    "add_labels",
    "remove_labels",
    "state_event",
    "target_branch",
    "remove_source_branch",
    "discussion_locked",
    "squash",
    "assignee_id",
    "assignee_ids",
    "reviewer_ids",
    "milestone_id",
)


@routes(
    "PUT",
    "/projects/:id/merge_requests/:merge_request_iid",
    [
        Param("title"),
        Param("description"),
        Param("labels", "csv"),
        Param("add_labels", "csv"),
        Param("remove_labels", "csv"),
        Param("state_event", values=("close", "reopen")),
        Param("target_branch"),
        Param("remove_source_branch", "boolean"),
        Param("discussion_locked", "boolean"),
        Param("squash", "boolean"),
        Param("assignee_id", "integer"),
        Param("assignee_ids", "integers"),
        Param("reviewer_ids", "integers"),
        Param("milestone_id", "integer"),
    ],
    at_least_one_of=UPDATABLE,
)
def update_merge_request(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    _developer_or_author(request, project, mr)
    params = request.params
    if "title" in params:
        mr.title = params["title"]
        mr.draft = mr.title.lower().startswith(("draft:", "[draft]", "(draft)"))
    if "description" in params:
        mr.description = params["description"] or ""
    labels = list(mr.labels)
    if "labels" in params:
        labels = list(dict.fromkeys(params["labels"] or []))
    for name in params.get("add_labels") or []:
        if name not in labels:
            labels.append(name)
    removed = set(params.get("remove_labels") or [])
    labels = [name for name in labels if name not in removed]
    request.fake.set_labels(project, mr, labels, request.author)
    if "target_branch" in params:
        mr.target_branch = params["target_branch"]
    if "remove_source_branch" in params:
        mr.remove_source_branch = params["remove_source_branch"]
    _set_people(request, mr, params)
    event = params.get("state_event")
    if event == "close" and mr.state == "opened":
        mr.state, mr.closed_at = "closed", now()
    elif event == "reopen" and mr.state == "closed":
        mr.state, mr.closed_at = "opened", None
    mr.updated_at = now()
    return Reply(200, answer(request, project, mr))


ACTIVE_PIPELINE = ("created", "waiting_for_resource", "preparing", "pending", "running")


@routes(
    "PUT",
    "/projects/:id/merge_requests/:merge_request_iid/merge",
    [
        Param("merge_commit_message"),
        Param("squash_commit_message"),
        Param("squash", "boolean"),
        Param("should_remove_source_branch", "boolean"),
        Param("merge_when_pipeline_succeeds", "boolean"),
        Param("auto_merge", "boolean"),
        Param("sha"),
    ],
)
def merge_merge_request(request: ApiRequest) -> Reply:
    """lib/api/merge_requests.rb, "Merge a merge request": who may push to the target, then
    whether it can merge now or when its pipeline succeeds, then the sha."""
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    params = request.params
    needed = MAINTAINER if project.protected(mr.target_branch) else DEVELOPER
    if request.level(project) < needed:
        raise GitLabError(401, "401 Unauthorized")
    head = project.pipelines.get(mr.head_pipeline_id) if mr.head_pipeline_id else None
    when_pipeline_succeeds = bool(
        params.get("merge_when_pipeline_succeeds") or params.get("auto_merge")
    )
    mergeable = mr.state == "opened" and not mr.draft
    if when_pipeline_succeeds:
        automatically = mergeable and head is not None and head.status in ACTIVE_PIPELINE
        immediately = mergeable and head is not None and head.status == "success"
    else:
        automatically, immediately = False, mergeable
    if not (automatically or immediately):
        raise GitLabError(405, "405 Method Not Allowed")
    if params.get("sha") is not None and params["sha"] != mr.sha:
        raise GitLabError(409, f"SHA does not match HEAD of source branch: {mr.sha}")
    if params.get("should_remove_source_branch") is not None:
        mr.remove_source_branch = params["should_remove_source_branch"]
    if immediately:
        squash = bool(params.get("squash"))
        request.fake.merge_into_target(
            project,
            mr,
            request.author,
            message=params.get("squash_commit_message" if squash else "merge_commit_message"),
            squash=squash,
        )
    else:
        mr.auto_merge_by = request.author
        mr.updated_at = now()
    return Reply(200, answer(request, project, mr))


@routes("GET", "/projects/:id/merge_requests/:merge_request_iid/pipelines", paginated=True)
def list_merge_request_pipelines(request: ApiRequest) -> Reply:
    """The pipelines of the MR's commits, newest first (doc/api/merge_requests.md)."""
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    shas = {c.sha for c in history(project, mr.sha)} - {
        c.sha for c in history(project, mr.base_sha)
    }
    found = [
        render.pipeline(request.web_url, project, p)
        for p in sorted(project.pipelines.values(), key=lambda p: p.id, reverse=True)
        if p.sha in shas
    ]
    return request.page(found)


@routes(
    "GET",
    "/projects/:id/merge_requests/:merge_request_iid/diffs",
    [Param("unidiff", "boolean")],
    paginated=True,
)
def list_diffs(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    base = project.commits[mr.base_sha].files
    head = project.commits[mr.sha].files
    return request.page(diffs(base, head))


@routes("GET", "/projects/:id/merge_requests/:merge_request_iid/approvals")
def get_approvals(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    return Reply(
        200,
        {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": project.id,
            "title": mr.title,
            "description": mr.description,
            "state": mr.state,
            "created_at": iso(mr.created_at),
            "updated_at": iso(mr.updated_at),
            "merge_status": "can_be_merged",
            "approved": bool(mr.approved_by),
            "approvals_required": 0,
            "approvals_left": 0,
            "approved_by": [{"user": render.user(request.web_url, u)} for u in mr.approved_by],
        },
    )


def _developer_or_author(request: ApiRequest, project: Project, mr: MergeRequest) -> None:
    # Updating an MR or resolving its threads takes Developer, unless it is your own MR.
    if request.level(project) < DEVELOPER and mr.author.id != request.author.id:
        raise GitLabError(403, "403 Forbidden")


# Notes


def _note_body(request: ApiRequest) -> str:
    # Note validation errors come back through bad_request!, e.g. (seen on gitlab.com)
    # "400 Bad request - Note is too long (maximum is 1000000 characters)".
    body: str = request.params["body"]
    if not body.strip():
        raise GitLabError(400, "400 Bad request - Note can't be blank", violation=True)
    if len(body) > NOTE_MAX:
        raise GitLabError(
            400,
            f"400 Bad request - Note is too long (maximum is {NOTE_MAX} characters)",
            violation=True,
        )
    return body


def _find_note(request: ApiRequest, mr: MergeRequest) -> tuple[Discussion, Note]:
    note_id = request.path_int("note_id")
    for thread in mr.discussions:
        for item in thread.notes:
            if item.id == note_id:
                return thread, item
    raise record_not_found()


@routes(
    "GET",
    "/projects/:id/merge_requests/:merge_request_iid/notes",
    [
        Param("sort", values=("asc", "desc")),
        Param("order_by", values=("created_at", "updated_at")),
        Param("activity_filter", values=("all_notes", "only_comments", "only_activity")),
    ],
    paginated=True,
)
def list_notes(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    items = [(t, n) for t in mr.discussions for n in t.notes]
    items.sort(key=lambda pair: pair[1].id, reverse=request.params.get("sort", "desc") == "desc")
    return request.page(
        [render.note(request.web_url, project, mr, n, t.individual_note) for t, n in items]
    )


@routes(
    "POST",
    "/projects/:id/merge_requests/:merge_request_iid/notes",
    [
        Param("body", required=True),
        Param("created_at"),
        Param("internal", "boolean"),
        Param("merge_request_diff_head_sha"),
    ],
)
def create_note(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    item = request.fake.write_note(project, mr, request.author, _note_body(request))
    return Reply(201, render.note(request.web_url, project, mr, item, True))


@routes("GET", "/projects/:id/merge_requests/:merge_request_iid/notes/:note_id")
def get_note(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    thread, item = _find_note(request, mr)
    return Reply(200, render.note(request.web_url, project, mr, item, thread.individual_note))


@routes(
    "PUT",
    "/projects/:id/merge_requests/:merge_request_iid/notes/:note_id",
    [Param("body", required=True), Param("confidential", "boolean")],
)
def update_note(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    thread, item = _find_note(request, mr)
    if item.author.id != request.author.id:
        raise GitLabError(403, "403 Forbidden")
    item.body = _note_body(request)
    item.updated_at = now()
    return Reply(200, render.note(request.web_url, project, mr, item, thread.individual_note))


@routes("DELETE", "/projects/:id/merge_requests/:merge_request_iid/notes/:note_id")
def delete_note(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    thread, item = _find_note(request, mr)
    if item.author.id != request.author.id and request.level(project) < MAINTAINER:
        raise GitLabError(403, "403 Forbidden")
    thread.notes.remove(item)
    if not thread.notes:
        mr.discussions.remove(thread)
    return Reply(204)


# Threads


def _find_discussion(request: ApiRequest, mr: MergeRequest) -> Discussion:
    wanted = request.path["discussion_id"]
    for thread in mr.discussions:
        if thread.id == wanted:
            return thread
    raise not_found("Discussion")


@routes("GET", "/projects/:id/merge_requests/:merge_request_iid/discussions", paginated=True)
def list_discussions(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    return request.page(
        [render.discussion(request.web_url, project, mr, t) for t in mr.discussions]
    )


@routes("GET", "/projects/:id/merge_requests/:merge_request_iid/discussions/:discussion_id")
def get_discussion(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    thread = _find_discussion(request, mr)
    return Reply(200, render.discussion(request.web_url, project, mr, thread))


@routes(
    "POST",
    "/projects/:id/merge_requests/:merge_request_iid/discussions",
    [
        Param("body", required=True),
        Param("commit_id"),
        Param("created_at"),
        Param("position", "hash"),
        Param("internal", "boolean"),
    ],
)
def create_discussion(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    body = _note_body(request)
    state = request.state
    note_id = state.next_id("note")
    thread = Discussion(discussion_id("discussion", project.id, mr.iid, note_id), False)
    thread.notes.append(Note(note_id, body, request.author, thread.id, resolvable=True))
    mr.discussions.append(thread)
    return Reply(201, render.discussion(request.web_url, project, mr, thread))


@routes(
    "PUT",
    "/projects/:id/merge_requests/:merge_request_iid/discussions/:discussion_id",
    [Param("resolved", "boolean", required=True)],
)
def resolve_discussion(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    thread = _find_discussion(request, mr)
    _developer_or_author(request, project, mr)
    if not any(n.resolvable for n in thread.notes):
        raise GitLabError(403, "403 Forbidden")
    resolved = request.params["resolved"]
    for item in thread.notes:
        if item.resolvable:
            item.resolved = resolved
            item.resolved_by = request.author if resolved else None
    return Reply(200, render.discussion(request.web_url, project, mr, thread))


# Emoji reactions on notes


@routes(
    "GET",
    "/projects/:id/merge_requests/:merge_request_iid/notes/:note_id/award_emoji",
    paginated=True,
)
def list_note_awards(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    _, item = _find_note(request, mr)
    return request.page([render.award(request.web_url, a, item.id) for a in item.awards])


@routes(
    "POST",
    "/projects/:id/merge_requests/:merge_request_iid/notes/:note_id/award_emoji",
    [Param("name", required=True)],
)
def award_note(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    _, item = _find_note(request, mr)
    name = request.params["name"]
    # lib/api/award_emoji.rb turns AddService's validation error into not_found!: a second
    # award of the same name by the same user is "404 Award Emoji Name has already been taken".
    if any(a.name == name and a.user.id == request.author.id for a in item.awards):
        raise GitLabError(404, "404 Award Emoji Name has already been taken Not Found")
    award = Award(request.state.next_id("award"), name, request.author)
    item.awards.append(award)
    return Reply(201, render.award(request.web_url, award, item.id))


@routes(
    "GET",
    "/projects/:id/merge_requests/:merge_request_iid/resource_label_events",
    paginated=True,
)
def list_label_events(request: ApiRequest) -> Reply:
    """doc/api/resource_label_events.md: who added or removed each label, oldest first."""
    project = request.project(REPORTER)
    mr = request.merge_request(project)
    return request.page(
        [render.label_event(request.web_url, project, mr, e) for e in mr.label_events]
    )
