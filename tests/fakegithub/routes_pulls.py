"""Pull requests: list, create, read, update, files, merge, review requests."""

from __future__ import annotations

from typing import Any

from tests.fakegithub import pulls, render
from tests.fakegithub.gitops import MergeConflict
from tests.fakegithub.routes_issues import set_state
from tests.fakegithub.routing import ApiRequest, GitHubError, Reply, RouteTable, validation_failed
from tests.fakegithub.state import Issue, Pull, Repo, now

routes = RouteTable()


def _pull(req: ApiRequest) -> tuple[Repo, Issue]:
    repo = req.repo()
    return repo, req.pull(repo, req.path["pull_number"])


def _head_owner(issue: Issue) -> str:
    return pulls.pull_of(issue).head_repo.split("/")[0]


def _open_duplicate(
    repo: Repo, head_repo: str, head_ref: str, base_ref: str, other_than: int = 0
) -> Issue | None:
    for issue in repo.issues.values():
        pull = issue.pull
        if (
            pull is not None
            and issue.state == "open"
            and issue.number != other_than
            and pull.head_repo.lower() == head_repo.lower()
            and pull.head_ref == head_ref
            and pull.base_ref == base_ref
        ):
            return issue
    return None


@routes("GET /repos/{owner}/{repo}/pulls")
def list_pulls(req: ApiRequest) -> Reply:
    repo = req.repo()
    q = req.query
    head_owner, _, head_ref = q.get("head", "").rpartition(":")
    if "head" in q and not head_owner:
        req.violation(
            "head must be `owner:branch`; GitHub ignores a bare branch name and lists every PR"
        )
        q = {name: value for name, value in q.items() if name != "head"}
    found = [
        issue
        for issue in repo.issues.values()
        if issue.pull is not None
        and q["state"] in ("all", issue.state)
        and q.get("base") in (None, issue.pull.base_ref)
        and (
            "head" not in q
            or (
                head_owner.lower() == _head_owner(issue).lower() and head_ref == issue.pull.head_ref
            )
        )
    ]
    by_update = q["sort"] in ("updated", "popularity", "long-running")
    direction = q.get("direction") or ("desc" if q["sort"] in ("created", "updated") else "asc")
    found.sort(
        key=lambda i: (i.updated_at if by_update else i.created_at, i.number),
        reverse=direction == "desc",
    )
    page, headers = req.page(found)
    return Reply(
        200, [render.pull(req.state, req.base_url, repo, issue) for issue in page], headers
    )


@routes("POST /repos/{owner}/{repo}/pulls")
def create_pull(req: ApiRequest) -> Reply:
    repo = req.repo()
    body: dict[str, Any] = req.body
    head_owner, _, head_ref = body["head"].rpartition(":")
    head_repo_name = body.get("head_repo") or repo.name
    head_repo = req.state.repos.get(f"{head_owner or repo.owner}/{head_repo_name}".lower())
    base_ref = body["base"]
    if repo.branch_sha(base_ref) is None:
        raise GitHubError(
            422,
            "Validation Failed",
            errors=[{"resource": "PullRequest", "field": "base", "code": "invalid"}],
        )
    if head_repo is None or head_repo.branch_sha(head_ref) is None:
        raise GitHubError(
            422,
            "Validation Failed",
            errors=[{"resource": "PullRequest", "field": "head", "code": "invalid"}],
        )
    if _open_duplicate(repo, head_repo.full_name, head_ref, base_ref):
        raise validation_failed(
            f"A pull request already exists for {head_repo.owner}:{head_ref}.", "PullRequest"
        )
    if "title" not in body and "issue" not in body:
        raise validation_failed(
            "title is missing", "PullRequest", "title", code="missing_field", violation=True
        )
    issue = Issue(
        id=req.state.next_id(),
        number=max(repo.issues, default=0) + 1,
        title=body.get("title") or "",
        user=req.login,
        body=body.get("body"),
    )
    issue.pull = Pull(
        head_repo=head_repo.full_name,
        head_ref=head_ref,
        head_sha=head_repo.branch_sha(head_ref) or "",
        base_ref=base_ref,
        base_sha=repo.branch_sha(base_ref),
        draft=bool(body.get("draft")),
        maintainer_can_modify=bool(body.get("maintainer_can_modify")),
    )
    if not pulls.commits_between(req.state, repo, issue):
        raise validation_failed(f"No commits between {base_ref} and {head_ref}", "PullRequest")
    repo.issues[issue.number] = issue
    return Reply(201, render.pull_details(req.state, req.base_url, repo, issue))


@routes("GET /repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(req: ApiRequest) -> Reply:
    repo, issue = _pull(req)
    return Reply(200, render.pull_details(req.state, req.base_url, repo, issue))


@routes("PATCH /repos/{owner}/{repo}/pulls/{pull_number}")
def update_pull(req: ApiRequest) -> Reply:
    repo, issue = _pull(req)
    pull = pulls.pull_of(issue)
    body: dict[str, Any] = req.body or {}
    if "base" in body:
        if repo.branch_sha(body["base"]) is None:
            raise GitHubError(
                422,
                "Validation Failed",
                errors=[{"resource": "PullRequest", "field": "base", "code": "invalid"}],
            )
        pull.base_ref = body["base"]
    if body.get("state") == "open" and issue.state == "closed":
        if pull.merged:
            raise validation_failed(
                "state cannot be changed. The pull request has been merged.", "PullRequest"
            )
        if _open_duplicate(
            repo, pull.head_repo, pull.head_ref, pull.base_ref, other_than=issue.number
        ):
            raise validation_failed(
                f"A pull request already exists for {_head_owner(issue)}:{pull.head_ref}.",
                "PullRequest",
            )
    if "state" in body:
        set_state(issue, body["state"])
    for name in ("title", "body"):
        if name in body:
            setattr(issue, name, body[name])
    if "maintainer_can_modify" in body:
        pull.maintainer_can_modify = body["maintainer_can_modify"]
    issue.updated_at = now()
    return Reply(200, render.pull_details(req.state, req.base_url, repo, issue))


@routes("GET /repos/{owner}/{repo}/pulls/{pull_number}/files")
def list_pull_files(req: ApiRequest) -> Reply:
    repo, issue = _pull(req)
    head = pulls.head_sha(req.state, issue)
    files = [
        render.diff_entry(req.base_url, repo, head, c)
        for c in pulls.changed_files(req.state, repo, issue)
    ]
    page, headers = req.page(files)
    return Reply(200, page, headers)


@routes("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge")
def merge_pull(req: ApiRequest) -> Reply:
    repo, issue = _pull(req)
    pull = pulls.pull_of(issue)
    body: dict[str, Any] = req.body or {}
    if pull.merged or issue.state != "open":
        raise GitHubError(405, "Pull Request is not mergeable")
    if pull.draft:
        raise GitHubError(405, "Pull Request is still a draft")
    if "sha" in body and body["sha"] != pulls.head_sha(req.state, issue):
        raise GitHubError(409, "Head branch was modified. Review and try the merge again.")
    method = body.get("merge_method", "merge")
    default_title = (
        f"Merge pull request #{issue.number} from {_head_owner(issue)}/{pull.head_ref}"
        if method == "merge"
        else f"{issue.title} (#{issue.number})"
    )
    try:
        sha = pulls.merge(
            req.state,
            repo,
            issue,
            method,
            body.get("commit_title") or default_title,
            body.get("commit_message") or (issue.title if method == "merge" else ""),
            req.login,
        )
    except MergeConflict:
        raise GitHubError(405, "Merge conflict") from None
    return Reply(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


@routes("POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def request_reviewers(req: ApiRequest) -> Reply:
    repo, issue = _pull(req)
    pull = pulls.pull_of(issue)
    body: dict[str, Any] = req.body or {}
    reviewers = body.get("reviewers", [])
    if any(login.lower() == issue.user.lower() for login in reviewers):
        raise validation_failed(
            "Review cannot be requested from pull request author.", "PullRequest"
        )
    for login in reviewers:
        if login not in pull.requested_reviewers:
            pull.requested_reviewers.append(login)
    for slug in body.get("team_reviewers", []):
        if slug not in pull.requested_teams:
            pull.requested_teams.append(slug)
    return Reply(201, render.pull(req.state, req.base_url, repo, issue))


@routes("DELETE /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def remove_requested_reviewers(req: ApiRequest) -> Reply:
    repo, issue = _pull(req)
    pull = pulls.pull_of(issue)
    gone = {login.lower() for login in req.body["reviewers"]}
    pull.requested_reviewers = [
        login for login in pull.requested_reviewers if login.lower() not in gone
    ]
    teams = set(req.body.get("team_reviewers", []))
    pull.requested_teams = [slug for slug in pull.requested_teams if slug not in teams]
    return Reply(200, render.pull(req.state, req.base_url, repo, issue))
