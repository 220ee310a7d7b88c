"""GitLab behind the forge port: merge requests, commit statuses, notes, labels, roles."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gidgetlab.abc import GitLabAPI
from gidgetlab.exceptions import BadRequest

from bot.checks import CheckResult, Conclusion, text_and_listing
from bot.forges.gitlab.client import DryRunGitLabClient
from bot.forges.gitlab.commands import GitLabCommandPort
from bot.forges.gitlab.markdown import NOTE_LIMIT, SECTION_LIMIT, without_quick_actions
from bot.forges.gitlab.notes import (
    DETAILS_MARKER,
    NoteMemory,
    find_note,
    read_note,
    with_section,
    write_note,
)
from bot.forges.gitlab.repo_config import project_config
from bot.forges.gitlab.statuses import StatusKey, StatusMemory, publish_status
from bot.forges.gitlab.subjects import merge_request_in_subject, project_path
from bot.forges.port import (
    ChangedFile,
    ChangeProposal,
    ChangeRequest,
    Person,
    ProposalOutcome,
)
from bot.github.limits import fit
from bot.lru_cache import LRUCache
from bot.pipeline.retry import PermanentError, TransientError
from schemas.commands_config import PermissionLevel
from schemas.envelope import Envelope
from schemas.forges import ForgeKind

if TYPE_CHECKING:
    from bot.context import Context
    from bot.repo_config import RepoConfig
    from schemas.config import BotConfig


# GitLab's access levels (members API) in ferrybot's role names: Reporters triage, Developers
# push (write), Maintainers maintain, Owners administer; Guests and Planners only read.
ROLE_OF_ACCESS_LEVEL = {
    10: PermissionLevel.READ,
    15: PermissionLevel.READ,
    20: PermissionLevel.TRIAGE,
    30: PermissionLevel.WRITE,
    40: PermissionLevel.MAINTAIN,
    50: PermissionLevel.ADMIN,
}
# GitLab's limits for a merge request: a 255-character title, a 1,048,576-character description.
TITLE_LIMIT = 255
DESCRIPTION_LIMIT = 1_048_576
_ICON = {Conclusion.SUCCESS: "✅", Conclusion.FAILURE: "❌", Conclusion.NEUTRAL: "⚪"}


@dataclass
class GitLabMemory:
    """What the GitLab adapter keeps across events: statuses, note ids, ferrybot's identity."""

    statuses: StatusMemory = field(default_factory=lambda: StatusMemory(10_000))
    notes: NoteMemory = field(default_factory=lambda: NoteMemory(10_000))
    # External status checks asked about, per merge request, and the answer each was given.
    status_checks: LRUCache[tuple[str, int], dict[int, frozenset[str]]] = field(
        default_factory=lambda: LRUCache[tuple[str, int], dict[int, frozenset[str]]](10_000)
    )
    status_check_answers: LRUCache[tuple[str, int, int, str], str] = field(
        default_factory=lambda: LRUCache[tuple[str, int, int, str], str](10_000)
    )
    bot: Person | None = None
    bot_unknown: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class GitLabForge:
    """The forge port over one gidgetlab client."""

    kind = ForgeKind.GITLAB

    def __init__(self, gl: GitLabAPI, memory: GitLabMemory) -> None:
        self._gl = gl
        self._memory = memory

    @property
    def dry_run(self) -> bool:
        """True when the client records writes instead of sending them."""
        return isinstance(self._gl, DryRunGitLabClient)

    @property
    def client(self) -> GitLabAPI:
        """The gidgetlab client, for the other GitLab parts (retraining) on the same token."""
        return self._gl

    async def identity(self) -> Person | None:
        """ferrybot's own GitLab user (`GET /user`), asked once; None without a usable token."""
        memory = self._memory
        async with memory.lock:
            if memory.bot is None and not memory.bot_unknown:
                try:
                    me = await self._gl.getitem("/user")
                    memory.bot = Person(str(me["username"]), int(me["id"]))
                except BadRequest as exc:
                    if int(exc.status_code) not in (401, 403, 404):
                        raise
                    memory.bot_unknown = True
        return memory.bot

    @property
    def gitlab(self) -> GitLabAPI:
        """The client, for the command port's note and emoji calls."""
        return self._gl

    def command_port(self, ctx: Context) -> GitLabCommandPort:
        """Commands in this event's merge-request note."""
        return GitLabCommandPort(self, ctx)

    def change_of(self, envelope: Envelope) -> tuple[str, int] | None:
        """The merge request named by the event's key (`gitlab/<project>!<iid>`)."""
        return merge_request_in_subject(envelope.subject)

    async def get_change(self, project: str, number: int) -> ChangeRequest:
        """The merge request as GitLab holds it now."""
        try:
            mr = await self._gl.getitem(
                f"/projects/{project_path(project)}/merge_requests/{number}"
            )
        except BadRequest as exc:
            if int(exc.status_code) == 404:
                raise PermanentError(f"merge request {project}!{number} not found") from None
            raise
        return change_from_merge_request(project, mr)

    async def set_check(self, change: ChangeRequest, result: CheckResult) -> str | None:
        """The verdict as a commit status on the head pipeline, its details in ferrybot's note."""
        link = await self._publish_details(change, result)
        key = StatusKey(change.project, change.head_sha, change.pipeline_id, result.name)
        previous = await publish_status(
            self._gl, key, result, link, change.head_branch, self._memory.statuses
        )
        asked = self._memory.status_checks.get((change.project, change.number), {})
        for check_id, required in asked.items():
            await self._answer(change, check_id, required)
        return previous

    async def answer_external_check(
        self, change: ChangeRequest, check_id: int, required: frozenset[str]
    ) -> str:
        """Answer the status check, and again whenever one of ferrybot's statuses changes."""
        key = (change.project, change.number)
        self._memory.status_checks[key] = {
            **self._memory.status_checks.get(key, {}),
            check_id: required,
        }
        return await self._answer(change, check_id, required)

    async def _answer(self, change: ChangeRequest, check_id: int, required: frozenset[str]) -> str:
        """`failed` when a ferrybot status on the head failed, `passed` when all succeeded and
        the `required` ones are there, else `pending`; posted only when the answer changes."""
        verdict = await self._overall(change, required)
        remembered = (change.project, change.number, check_id, change.head_sha)
        if self._memory.status_check_answers.get(remembered) == verdict:
            return verdict
        api = f"/projects/{project_path(change.project)}/merge_requests/{change.number}"
        await self._gl.post(
            f"{api}/status_check_responses",
            data={"sha": change.head_sha, "external_status_check_id": check_id, "status": verdict},
        )
        self._memory.status_check_answers[remembered] = verdict
        return verdict

    async def _overall(self, change: ChangeRequest, required: frozenset[str]) -> str:
        api = f"/projects/{project_path(change.project)}/repository/commits/{change.head_sha}"
        newest: dict[str, tuple[int, str]] = {}
        async for status in self._gl.getiter(f"{api}/statuses", {"per_page": "100"}):
            name = str(status.get("name", ""))
            if name.startswith("ferrybot/") and int(status["id"]) > newest.get(name, (0, ""))[0]:
                newest[name] = (int(status["id"]), str(status.get("status")))
        states = {state for _, state in newest.values()}
        if states & {"failed", "canceled"}:
            return "failed"
        return "passed" if states == {"success"} and required <= newest.keys() else "pending"

    async def upsert_note(self, change: ChangeRequest, marker: str, body: str) -> str | None:
        """Keep one ferrybot note carrying `marker`, edited in place; its URL.

        The body is bounded to a note's size and no line of it can run as a quick action.
        """
        note = await self._own_note(change, marker)
        text = fit(without_quick_actions(body), NOTE_LIMIT - len(marker) - 1)
        return await self._write(change, marker, note, f"{marker}\n{text}")

    async def add_labels(self, change: ChangeRequest, names: Sequence[str]) -> None:
        """Add the labels the change lacks, in one request."""
        if missing := [name for name in names if name not in change.labels]:
            await self._update(change, {"add_labels": _label_list(missing)})

    async def remove_label(self, change: ChangeRequest, name: str) -> None:
        """Remove a label; one already gone is fine."""
        await self._update(change, {"remove_labels": _label_list([name])})

    async def changed_paths(self, change: ChangeRequest, limit: int) -> list[str]:
        """The paths the merge request touches (both sides of a rename), at most `limit`."""
        paths: list[str] = []
        async for diff in self._diffs(change):
            for name in dict.fromkeys((diff.get("old_path"), diff.get("new_path"))):
                if isinstance(name, str) and name not in paths:
                    paths.append(name)
            if len(paths) >= limit:
                return paths[:limit]
        return paths

    async def changed_files(self, change: ChangeRequest, limit: int) -> list[ChangedFile]:
        """The merge request's files by their new path; deleted ones say so."""
        files: list[ChangedFile] = []
        async for diff in self._diffs(change):
            if isinstance(diff.get("new_path"), str):
                files.append(ChangedFile(diff["new_path"], bool(diff.get("deleted_file"))))
            if len(files) >= limit:
                break
        return files

    async def file_diffs(self, change: ChangeRequest, limit: int) -> list[tuple[str, str | None]]:
        """The MR's added and modified files with their hunks; GitLab collapses or cuts large
        diffs (`too_large`, `collapsed`), which then count as not read."""
        files: list[tuple[str, str | None]] = []
        async for diff in self._diffs(change):
            if diff.get("deleted_file") or not isinstance(diff.get("new_path"), str):
                continue
            whole = not (diff.get("too_large") or diff.get("collapsed"))
            patch = diff.get("diff") if whole and isinstance(diff.get("diff"), str) else None
            files.append((diff["new_path"], patch))
            if len(files) >= limit:
                break
        return files

    async def line_counts(self, change: ChangeRequest) -> tuple[int, int]:
        """Added and deleted lines, counted in the diffs (GitLab's events carry no counts).

        GitLab's `diff` holds hunks only (from `@@`), no `---`/`+++` file headers.
        """
        added = deleted = 0
        async for diff in self._diffs(change):
            for line in str(diff.get("diff") or "").splitlines():
                if line.startswith("+"):
                    added += 1
                elif line.startswith("-"):
                    deleted += 1
        return added, deleted

    def _diffs(self, change: ChangeRequest) -> AsyncIterator[dict[str, Any]]:
        path = f"/projects/{project_path(change.project)}/merge_requests/{change.number}/diffs"
        return self._gl.getiter(path, {"per_page": "100"})

    async def labels_set_by_ferrybot(self, change: ChangeRequest) -> frozenset[str]:
        """From the resource label events: who added each label last."""
        bot = await self.identity()
        if bot is None:
            return frozenset()  # who is ferrybot cannot be told: no label is trusted
        latest: dict[str, str] = {}
        api = f"/projects/{project_path(change.project)}/merge_requests/{change.number}"
        async for event in self._gl.getiter(f"{api}/resource_label_events", {"per_page": "100"}):
            name = (event.get("label") or {}).get("name")
            if event.get("action") == "add" and isinstance(name, str):
                latest[name] = str((event.get("user") or {}).get("username", ""))
        trusted = {name for name, who in latest.items() if who.lower() == bot.login.lower()}
        return frozenset(trusted & change.labels)

    async def approvers(self, change: ChangeRequest) -> list[Person]:
        """Who approved the merge request in GitLab (the approvals API, all tiers)."""
        answer = await self._gl.getitem(
            f"/projects/{project_path(change.project)}/merge_requests/{change.number}/approvals"
        )
        people = []
        for entry in answer.get("approved_by") or []:
            user = entry.get("user") if isinstance(entry, dict) else None
            if isinstance(user, dict) and isinstance(user.get("username"), str):
                people.append(Person(user["username"], _int_or_none(user.get("id"))))
        return people

    async def permission(self, project: str, person: Person) -> PermissionLevel:
        """The person's effective role (inherited from groups too), from `members/all`."""
        access = await self._access_level(f"/projects/{project_path(project)}", person)
        return ROLE_OF_ACCESS_LEVEL.get(access, PermissionLevel.NONE)

    async def in_group(self, group: str, person: Person) -> bool:
        """True when the person is an active member of `group` or of a group above it.

        A group ferrybot's user cannot see answers 404, as a non-member does: both deny.
        """
        return await self._access_level(f"/groups/{project_path(group)}", person) > 0

    async def _access_level(self, namespace: str, person: Person) -> int:
        """The person's access level in a project or group from `members/all` (0: none)."""
        user_id = person.id if person.id is not None else await self._user_id(person.login)
        if user_id is None:
            return 0
        try:
            member = await self._gl.getitem(f"{namespace}/members/all/{user_id}")
        except BadRequest as exc:
            if int(exc.status_code) != 404:
                raise
            return 0  # not a member: nothing is granted
        if member.get("state") not in (None, "active"):
            return 0  # blocked or awaiting approval
        level = member.get("access_level")
        return level if isinstance(level, int) and not isinstance(level, bool) else 0

    async def open_thread(self, change: ChangeRequest, marker: str, body: str) -> None:
        """One unresolved ferrybot thread carrying `marker`: made once, reopened after that."""
        thread = await self._own_thread(change, marker)
        if thread is None:
            await self._gl.post(
                f"{self._mr_path(change)}/discussions",
                data={"body": without_quick_actions(f"{marker}\n{body}")},
            )
        elif not _unresolved(thread):
            await self._gl.put(
                f"{self._mr_path(change)}/discussions/{thread['id']}", data={"resolved": False}
            )

    async def resolve_threads(self, change: ChangeRequest, marker: str) -> None:
        """Resolve ferrybot's thread carrying `marker`, if it is open."""
        thread = await self._own_thread(change, marker)
        if thread is not None and _unresolved(thread):
            await self._gl.put(
                f"{self._mr_path(change)}/discussions/{thread['id']}", data={"resolved": True}
            )

    async def _own_thread(self, change: ChangeRequest, marker: str) -> dict[str, Any] | None:
        bot = await self.identity()
        if bot is None:
            return None  # whose thread it is cannot be told: open a new one
        async for thread in self._gl.getiter(
            f"{self._mr_path(change)}/discussions", {"per_page": "100"}
        ):
            notes = thread.get("notes") or []
            first = notes[0] if notes else {}
            author = str((first.get("author") or {}).get("username", ""))
            if author.lower() == bot.login.lower() and marker in str(first.get("body", "")):
                return dict(thread)
        return None

    def _mr_path(self, change: ChangeRequest) -> str:
        return f"/projects/{project_path(change.project)}/merge_requests/{change.number}"

    async def _user_id(self, login: str) -> int | None:
        async for user in self._gl.getiter("/users", {"username": login}):
            if str(user.get("username", "")).lower() == login.lower():
                return int(user["id"])
        return None

    async def _update(self, change: ChangeRequest, data: dict[str, Any]) -> None:
        await self._gl.put(
            f"/projects/{project_path(change.project)}/merge_requests/{change.number}", data=data
        )

    async def _publish_details(self, change: ChangeRequest, result: CheckResult) -> str | None:
        """Write the check's section of the details note; the note's URL for the status."""
        text = (
            f"#### {_ICON[result.conclusion]} `{result.name}`: {result.title}\n\n{result.summary}"
        )
        rest = text_and_listing(result.text or "", result.annotations)
        if rest:
            text += f"\n\n{rest}"
        note = await self._own_note(change, DETAILS_MARKER)
        current = str(note["body"]) if note is not None else None
        wanted = with_section(current, result.name, text)
        if note is not None and wanted == current:
            return _note_url(change, int(note["id"]))
        return await self._write(change, DETAILS_MARKER, note, wanted)

    async def _own_note(self, change: ChangeRequest, marker: str) -> dict[str, Any] | None:
        key = (change.project, change.number, marker)
        remembered = self._memory.notes.get(key)
        if remembered is not None:
            note = await read_note(self._gl, change.project, change.number, remembered)
            if note is not None:
                return note
            self._memory.notes.pop(key, None)
        bot = await self.identity()
        if bot is None:
            return None  # who wrote a note cannot be told: never edit one found by its marker
        note = await find_note(self._gl, change.project, change.number, marker, bot.login)
        if note is not None:
            self._memory.notes[key] = int(note["id"])
        return note

    async def _write(
        self, change: ChangeRequest, marker: str, note: dict[str, Any] | None, body: str
    ) -> str | None:
        note_id = int(note["id"]) if note is not None else None
        if note is not None and note.get("body") == body:
            return _note_url(change, int(note["id"]))
        written = await write_note(self._gl, change.project, change.number, note_id, body)
        if "id" not in written:
            return None
        self._memory.notes[(change.project, change.number, marker)] = int(written["id"])
        return _note_url(change, int(written["id"]))

    # The GitOps side: branches, files, commits and ferrybot's own merge requests.

    async def branch_head(self, project: str, branch: str) -> str | None:
        """The commit a branch points at (branches API), or None."""
        path = f"/projects/{project_path(project)}/repository/branches/{quote(branch, safe='')}"
        try:
            found = await self._gl.getitem(path)
        except BadRequest as exc:
            if int(exc.status_code) == 404:
                return None
            raise
        return str(found["commit"]["id"])

    async def repo_config(self, central: BotConfig, project: str) -> RepoConfig:
        """The central config with the project's file from its default branch merged in."""
        return await project_config(self._gl, central, project)

    async def read_file(self, project: str, path: str, ref: str) -> str | None:
        """A file's text at `ref` (repository files API), or None when it is not there."""
        found = await self._file(project, path, ref)
        if found is None:
            return None
        return base64.b64decode(str(found.get("content", ""))).decode("utf-8")

    async def commit_files(
        self,
        project: str,
        branch: str,
        base: tuple[str, str],
        files: dict[str, str],
        message: str,
    ) -> tuple[str, bool]:
        """One commit for every file through the commits API, made only when needed.

        The branch is created (or reset, `force`) from the base branch in the same call, and
        every update carries the file's `last_commit_id` as read: GitLab's only guard against
        a change to the base made meanwhile, which then fails the call and the retry reads again.
        """
        base_branch, base_sha = base
        head = await self.branch_head(project, branch)
        if head is not None and await self._holds(project, head, base_sha, files):
            return head, False
        actions: list[dict[str, Any]] = []
        for path, text in files.items():
            current = await self._file(project, path, base_sha)
            action: dict[str, Any] = {"file_path": path, "content": text, "encoding": "text"}
            if current is None:
                action["action"] = "create"
            else:
                action.update(action="update", last_commit_id=current["last_commit_id"])
            actions.append(action)
        data: dict[str, Any] = {
            "branch": branch,
            "start_branch": base_branch,
            "commit_message": message,
            "actions": actions,
        }
        if head is not None:
            data["force"] = True
        try:
            commit = await self._gl.post(
                f"/projects/{project_path(project)}/repository/commits", data=data
            )
        except BadRequest as exc:
            if int(exc.status_code) == 400 and "changed" in str(exc):
                raise TransientError(f"{project}: {base_branch} changed while promoting") from None
            raise
        return str(commit.get("id") or "dry-run:commit"), True

    async def open_change(self, project: str, source_branch: str) -> ChangeRequest | None:
        """ferrybot's open merge request from `source_branch`."""
        found = await self._open_merge_request(project, source_branch)
        return change_from_merge_request(project, found) if found is not None else None

    async def open_or_update_change(
        self, project: str, proposal: ChangeProposal
    ) -> ProposalOutcome:
        """The branch's merge request, edited in place when it reads differently, else opened.

        GitLab runs quick actions written in a description, so the body is neutralised; a draft
        is GitLab's `Draft:` title prefix, which also works on an open merge request.
        """
        title = fit(("Draft: " if proposal.draft else "") + proposal.title, TITLE_LIMIT)
        body = fit(without_quick_actions(proposal.body), DESCRIPTION_LIMIT)
        existing = await self._open_merge_request(project, proposal.source_branch)
        api = f"/projects/{project_path(project)}/merge_requests"
        if existing is None:
            data: dict[str, Any] = {
                "source_branch": proposal.source_branch,
                "target_branch": proposal.target_branch,
                "title": title,
                "description": body,
                "remove_source_branch": True,
            }
            if proposal.labels:
                data["labels"] = _label_list(proposal.labels)
            for key, logins in (
                ("reviewer_ids", proposal.reviewers),
                ("assignee_ids", proposal.assignees),
            ):
                if ids := await self._user_ids(logins):
                    data[key] = ids
            try:
                created = await self._gl.post(api, data=data)
            except BadRequest as exc:
                if int(exc.status_code) == 409:
                    raise TransientError("another run opened this merge request; again") from None
                raise
            return ProposalOutcome(change_from_merge_request(project, created), True, False)
        changes: dict[str, Any] = {}
        if existing.get("title") != title:
            changes["title"] = title
        if (existing.get("description") or "") != body:
            changes["description"] = body
        labels = set(existing.get("labels") or [])
        if missing := [label for label in proposal.labels if label not in labels]:
            changes["add_labels"] = _label_list(missing)
        for key, field_name, logins in (
            ("reviewer_ids", "reviewers", proposal.reviewers),
            ("assignee_ids", "assignees", proposal.assignees),
        ):
            have = {str(u.get("username")): int(u["id"]) for u in existing.get(field_name) or []}
            if new := await self._user_ids([login for login in logins if login not in have]):
                changes[key] = [*have.values(), *new]
        if not changes:
            return ProposalOutcome(change_from_merge_request(project, existing), False, False)
        updated = await self._gl.put(f"{api}/{existing['iid']}", data=changes)
        content_changed = "title" in changes or "description" in changes
        return ProposalOutcome(change_from_merge_request(project, updated), False, content_changed)

    async def close_change(self, project: str, source_branch: str, why: str) -> int | None:
        """Close ferrybot's open merge request from the branch, with a note saying why."""
        existing = await self._open_merge_request(project, source_branch)
        if existing is None:
            return None
        iid = int(existing["iid"])
        api = f"/projects/{project_path(project)}/merge_requests/{iid}"
        body = fit(without_quick_actions(why), SECTION_LIMIT)
        await self._gl.post(f"{api}/notes", data={"body": body})
        await self._gl.put(api, data={"state_event": "close"})
        return iid

    async def file_history(
        self, project: str, branch: str, path: str, limit: int
    ) -> list[tuple[str, datetime]]:
        """Commits on `branch` that changed `path`, newest first (commits API)."""
        params: dict[str, str | bool] = {"ref_name": branch, "path": path, "per_page": str(limit)}
        found: list[tuple[str, datetime]] = []
        api = f"/projects/{project_path(project)}/repository/commits"
        async for commit in self._gl.getiter(api, params):
            when = str(commit.get("committed_date") or commit.get("created_at"))
            found.append((str(commit["id"]), datetime.fromisoformat(when.replace("Z", "+00:00"))))
            if len(found) >= limit:
                break
        return found

    async def _file(self, project: str, path: str, ref: str) -> dict[str, Any] | None:
        api = f"/projects/{project_path(project)}/repository/files/{quote(path, safe='')}"
        try:
            return dict(await self._gl.getitem(api, {"ref": ref}))
        except BadRequest as exc:
            if int(exc.status_code) == 404:
                return None
            raise

    async def _holds(self, project: str, head: str, base_sha: str, files: dict[str, str]) -> bool:
        """True when `head` is one commit on `base_sha` whose files read as `files`."""
        commit = await self._gl.getitem(
            f"/projects/{project_path(project)}/repository/commits/{head}"
        )
        if list(commit.get("parent_ids") or []) != [base_sha]:
            return False
        for path, text in files.items():
            if await self.read_file(project, path, head) != text:
                return False
        return True

    async def _open_merge_request(self, project: str, branch: str) -> dict[str, Any] | None:
        params: dict[str, str | bool] = {"source_branch": branch, "state": "opened"}
        api = f"/projects/{project_path(project)}/merge_requests"
        async for mr in self._gl.getiter(api, params):
            if mr.get("source_branch") == branch:
                return dict(mr)
        return None

    async def _user_ids(self, logins: Sequence[str]) -> list[int]:
        """GitLab user ids for logins (reviewers, assignees); unknown logins are skipped."""
        ids = []
        for login in logins:
            user_id = await self._user_id(login)
            if user_id is not None:
                ids.append(user_id)
        return ids


def change_from_merge_request(project: str, mr: dict[str, Any]) -> ChangeRequest:
    """A ChangeRequest from GitLab's merge request object (REST API shape)."""
    pipeline = mr.get("head_pipeline")
    pipeline_id = pipeline.get("id") if isinstance(pipeline, dict) else None
    # The head pipeline may still run an older commit; statuses go on the head commit's own.
    if isinstance(pipeline, dict) and pipeline.get("sha") not in (None, mr.get("sha")):
        pipeline_id = None
    labels = mr.get("labels") or []
    return ChangeRequest(
        forge=ForgeKind.GITLAB,
        project=project,
        number=int(mr["iid"]),
        title=str(mr.get("title", "")),
        author=str((mr.get("author") or {}).get("username", "")),
        head_sha=str(mr["sha"]),
        head_branch=str(mr.get("source_branch", "")),
        target_branch=str(mr.get("target_branch", "")),
        labels=frozenset(
            str(label["name"] if isinstance(label, dict) else label) for label in labels
        ),
        draft=bool(mr.get("draft") or mr.get("work_in_progress")),
        url=str(mr.get("web_url", "")),
        pipeline_id=int(pipeline_id) if isinstance(pipeline_id, int) else None,
    )


def _label_list(names: Sequence[str]) -> str:
    """GitLab takes labels as one comma-separated string: a comma in a name cannot be sent."""
    for name in names:
        if "," in name:
            raise PermanentError(f"label {name!r} contains a comma, which GitLab cannot take")
    return ",".join(names)


def _unresolved(thread: dict[str, Any]) -> bool:
    return any(n.get("resolvable") and not n.get("resolved") for n in thread.get("notes") or [])


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _note_url(change: ChangeRequest, note_id: int) -> str:
    return f"{change.url}#note_{note_id}"
