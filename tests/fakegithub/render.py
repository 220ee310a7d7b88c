"""JSON shapes of GitHub's REST answers, built from the fake's state."""

from __future__ import annotations

import base64
import zlib
from collections import Counter
from typing import Any

from tests.fakegithub import pulls
from tests.fakegithub.gitops import FileChange
from tests.fakegithub.gitstore import Commit, Signature
from tests.fakegithub.routing import HTML
from tests.fakegithub.state import (
    App,
    CheckRun,
    CheckSuite,
    Comment,
    GitHubState,
    Installation,
    Issue,
    IssueEvent,
    Label,
    Reaction,
    Repo,
    Status,
    iso,
)


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0:{kind}{number}".encode()).decode()


def user(state: GitHubState, base: str, login: str) -> dict[str, Any]:
    known = state.user(login, "Bot" if login.endswith("[bot]") else "User")
    api = f"{base}/users/{known.login}"
    return {
        "login": known.login,
        "id": known.id,
        "node_id": node_id("User", known.id),
        "type": known.type,
        "site_admin": False,
        "url": api,
        "html_url": f"{HTML}/{known.login}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{known.id}?v=4",
        "gravatar_id": "",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
    }


def repo(state: GitHubState, base: str, r: Repo) -> dict[str, Any]:
    api = f"{base}/repos/{r.full_name}"
    return {
        "id": r.id,
        "node_id": node_id("Repository", r.id),
        "name": r.name,
        "full_name": r.full_name,
        "owner": user(state, base, r.owner),
        "private": r.private,
        "visibility": "private" if r.private else "public",
        "fork": r.fork_of is not None,
        "default_branch": r.default_branch,
        "url": api,
        "html_url": f"{HTML}/{r.full_name}",
        "clone_url": f"{HTML}/{r.full_name}.git",
        "git_url": f"git://github.com/{r.full_name}.git",
        "ssh_url": f"git@github.com:{r.full_name}.git",
        "pulls_url": f"{api}/pulls{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "archived": False,
        "disabled": False,
        "created_at": iso(r.created_at),
        "updated_at": iso(r.created_at),
        "pushed_at": iso(r.created_at),
    }


def label(base: str, r: Repo, item: Label) -> dict[str, Any]:
    return {
        "id": item.id,
        "node_id": node_id("Label", item.id),
        "url": f"{base}/repos/{r.full_name}/labels/{item.name}",
        "name": item.name,
        "color": item.color,
        "description": item.description,
        "default": item.default,
    }


def issue_labels(base: str, r: Repo, issue: Issue) -> list[dict[str, Any]]:
    return [label(base, r, r.labels[name.lower()]) for name in issue.labels]


def reaction_rollup(url: str, reactions: list[Reaction]) -> dict[str, Any]:
    counts = Counter(reaction.content for reaction in reactions)
    names = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")
    return {"url": url, "total_count": len(reactions), **{name: counts[name] for name in names}}


def reaction(state: GitHubState, base: str, item: Reaction) -> dict[str, Any]:
    return {
        "id": item.id,
        "node_id": node_id("Reaction", item.id),
        "user": user(state, base, item.user),
        "content": item.content,
        "created_at": iso(item.created_at),
    }


def issue(state: GitHubState, base: str, r: Repo, item: Issue) -> dict[str, Any]:
    api = f"{base}/repos/{r.full_name}/issues/{item.number}"
    kind = "pull" if item.pull else "issues"
    rendered = {
        "id": item.id,
        "node_id": node_id("Issue", item.id),
        "number": item.number,
        "title": item.title,
        "body": item.body,
        "state": item.state,
        "state_reason": item.state_reason,
        "locked": item.locked,
        "user": user(state, base, item.user),
        "labels": issue_labels(base, r, item),
        "assignee": user(state, base, item.assignees[0]) if item.assignees else None,
        "assignees": [user(state, base, login) for login in item.assignees],
        "milestone": None,
        "comments": sum(
            1
            for c in state.comments.values()
            if c.repo == r.full_name and c.issue_number == item.number
        ),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "closed_at": iso(item.closed_at),
        "author_association": association(state, r, item.user),
        "url": api,
        "repository_url": f"{base}/repos/{r.full_name}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{HTML}/{r.full_name}/{kind}/{item.number}",
        "reactions": reaction_rollup(f"{api}/reactions", item.reactions),
    }
    if item.pull:
        pulls = f"{base}/repos/{r.full_name}/pulls/{item.number}"
        rendered["pull_request"] = {
            "url": pulls,
            "html_url": f"{HTML}/{r.full_name}/pull/{item.number}",
            "diff_url": f"{HTML}/{r.full_name}/pull/{item.number}.diff",
            "patch_url": f"{HTML}/{r.full_name}/pull/{item.number}.patch",
            "merged_at": iso(item.pull.merged_at),
        }
    return rendered


def association(state: GitHubState, r: Repo, login: str) -> str:
    if login.lower() == r.owner.lower():
        return "OWNER"
    if state.permission(r, login) in ("admin", "maintain", "write"):
        return "COLLABORATOR"
    return "NONE"


def comment(state: GitHubState, base: str, r: Repo, item: Comment) -> dict[str, Any]:
    api = f"{base}/repos/{r.full_name}/issues/comments/{item.id}"
    issue_kind = "pull" if r.issues[item.issue_number].pull else "issues"
    return {
        "id": item.id,
        "node_id": node_id("IssueComment", item.id),
        "url": api,
        "html_url": f"{HTML}/{r.full_name}/{issue_kind}/{item.issue_number}#issuecomment-{item.id}",
        "issue_url": f"{base}/repos/{r.full_name}/issues/{item.issue_number}",
        "body": item.body,
        "user": user(state, base, item.user),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "author_association": association(state, r, item.user),
        "reactions": reaction_rollup(f"{api}/reactions", item.reactions),
    }


def issue_event(state: GitHubState, base: str, r: Repo, item: IssueEvent) -> dict[str, Any]:
    label = r.labels.get(item.label.lower())
    via = state.apps.get(item.app_id) if item.app_id is not None else None
    return {
        "id": item.id,
        "node_id": node_id("LabeledEvent", item.id),
        "url": f"{base}/repos/{r.full_name}/issues/events/{item.id}",
        "actor": user(state, base, item.actor),
        "event": item.event,
        "commit_id": None,
        "commit_url": None,
        "created_at": iso(item.created_at),
        "label": {"name": item.label, "color": label.color if label else "ededed"},
        "performed_via_github_app": app(state, base, via) if via is not None else None,
    }


def app(state: GitHubState, base: str, item: App) -> dict[str, Any]:
    return {
        "id": item.id,
        "slug": item.slug,
        "node_id": node_id("Integration", item.id),
        "client_id": f"Iv1.{item.id:016x}",
        "owner": user(state, base, item.owner),
        "name": item.name,
        "description": None,
        "external_url": f"{HTML}/apps/{item.slug}",
        "html_url": f"{HTML}/apps/{item.slug}",
        "created_at": iso(item.created_at),
        "updated_at": iso(item.created_at),
        "permissions": dict(item.permissions),
        "events": list(item.events),
        "installations_count": sum(1 for i in state.installations.values() if i.app_id == item.id),
    }


def installation(state: GitHubState, base: str, item: Installation) -> dict[str, Any]:
    owner_app = state.apps[item.app_id]
    return {
        "id": item.id,
        "account": user(state, base, item.account),
        "app_id": item.app_id,
        "app_slug": owner_app.slug,
        "client_id": f"Iv1.{owner_app.id:016x}",
        "target_id": state.user(item.account).id,
        "target_type": "Organization",
        "repository_selection": "all" if item.repositories is None else "selected",
        "permissions": dict(item.permissions),
        "events": list(owner_app.events),
        "access_tokens_url": f"{base}/app/installations/{item.id}/access_tokens",
        "repositories_url": f"{base}/installation/repositories",
        "html_url": f"{HTML}/settings/installations/{item.id}",
        "created_at": iso(item.created_at),
        "updated_at": iso(item.created_at),
        "single_file_name": None,
        "suspended_at": None,
        "suspended_by": None,
    }


def check_suite(state: GitHubState, base: str, r: Repo, suite: CheckSuite) -> dict[str, Any]:
    runs = [run for run in state.check_runs.values() if run.suite_id == suite.id]
    if runs and all(run.status == "completed" for run in runs):
        status, conclusion = "completed", _suite_conclusion(runs)
    else:
        status = "in_progress" if any(run.status != "queued" for run in runs) else "queued"
        conclusion = None
    return {
        "id": suite.id,
        "node_id": node_id("CheckSuite", suite.id),
        "head_branch": suite.head_branch,
        "head_sha": suite.head_sha,
        "status": status,
        "conclusion": conclusion,
        "url": f"{base}/repos/{r.full_name}/check-suites/{suite.id}",
        "before": None,
        "after": suite.head_sha,
        "pull_requests": [],
        "app": app(state, base, state.apps[suite.app_id]),
        "repository": repo(state, base, r),
        "created_at": iso(suite.created_at),
        "updated_at": iso(suite.updated_at),
        "latest_check_runs_count": len(runs),
        "check_runs_url": f"{base}/repos/{r.full_name}/check-suites/{suite.id}/check-runs",
        "rerequestable": True,
        "runs_rerequestable": True,
    }


_CONCLUSION_RANK = (
    "action_required",
    "cancelled",
    "timed_out",
    "failure",
    "stale",
    "neutral",
    "skipped",
    "success",
)


def _suite_conclusion(runs: list[CheckRun]) -> str:
    # A suite takes its worst run's conclusion.
    return min((run.conclusion or "neutral" for run in runs), key=_CONCLUSION_RANK.index)


def check_run(state: GitHubState, base: str, r: Repo, run: CheckRun) -> dict[str, Any]:
    api = f"{base}/repos/{r.full_name}/check-runs/{run.id}"
    output = {"title": None, "summary": None, "text": None, **run.output}
    output.pop("annotations", None)
    output.pop("images", None)
    output["annotations_count"] = len(run.output.get("annotations", []))
    output["annotations_url"] = f"{api}/annotations"
    return {
        "id": run.id,
        "node_id": node_id("CheckRun", run.id),
        "head_sha": run.head_sha,
        "external_id": run.external_id,
        "url": api,
        "html_url": f"{HTML}/{r.full_name}/runs/{run.id}",
        "details_url": run.details_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at),
        "output": output,
        "name": run.name,
        "check_suite": {"id": run.suite_id},
        "app": app(state, base, state.apps[run.app_id]),
        "pull_requests": [],
        "actions": list(run.actions),
    }


def status(state: GitHubState, base: str, r: Repo, item: Status) -> dict[str, Any]:
    return {
        "id": item.id,
        "node_id": node_id("StatusContext", item.id),
        "url": f"{base}/repos/{r.full_name}/statuses/{item.sha}",
        "avatar_url": None,
        "state": item.state,
        "description": item.description,
        "target_url": item.target_url,
        "context": item.context,
        "creator": user(state, base, item.creator),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.created_at),
    }


def signature(item: Signature) -> dict[str, Any]:
    return {"name": item.name, "email": item.email, "date": item.date}


def git_commit(base: str, r: Repo, item: Commit) -> dict[str, Any]:
    api = f"{base}/repos/{r.full_name}/git/commits/{item.sha}"
    return {
        "sha": item.sha,
        "node_id": node_id("Commit", int(item.sha[:8], 16)),
        "url": api,
        "html_url": f"{HTML}/{r.full_name}/commit/{item.sha}",
        "author": signature(item.author),
        "committer": signature(item.committer),
        "message": item.message,
        "tree": {"sha": item.tree, "url": f"{base}/repos/{r.full_name}/git/trees/{item.tree}"},
        "parents": [
            {
                "sha": parent,
                "url": f"{base}/repos/{r.full_name}/git/commits/{parent}",
                "html_url": f"{HTML}/{r.full_name}/commit/{parent}",
            }
            for parent in item.parents
        ],
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def commit(state: GitHubState, base: str, r: Repo, item: Commit) -> dict[str, Any]:
    """The repository commit shape (GET /commits), wrapping the git commit."""
    api = f"{base}/repos/{r.full_name}/commits/{item.sha}"
    inner = git_commit(base, r, item)
    inner.pop("sha")
    inner.pop("node_id")
    inner.pop("html_url")
    inner.pop("parents")
    inner["comment_count"] = 0
    return {
        "sha": item.sha,
        "node_id": node_id("Commit", int(item.sha[:8], 16)),
        "url": api,
        "html_url": f"{HTML}/{r.full_name}/commit/{item.sha}",
        "comments_url": f"{api}/comments",
        "commit": inner,
        "author": None,
        "committer": None,
        "parents": [
            {
                "sha": p,
                "url": f"{base}/repos/{r.full_name}/commits/{p}",
                "html_url": f"{HTML}/{r.full_name}/commit/{p}",
            }
            for p in item.parents
        ],
    }


def git_ref(base: str, r: Repo, name: str, sha: str) -> dict[str, Any]:
    return {
        "ref": name,
        "node_id": node_id("Ref", zlib.crc32(f"{r.full_name}:{name}".encode())),
        "url": f"{base}/repos/{r.full_name}/git/{name}",
        "object": {
            "type": "commit",
            "sha": sha,
            "url": f"{base}/repos/{r.full_name}/git/commits/{sha}",
        },
    }


def pull(state: GitHubState, base: str, r: Repo, item: Issue) -> dict[str, Any]:
    """The pull-request shape; the issue side supplies title, labels, assignees."""
    assert item.pull is not None
    p = item.pull
    api = f"{base}/repos/{r.full_name}/pulls/{item.number}"
    rendered = issue(state, base, r, item)
    for name in (
        "pull_request",
        "reactions",
        "comments",
        "labels_url",
        "repository_url",
        "events_url",
        "state_reason",
    ):
        rendered.pop(name, None)
    head_repo = state.repos.get(p.head_repo.lower())
    head_owner = p.head_repo.split("/")[0]
    rendered.update(
        {
            "node_id": node_id("PullRequest", item.id),
            "url": api,
            "html_url": f"{HTML}/{r.full_name}/pull/{item.number}",
            "diff_url": f"{HTML}/{r.full_name}/pull/{item.number}.diff",
            "patch_url": f"{HTML}/{r.full_name}/pull/{item.number}.patch",
            "issue_url": f"{base}/repos/{r.full_name}/issues/{item.number}",
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{base}/repos/{r.full_name}/pulls/comments{{/number}}",
            "comments_url": f"{base}/repos/{r.full_name}/issues/{item.number}/comments",
            "statuses_url": f"{base}/repos/{r.full_name}/statuses/{pulls.head_sha(state, item)}",
            "head": {
                "label": f"{head_owner}:{p.head_ref}",
                "ref": p.head_ref,
                "sha": pulls.head_sha(state, item),
                "user": user(state, base, head_owner),
                "repo": repo(state, base, head_repo) if head_repo else None,
            },
            "base": {
                "label": f"{r.owner}:{p.base_ref}",
                "ref": p.base_ref,
                "sha": pulls.base_sha(state, r, item),
                "user": user(state, base, r.owner),
                "repo": repo(state, base, r),
            },
            "_links": {
                name: {"href": href}
                for name, href in (
                    ("self", api),
                    ("html", f"{HTML}/{r.full_name}/pull/{item.number}"),
                    ("issue", f"{base}/repos/{r.full_name}/issues/{item.number}"),
                    ("comments", f"{base}/repos/{r.full_name}/issues/{item.number}/comments"),
                    ("review_comments", f"{api}/comments"),
                    ("review_comment", f"{base}/repos/{r.full_name}/pulls/comments{{/number}}"),
                    ("commits", f"{api}/commits"),
                    (
                        "statuses",
                        f"{base}/repos/{r.full_name}/statuses/{pulls.head_sha(state, item)}",
                    ),
                )
            },
            "draft": p.draft,
            "merged": p.merged,
            "merged_at": iso(p.merged_at),
            "merged_by": user(state, base, p.merged_by) if p.merged_by else None,
            "merge_commit_sha": p.merge_commit_sha,
            "maintainer_can_modify": p.maintainer_can_modify,
            "requested_reviewers": [user(state, base, login) for login in p.requested_reviewers],
            "requested_teams": [
                {"id": zlib.crc32(slug.encode()), "slug": slug, "name": slug}
                for slug in p.requested_teams
            ],
            "auto_merge": None,
            "active_lock_reason": None,
        }
    )
    return rendered


def pull_details(state: GitHubState, base: str, r: Repo, item: Issue) -> dict[str, Any]:
    """The single-PR shape adds counts and mergeability to the list shape."""
    rendered = pull(state, base, r, item)
    files = pulls.changed_files(state, r, item)
    can_merge = None if item.state != "open" else pulls.mergeable(state, r, item)
    rendered.update(
        {
            "comments": sum(
                1
                for c in state.comments.values()
                if c.repo == r.full_name and c.issue_number == item.number
            ),
            "review_comments": sum(
                1
                for c in state.review_comments.values()
                if c.repo == r.full_name and c.pull_number == item.number
            ),
            "commits": len(pulls.commits_between(state, r, item)),
            "additions": sum(f.additions for f in files),
            "deletions": sum(f.deletions for f in files),
            "changed_files": len(files),
            "mergeable": can_merge,
            "mergeable_state": "unknown"
            if can_merge is None
            else "clean"
            if can_merge
            else "dirty",
            "rebaseable": can_merge,
        }
    )
    return rendered


def diff_entry(base: str, r: Repo, sha: str, change: FileChange) -> dict[str, Any]:
    """One changed file, as in a PR's files and a commit's files."""
    name = change.filename
    return {
        "sha": change.sha,
        "filename": name,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.additions + change.deletions,
        "blob_url": f"{HTML}/{r.full_name}/blob/{sha}/{name}",
        "raw_url": f"{HTML}/{r.full_name}/raw/{sha}/{name}",
        "contents_url": f"{base}/repos/{r.full_name}/contents/{name}?ref={sha}",
        "patch": change.patch,
    }
