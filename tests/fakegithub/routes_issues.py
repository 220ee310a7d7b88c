"""Issues (and the issue side of pull requests): comments, reactions, labels, assignees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.fakegithub import render
from tests.fakegithub.routing import (
    NOT_FOUND,
    ApiRequest,
    GitHubError,
    Reply,
    RouteTable,
    validation_failed,
)
from tests.fakegithub.state import Comment, Issue, Label, Reaction, Repo, now

routes = RouteTable()
_BODY_LIMIT = 65536


def _issue(req: ApiRequest) -> tuple[Repo, Issue]:
    repo = req.repo()
    return repo, req.issue(repo, req.path["issue_number"])


def _render_issue(req: ApiRequest, repo: Repo, issue: Issue) -> dict[str, Any]:
    return render.issue(req.state, req.base_url, repo, issue)


@routes("GET /repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(req: ApiRequest) -> Reply:
    repo, issue = _issue(req)
    return Reply(200, _render_issue(req, repo, issue))


@routes("PATCH /repos/{owner}/{repo}/issues/{issue_number}")
def update_issue(req: ApiRequest) -> Reply:
    repo, issue = _issue(req)
    body: dict[str, Any] = req.body or {}
    if "title" in body and body["title"] is not None:
        issue.title = str(body["title"])
    if "body" in body:
        issue.body = body["body"]
    if "state" in body:
        set_state(issue, body["state"], body.get("state_reason"))
    if "labels" in body:
        for name in list(issue.labels):
            issue.labels.remove(name)
            req.fake.record_label_event(issue, "unlabeled", name, req.login, _app_id(req))
        _add_labels(req, repo, issue, body["labels"])
    if "assignees" in body:
        issue.assignees = list(dict.fromkeys(body["assignees"]))
    elif "assignee" in body:
        issue.assignees = [body["assignee"]] if body["assignee"] else []
    issue.updated_at = now()
    return Reply(200, _render_issue(req, repo, issue))


def set_state(issue: Issue, state: str, reason: str | None = None) -> None:
    if state == issue.state:
        return
    issue.state = state
    issue.closed_at = now() if state == "closed" else None
    issue.state_reason = reason or ("completed" if state == "closed" else "reopened")


# Comments


def _check_body(text: str) -> None:
    if len(text) > _BODY_LIMIT:
        raise validation_failed(
            f"Body is too long (maximum is {_BODY_LIMIT} characters)",
            "IssueComment",
            "body",
            violation=True,
        )


def _comment(req: ApiRequest) -> tuple[Repo, Comment]:
    repo = req.repo()
    comment = req.state.comments.get(req.path["comment_id"])
    if comment is None or comment.repo != repo.full_name:
        raise GitHubError(404, NOT_FOUND)
    return repo, comment


@routes("GET /repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(req: ApiRequest) -> Reply:
    repo, issue = _issue(req)
    since = req.query.get("since")
    after = None if since is None else datetime.fromisoformat(since.replace("Z", "+00:00"))
    comments = [
        c
        for c in req.state.comments.values()
        if c.repo == repo.full_name
        and c.issue_number == issue.number
        and (after is None or c.updated_at >= after)
    ]
    page, headers = req.page(comments)
    return Reply(200, [render.comment(req.state, req.base_url, repo, c) for c in page], headers)


@routes("POST /repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_comment(req: ApiRequest) -> Reply:
    repo, issue = _issue(req)
    _check_body(req.body["body"])
    comment = Comment(
        id=req.state.next_id(),
        repo=repo.full_name,
        issue_number=issue.number,
        body=req.body["body"],
        user=req.login,
    )
    req.state.comments[comment.id] = comment
    issue.updated_at = now()
    return Reply(201, render.comment(req.state, req.base_url, repo, comment))


@routes("GET /repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(req: ApiRequest) -> Reply:
    repo, comment = _comment(req)
    return Reply(200, render.comment(req.state, req.base_url, repo, comment))


@routes("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(req: ApiRequest) -> Reply:
    repo, comment = _comment(req)
    _check_body(req.body["body"])
    comment.body = req.body["body"]
    comment.updated_at = now()
    return Reply(200, render.comment(req.state, req.base_url, repo, comment))


# Reactions


def _react(req: ApiRequest, reactions: list[Reaction]) -> Reply:
    """GitHub answers 200 with the existing reaction when the same user repeats it."""
    content = req.body["content"]
    for existing in reactions:
        if existing.content == content and existing.user == req.login:
            return Reply(200, render.reaction(req.state, req.base_url, existing))
    reaction = Reaction(id=req.state.next_id(), content=content, user=req.login)
    reactions.append(reaction)
    return Reply(201, render.reaction(req.state, req.base_url, reaction))


def _list_reactions(req: ApiRequest, reactions: list[Reaction]) -> Reply:
    """Oldest first, one page at a time, as GitHub lists them."""
    page, headers = req.page(reactions)
    return Reply(200, [render.reaction(req.state, req.base_url, r) for r in page], headers)


def _review_comment_reactions(req: ApiRequest) -> list[Reaction]:
    repo = req.repo()
    comment = req.state.review_comments.get(req.path["comment_id"])
    if comment is None or comment.repo != repo.full_name:
        raise GitHubError(404, NOT_FOUND)
    return comment.reactions


@routes("GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def list_comment_reactions(req: ApiRequest) -> Reply:
    return _list_reactions(req, _comment(req)[1].reactions)


@routes("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def react_to_comment(req: ApiRequest) -> Reply:
    _, comment = _comment(req)
    return _react(req, comment.reactions)


@routes("GET /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions")
def list_review_comment_reactions(req: ApiRequest) -> Reply:
    return _list_reactions(req, _review_comment_reactions(req))


@routes("POST /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions")
def react_to_review_comment(req: ApiRequest) -> Reply:
    return _react(req, _review_comment_reactions(req))


@routes("GET /repos/{owner}/{repo}/issues/{issue_number}/reactions")
def list_issue_reactions(req: ApiRequest) -> Reply:
    return _list_reactions(req, _issue(req)[1].reactions)


@routes("POST /repos/{owner}/{repo}/issues/{issue_number}/reactions")
def react_to_issue(req: ApiRequest) -> Reply:
    _, issue = _issue(req)
    return _react(req, issue.reactions)


# Labels


def _app_id(req: ApiRequest) -> int | None:
    """The App an installation token acts for: GitHub's `performed_via_github_app`."""
    return req.token.app_id if req.token is not None else None


def _add_labels(req: ApiRequest, repo: Repo, issue: Issue, items: list[Any]) -> None:
    names = [item if isinstance(item, str) else item["name"] for item in items]
    req.fake.add_labels(
        repo.owner, repo.name, issue.number, names, actor=req.login, app_id=_app_id(req)
    )


def _labels_of(req: ApiRequest, repo: Repo, issue: Issue) -> list[dict[str, Any]]:
    return render.issue_labels(req.base_url, repo, issue)


@routes("GET /repos/{owner}/{repo}/issues/{issue_number}/labels")
def list_issue_labels(req: ApiRequest) -> Reply:
    repo, issue = _issue(req)
    page, headers = req.page(_labels_of(req, repo, issue))
    return Reply(200, page, headers)


@routes("POST /repos/{owner}/{repo}/issues/{issue_number}/labels")
def add_issue_labels(req: ApiRequest) -> Reply:
    repo, issue = _issue(req)
    if req.body is None:
        raise validation_failed("labels is required", "Label", "labels", violation=True)
    _add_labels(req, repo, issue, req.body["labels"])
    issue.updated_at = now()
    return Reply(200, _labels_of(req, repo, issue))


@routes("DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}")
def remove_issue_label(req: ApiRequest) -> Reply:
    repo, issue = _issue(req)
    wanted = req.path["name"].lower()
    present = next((name for name in issue.labels if name.lower() == wanted), None)
    if present is None:
        raise GitHubError(404, "Label does not exist")
    issue.labels.remove(present)
    req.fake.record_label_event(issue, "unlabeled", present, req.login, _app_id(req))
    issue.updated_at = now()
    return Reply(200, _labels_of(req, repo, issue))


@routes("GET /repos/{owner}/{repo}/issues/{issue_number}/events")
def list_issue_events(req: ApiRequest) -> Reply:
    """The timeline's label events, oldest first, paginated as GitHub does."""
    repo, issue = _issue(req)
    page, headers = req.page(issue.events)
    return Reply(200, [render.issue_event(req.state, req.base_url, repo, e) for e in page], headers)


@routes("GET /repos/{owner}/{repo}/labels")
def list_repo_labels(req: ApiRequest) -> Reply:
    repo = req.repo()
    page, headers = req.page(
        [render.label(req.base_url, repo, item) for item in repo.labels.values()]
    )
    return Reply(200, page, headers)


@routes("POST /repos/{owner}/{repo}/labels")
def create_repo_label(req: ApiRequest) -> Reply:
    repo = req.repo()
    body = req.body
    if body["name"].lower() in repo.labels:
        raise GitHubError(
            422,
            "Validation Failed",
            errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
        )
    color = body.get("color", "ededed").removeprefix("#")
    label = Label(
        id=req.state.next_id(), name=body["name"], color=color, description=body.get("description")
    )
    repo.labels[label.name.lower()] = label
    return Reply(201, render.label(req.base_url, repo, label))


# Assignees


@routes("POST /repos/{owner}/{repo}/issues/{issue_number}/assignees")
def add_assignees(req: ApiRequest) -> Reply:
    repo, issue = _issue(req)
    for login in (req.body or {}).get("assignees", []):
        # GitHub silently skips people who cannot be assigned (no access to the repository).
        if req.state.permission(repo, login) != "none" and login not in issue.assignees:
            issue.assignees.append(login)
    issue.updated_at = now()
    return Reply(201, _render_issue(req, repo, issue))


@routes("DELETE /repos/{owner}/{repo}/issues/{issue_number}/assignees")
def remove_assignees(req: ApiRequest) -> Reply:
    repo, issue = _issue(req)
    gone = {login.lower() for login in req.body["assignees"]}
    issue.assignees = [login for login in issue.assignees if login.lower() not in gone]
    issue.updated_at = now()
    return Reply(200, _render_issue(req, repo, issue))
