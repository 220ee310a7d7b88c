"""The in-process test API: seed users, projects and merge requests; read back the results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tests.fakegitlab import ci, render, repository
from tests.fakegitlab.state import (
    ACCESS_LEVELS,
    OWNER,
    Commit,
    Discussion,
    GitLabState,
    Group,
    Label,
    MergeRequest,
    Note,
    NotFound,
    Project,
    User,
    discussion_id,
    now,
)

Files = Mapping[str, str | None]
LABEL_COLORS = ("#428bca", "#44ad8e", "#a8d695", "#5cb85c", "#69d100", "#d9534f", "#f0ad4e")


class Seeding:
    """Mixed into FakeGitLab; every method changes `self.state` directly, no HTTP."""

    state: GitLabState

    @property
    def url(self) -> str:
        raise NotImplementedError

    # People and projects

    def add_user(self, username: str, *, name: str | None = None, state: str = "active") -> User:
        """A user (idempotent by username); state "blocked" models a blocked account."""
        if username in self.state.users:
            return self.state.users[username]
        user = User(
            self.state.next_id("user"),
            username,
            name or username.replace("-", " ").title(),
            state,
        )
        self.state.users[username] = user
        return user

    def add_token(self, token: str, username: str) -> None:
        """A personal/project access token (or OAuth token) that authenticates as username."""
        self.add_user(username)
        self.state.tokens[token] = username

    def add_project(
        self,
        path_with_namespace: str,
        *,
        files: Mapping[str, str] | None = None,
        default_branch: str = "main",
    ) -> Project:
        """A project whose default branch has one commit with `files` (README.md if none)."""
        if "/" not in path_with_namespace:
            raise ValueError("a GitLab project lives in a namespace: 'group/project'")
        project = Project(
            id=self.state.next_id("project"),
            path_with_namespace=path_with_namespace,
            default_branch=default_branch,
            namespace_id=self.state.next_id("namespace"),
            protected_branches={default_branch},
        )
        self.state.projects[project.id] = project
        owner = self.add_user(path_with_namespace.split("/", 1)[0] + "-owner")
        project.members[owner.id] = OWNER
        repository.write(
            self.state,
            project,
            default_branch,
            dict(files) if files else {"README.md": f"# {project.path}\n"},
            author=owner,
            message="Initial commit",
        )
        return project

    def add_member(self, project_path: str, username: str, access_level: int) -> None:
        if access_level not in ACCESS_LEVELS:
            raise ValueError(f"access_level must be one of {ACCESS_LEVELS}")
        user = self.add_user(username)
        self.state.project(project_path).members[user.id] = access_level

    def add_group_member(self, group_path: str, username: str, access_level: int) -> None:
        """A direct member of the group, which is made (private) when it does not exist yet."""
        if access_level not in ACCESS_LEVELS:
            raise ValueError(f"access_level must be one of {ACCESS_LEVELS}")
        user = self.add_user(username)
        try:
            group = self.state.group(group_path)
        except NotFound:
            group = Group(self.state.next_id("group"), group_path)
            self.state.groups[group.id] = group
        group.members[user.id] = access_level

    def add_trigger_token(self, project_path: str, token: str) -> None:
        """A pipeline trigger token of the project (doc/api/pipeline_triggers.md)."""
        self.state.project(project_path).trigger_tokens.add(token)

    # Repository

    def push(
        self,
        project_path: str,
        branch: str,
        files: Files,
        *,
        author: str,
        message: str = "Update files",
    ) -> str:
        """One commit on branch (created from the default branch if new); None deletes a file.
        An open MR from that branch gets the new sha and a new running head pipeline."""
        project = self.state.project(project_path)
        user = self.add_user(author)
        commit = repository.write(self.state, project, branch, files, author=user, message=message)
        self.on_push(project, branch, commit, user)
        return commit.sha

    def on_push(self, project: Project, branch: str, commit: Commit, user: User) -> None:
        """What GitLab does after a push: MRs from the branch follow it, with a new pipeline."""
        for mr in project.merge_requests.values():
            if mr.source_branch == branch and mr.state == "opened":
                mr.sha = commit.sha
                mr.updated_at = now()
                self._run_head_pipeline(project, mr, user)

    def _run_head_pipeline(self, project: Project, mr: MergeRequest, user: User) -> None:
        if mr.pipeline_source is None:
            return
        ref = (
            f"refs/merge-requests/{mr.iid}/head"
            if mr.pipeline_source == "merge_request_event"
            else mr.source_branch
        )
        pipeline = ci.new_pipeline(
            self.state,
            project,
            sha=mr.sha,
            ref=ref,
            status="running",
            source=mr.pipeline_source,
            user=user,
        )
        mr.head_pipeline_id = pipeline.id

    # Merge requests

    def add_merge_request(
        self,
        project_path: str,
        *,
        source_branch: str,
        author: str,
        title: str = "Update deployment",
        target_branch: str = "main",
        files: Files | None = None,
        labels: Iterable[str] = (),
        description: str = "",
        draft: bool = False,
        pipeline_source: str | None = "push",
    ) -> MergeRequest:
        """An open MR whose source branch has one commit changing `files` (a change to
        CHANGES.md if none), with a running head pipeline: a branch pipeline, or with
        pipeline_source="merge_request_event" an MR pipeline on refs/merge-requests/<iid>/head
        (None: no CI)."""
        project = self.state.project(project_path)
        user = self.add_user(author)
        if source_branch not in project.branches:
            repository.write(
                self.state,
                project,
                source_branch,
                dict(files) if files else {"CHANGES.md": f"{title}\n"},
                author=user,
                message=title,
                start=target_branch,
            )
        mr = self.open_merge_request(
            project,
            source_branch=source_branch,
            target_branch=target_branch,
            title=title,
            description=description,
            labels=list(labels),
            author=user,
            pipeline_source=pipeline_source,
        )
        mr.draft = draft or mr.draft
        return mr

    def open_merge_request(
        self,
        project: Project,
        *,
        source_branch: str,
        target_branch: str,
        title: str,
        description: str,
        labels: list[str],
        author: User,
        pipeline_source: str | None = "push",
    ) -> MergeRequest:
        sha = project.branches[source_branch]
        base = _merge_base(project, project.branches[target_branch], sha)
        mr = MergeRequest(
            id=self.state.next_id("merge_request"),
            iid=len(project.merge_requests) + 1,
            project_id=project.id,
            title=title,
            description=description,
            source_branch=source_branch,
            target_branch=target_branch,
            author=author,
            base_sha=base,
            sha=sha,
            draft=title.lower().startswith(("draft:", "[draft]", "(draft)")),
            pipeline_source=pipeline_source,
        )
        project.merge_requests[mr.iid] = mr
        self.set_labels(project, mr, labels)
        self._run_head_pipeline(project, mr, author)
        return mr

    def set_labels(
        self, project: Project, mr: MergeRequest, labels: list[str], actor: User | None = None
    ) -> None:
        """Set the MR's labels; unknown ones become project labels, as GitLab does. Each label
        added or removed is a resource label event by `actor` (default: the MR's author)."""
        wanted = list(dict.fromkeys(labels))
        who = actor or mr.author
        for action, names in (
            ("add", [n for n in wanted if n not in mr.labels]),
            ("remove", [n for n in mr.labels if n not in wanted]),
        ):
            for name in names:
                mr.label_events.append(
                    {
                        "id": self.state.next_id("label_event"),
                        "action": action,
                        "label": name,
                        "user": who,
                    }
                )
        for name in labels:
            if name not in project.labels:
                project.labels[name] = Label(
                    self.state.next_id("label"),
                    name,
                    LABEL_COLORS[len(project.labels) % len(LABEL_COLORS)],
                )
        mr.labels = wanted

    def merge(self, project_path: str, iid: int, *, by: str) -> str:
        """Merge the MR with a merge commit: the target gets the source's changes."""
        project = self.state.project(project_path)
        return self.merge_into_target(project, project.merge_request(iid), self.add_user(by))

    def merge_into_target(
        self,
        project: Project,
        mr: MergeRequest,
        user: User,
        *,
        message: str | None = None,
        squash: bool = False,
        remove_source_branch: bool = False,
    ) -> str:
        """The merge GitLab makes: one merge commit (or, squashed, one commit) on the target."""
        base = project.commits[mr.base_sha].files
        head = project.commits[mr.sha].files
        changes: dict[str, str | None] = {
            path: head.get(path)
            for path in set(base) | set(head)
            if base.get(path) != head.get(path)
        }
        default = (
            f"Merge branch '{mr.source_branch}' into '{mr.target_branch}'\n\n"
            f"{mr.title}\n\nSee merge request {project.path_with_namespace}!{mr.iid}"
        )
        commit = repository.write(
            self.state,
            project,
            mr.target_branch,
            changes,
            author=user,
            message=message or (mr.title if squash else default),
            extra_parents=() if squash else [mr.sha],
        )
        mr.state, mr.merged_by, mr.auto_merge_by = "merged", user, None
        if squash:
            mr.squash_commit_sha = commit.sha
        else:
            mr.merge_commit_sha = commit.sha
        mr.merged_at = mr.updated_at = now()
        if remove_source_branch or mr.remove_source_branch:
            project.branches.pop(mr.source_branch, None)
        return commit.sha

    def add_note(self, project_path: str, iid: int, *, author: str, body: str) -> dict[str, Any]:
        """A person's comment on the MR; returns it as the notes API shows it."""
        project = self.state.project(project_path)
        mr = project.merge_request(iid)
        note = self.write_note(project, mr, self.add_user(author), body)
        return render.note(self.url, project, mr, note, True)

    def write_note(self, project: Project, mr: MergeRequest, author: User, body: str) -> Note:
        """A note in its own (individual) thread, the way GitLab stores a plain comment."""
        note_id = self.state.next_id("note")
        thread = Discussion(discussion_id("note", project.id, mr.iid, note_id), True)
        note = Note(note_id, body, author, thread.id)
        thread.notes.append(note)
        mr.discussions.append(thread)
        return note

    def set_pipeline_status(self, project_path: str, pipeline_id: int, status: str) -> None:
        """What the pipeline's own CI jobs did, e.g. "success" or "failed"; the pipeline's status
        is composed from that and the external statuses on it."""
        project = self.state.project(project_path)
        pipeline = project.pipelines[pipeline_id]
        pipeline.jobs = status
        ci.refresh(project, pipeline)
        # "Auto-merge when the pipeline succeeds", set through the merge API.
        for mr in project.merge_requests.values():
            if (
                mr.auto_merge_by is not None
                and mr.head_pipeline_id == pipeline.id
                and pipeline.status == "success"
                and mr.state == "opened"
            ):
                self.merge_into_target(project, mr, mr.auto_merge_by)

    def approve(self, project_path: str, iid: int, *, user: str) -> None:
        mr = self.state.project(project_path).merge_request(iid)
        approver = self.add_user(user)
        if approver not in mr.approved_by:
            mr.approved_by.append(approver)

    # Queries

    def statuses(self, project_path: str, sha: str) -> list[dict[str, Any]]:
        """Every commit status row of the sha, oldest first."""
        project = self.state.project(project_path)
        return [render.status(self.url, s) for s in project.statuses if s.sha == sha]

    def merge_request(self, project_path: str, iid: int) -> dict[str, Any]:
        project = self.state.project(project_path)
        mr = project.merge_request(iid)
        head = project.pipelines.get(mr.head_pipeline_id) if mr.head_pipeline_id else None
        return render.merge_request(self.url, project, mr, head)

    def merge_requests(self, project_path: str) -> list[dict[str, Any]]:
        project = self.state.project(project_path)
        return [self.merge_request(project_path, iid) for iid in sorted(project.merge_requests)]

    def notes(self, project_path: str, iid: int) -> list[dict[str, Any]]:
        """The MR's notes, oldest first."""
        project = self.state.project(project_path)
        mr = project.merge_request(iid)
        pairs = sorted(((t, n) for t in mr.discussions for n in t.notes), key=lambda p: p[1].id)
        return [render.note(self.url, project, mr, n, t.individual_note) for t, n in pairs]

    def discussions(self, project_path: str, iid: int) -> list[dict[str, Any]]:
        project = self.state.project(project_path)
        mr = project.merge_request(iid)
        return [render.discussion(self.url, project, mr, t) for t in mr.discussions]

    def awards(self, project_path: str, iid: int, note_id: int) -> list[tuple[str, str]]:
        """The emoji on a note, as (username, name), oldest first."""
        mr = self.state.project(project_path).merge_request(iid)
        return [(a.user.username, a.name) for n in mr.notes() if n.id == note_id for a in n.awards]

    def labels(self, project_path: str, iid: int) -> list[str]:
        return sorted(self.state.project(project_path).merge_request(iid).labels)

    def file(self, project_path: str, branch: str, path: str) -> str | None:
        project = self.state.project(project_path)
        head = project.branches.get(branch)
        return project.commits[head].files.get(path) if head else None

    def branch_head(self, project_path: str, branch: str) -> str | None:
        return self.state.project(project_path).branches.get(branch)

    def pipelines(self, project_path: str) -> list[dict[str, Any]]:
        """Every pipeline of the project, oldest first, with the variables it was given."""
        project = self.state.project(project_path)
        answer = []
        for pipeline in sorted(project.pipelines.values(), key=lambda p: p.id):
            shown = render.pipeline(self.url, project, pipeline)
            shown["variables"] = [dict(v) for v in pipeline.variables]
            answer.append(shown)
        return answer


def _merge_base(project: Project, target_sha: str, source_sha: str) -> str:
    """The newest commit of the target's history the source also reaches."""
    reachable = {c.sha for c in repository.history(project, source_sha)}
    for commit in repository.history(project, target_sha):
        if commit.sha in reachable:
            return commit.sha
    return target_sha
