"""Routes for users, projects, members, branches, files and commits."""

from __future__ import annotations

from tests.fakegitlab import render
from tests.fakegitlab.params import Param
from tests.fakegitlab.repository import CommitRefused, apply_actions, history
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
    Commit,
    NotFound,
    Project,
    Tag,
)

routes = RouteTable()


@routes("GET", "/user")
def current_user(request: ApiRequest) -> Reply:
    return Reply(200, render.user(request.web_url, request.author))


@routes(
    "GET",
    "/users",
    [
        Param("username"),
        Param("search"),
        Param("active", "boolean"),
        Param("blocked", "boolean"),
        Param("external", "boolean"),
        Param("exclude_internal", "boolean"),
        Param("without_project_bots", "boolean"),
        Param("order_by", values=("id", "name", "username", "created_at", "updated_at")),
        Param("sort", values=("asc", "desc")),
    ],
    paginated=True,
)
def list_users(request: ApiRequest) -> Reply:
    """lib/api/users.rb: UsersFinder matches `username` exactly, ignoring case."""
    params = request.params
    wanted = (params.get("username") or "").lower()
    search = (params.get("search") or "").lower()
    users = sorted(request.state.users.values(), key=lambda u: u.id, reverse=True)
    users = [
        u
        for u in users
        if (not wanted or u.username.lower() == wanted)
        and (not search or search in u.username.lower() or search in u.name.lower())
        and (not params.get("active") or u.state == "active")
        and (not params.get("blocked") or u.state == "blocked")
    ]
    return request.page([render.user(request.web_url, u) for u in users])


@routes("GET", "/users/:user_id")
def get_user(request: ApiRequest) -> Reply:
    try:
        who = request.state.user_by_id(request.path_int("user_id"))
    except NotFound:
        raise not_found("User") from None
    return Reply(200, render.user(request.web_url, who))


@routes(
    "GET",
    "/projects/:id",
    [
        Param("statistics", "boolean"),
        Param("license", "boolean"),
        Param("with_custom_attributes", "boolean"),
    ],
)
def get_project(request: ApiRequest) -> Reply:
    return Reply(200, render.project(request.web_url, request.project()))


@routes("GET", "/projects/:id/members/all/:user_id")
def get_member(request: ApiRequest) -> Reply:
    project = request.project()
    user_id = request.path_int("user_id")
    level = project.members.get(user_id)
    if level is None:
        raise record_not_found()
    who = request.state.user_by_id(user_id)
    return Reply(200, render.member(request.web_url, who, level))


@routes("GET", "/groups/:id/members/all/:user_id")
def get_group_member(request: ApiRequest) -> Reply:
    """Members of the group and of the groups above it; a private group is seen only from
    inside its tree (doc/api/members.md; doc/user/group/subgroups/index.md, "Membership")."""
    try:
        group = request.state.group(request.path["id"])
    except NotFound:
        raise not_found("Group") from None
    tree = [g for g in request.state.groups.values() if g.is_within(group) or group.is_within(g)]
    if not any(request.author.id in g.members for g in tree):
        raise not_found("Group")
    user_id = request.path_int("user_id")
    level = request.state.inherited_level(group, user_id)
    if level == 0:
        raise record_not_found()
    who = request.state.user_by_id(user_id)
    return Reply(200, render.member(request.web_url, who, level))


@routes("GET", "/projects/:id/repository/branches/:branch")
def get_branch(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    name = request.path["branch"]
    if name not in project.branches:
        raise not_found("Branch")
    return Reply(200, render.branch(request.web_url, project, name))


FILE_PARAMS = [Param("ref", required=True), Param("lfs", "boolean")]


def _file_at(request: ApiRequest) -> tuple[Project, str, str, Commit]:
    project = request.project(REPORTER)
    path = request.path["file_path"]
    ref = request.params["ref"]
    try:
        at = project.commit(ref)
    except NotFound:
        raise not_found("File") from None
    if path not in at.files:
        raise not_found("File")
    return project, path, ref, at


@routes("GET", "/projects/:id/repository/files/:file_path", FILE_PARAMS)
def get_file(request: ApiRequest) -> Reply:
    project, path, ref, at = _file_at(request)
    return Reply(200, render.file(project, path, ref, at))


@routes("GET", "/projects/:id/repository/files/:file_path/raw", FILE_PARAMS)
def get_raw_file(request: ApiRequest) -> Reply:
    _, path, _, at = _file_at(request)
    return Reply(200, raw=at.files[path].encode(), content_type="text/plain")


ACTION = (
    Param("action", required=True, values=("create", "update", "delete", "move", "chmod")),
    Param("file_path", required=True),
    Param("previous_path"),
    Param("content"),
    Param("encoding", values=("text", "base64")),
    Param("last_commit_id"),
    Param("execute_filemode", "boolean"),
)


@routes(
    "POST",
    "/projects/:id/repository/commits",
    [
        Param("branch", required=True),
        Param("commit_message", required=True),
        Param("actions", "hashes", required=True, fields=ACTION),
        Param("start_branch"),
        Param("start_sha"),
        Param("start_project"),
        Param("author_email"),
        Param("author_name"),
        Param("stats", "boolean"),
        Param("force", "boolean"),
    ],
)
def create_commit(request: ApiRequest) -> Reply:
    project = request.project(DEVELOPER)
    params = request.params
    if not params["actions"]:
        raise GitLabError(400, "actions is empty", key="error", violation=True)
    if project.protected(params["branch"]) and request.level(project) < MAINTAINER:
        raise GitLabError(403, "403 Forbidden - You are not allowed to push into this branch")
    try:
        made = apply_actions(
            request.state,
            project,
            branch=params["branch"],
            start_branch=params.get("start_branch"),
            start_sha=params.get("start_sha"),
            force=bool(params.get("force")),
            actions=params["actions"],
            author=request.author,
            message=params["commit_message"],
        )
    except CommitRefused as refused:
        raise GitLabError(400, str(refused)) from None
    request.fake.on_push(project, params["branch"], made, request.author)
    answer = render.commit(request.web_url, project, made)
    answer["stats"] = {"additions": 0, "deletions": 0, "total": 0}
    answer["status"] = None
    answer["project_id"] = project.id
    answer["last_pipeline"] = None
    return Reply(201, answer)


@routes("GET", "/projects/:id/repository/commits/:sha", [Param("stats", "boolean")])
def get_commit(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    try:
        found = project.commit(request.path["sha"])
    except NotFound:
        raise not_found("Commit") from None
    answer = render.commit(request.web_url, project, found)
    pipelines = sorted(
        (p for p in project.pipelines.values() if p.sha == found.sha), key=lambda p: p.id
    )
    last = pipelines[-1] if pipelines else None
    answer["last_pipeline"] = render.pipeline(request.web_url, project, last) if last else None
    answer["status"] = last.status if last else None
    answer["project_id"] = project.id
    answer["stats"] = {"additions": 0, "deletions": 0, "total": 0}
    return Reply(200, answer)


@routes(
    "GET",
    "/projects/:id/repository/commits",
    [
        Param("ref_name"),
        Param("since"),
        Param("until"),
        Param("path"),
        Param("author"),
        Param("all", "boolean"),
        Param("with_stats", "boolean"),
        Param("first_parent", "boolean"),
        Param("order", values=("default", "topo")),
        Param("trailers", "boolean"),
    ],
    paginated=True,
)
def list_commits(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    ref = request.params.get("ref_name") or project.default_branch
    path = request.params.get("path")
    try:
        commits = list(history(project, ref))
    except NotFound:
        raise not_found("Commit") from None
    if path is not None:
        prefix = path.rstrip("/") + "/"
        commits = [c for c in commits if any(p == path or p.startswith(prefix) for p in c.changed)]
    return request.page([render.commit(request.web_url, project, c) for c in commits])


# Tags (doc/api/tags.md): an annotated tag when `message` is given; a name taken → 400
# "Tag <name> already exists" (Tags::CreateService); deleting answers 204, a missing one 404.
@routes("GET", "/projects/:id/repository/tags/:tag_name")
def get_tag(request: ApiRequest) -> Reply:
    project = request.project(REPORTER)
    tag = project.tags.get(request.path["tag_name"])
    if tag is None:
        raise not_found("Tag")
    return Reply(200, render.tag(request.web_url, project, tag))


@routes(
    "POST",
    "/projects/:id/repository/tags",
    [Param("tag_name", required=True), Param("ref", required=True), Param("message")],
)
def create_tag(request: ApiRequest) -> Reply:
    project = request.project(DEVELOPER)
    name, ref = request.params["tag_name"], request.params["ref"]
    if name in project.tags:
        raise GitLabError(400, f"Tag {name} already exists")
    try:
        commit = project.commit(ref)
    except NotFound:
        raise GitLabError(400, "Target " + ref + " is invalid") from None
    tag = Tag(name, commit.sha, request.params.get("message") or "")
    project.tags[name] = tag
    return Reply(201, render.tag(request.web_url, project, tag))


@routes("DELETE", "/projects/:id/repository/tags/:tag_name")
def delete_tag(request: ApiRequest) -> Reply:
    project = request.project(DEVELOPER)  # unprotected tags: :admin_tag is Developer's
    if project.tags.pop(request.path["tag_name"], None) is None:
        raise not_found("Tag")
    return Reply(204)
