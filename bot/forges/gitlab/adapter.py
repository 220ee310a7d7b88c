"""GitLab behind the forge port: merge requests, commit statuses, notes, labels, roles."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gidgetlab.abc import GitLabAPI
from gidgetlab.exceptions import BadRequest

from bot.checks import CheckResult, Conclusion, text_and_listing
from bot.forges.gitlab.commands import GitLabCommandPort
from bot.forges.gitlab.markdown import without_quick_actions
from bot.forges.gitlab.notes import (
    DETAILS_MARKER,
    NoteMemory,
    find_note,
    read_note,
    with_section,
    write_note,
)
from bot.forges.gitlab.statuses import StatusKey, StatusMemory, publish_status
from bot.forges.gitlab.subjects import merge_request_in_subject, project_path
from bot.forges.port import ChangeRequest, ForgeKind, Person
from bot.pipeline.retry import PermanentError
from schemas.commands_config import PermissionLevel
from schemas.envelope import Envelope

if TYPE_CHECKING:
    from bot.context import Context


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
_ICON = {Conclusion.SUCCESS: "✅", Conclusion.FAILURE: "❌", Conclusion.NEUTRAL: "⚪"}


@dataclass
class GitLabMemory:
    """What the GitLab adapter keeps across events: statuses, note ids, ferrybot's identity."""

    statuses: StatusMemory = field(default_factory=StatusMemory)
    notes: NoteMemory = field(default_factory=NoteMemory)
    bot: Person | None = None
    bot_unknown: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class GitLabForge:
    """The forge port over one gidgetlab client."""

    kind = ForgeKind.GITLAB

    def __init__(self, gl: GitLabAPI, memory: GitLabMemory) -> None:
        self._gl = gl
        self._memory = memory

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
        return await publish_status(
            self._gl, key, result, link, change.head_branch, self._memory.statuses
        )

    async def upsert_note(self, change: ChangeRequest, marker: str, body: str) -> str | None:
        """Keep one ferrybot note carrying `marker`, edited in place; its URL."""
        note = await self._own_note(change, marker)
        return await self._write(change, marker, note, f"{marker}\n{body}")

    async def add_labels(self, change: ChangeRequest, names: Sequence[str]) -> None:
        """Add labels in one request (GitLab keeps ones already there)."""
        if names:
            await self._update(change, {"add_labels": _label_list(names)})

    async def remove_label(self, change: ChangeRequest, name: str) -> None:
        """Remove a label; one already gone is fine."""
        await self._update(change, {"remove_labels": _label_list([name])})

    async def changed_paths(self, change: ChangeRequest, limit: int) -> list[str]:
        """The paths the merge request touches (both sides of a rename), at most `limit`."""
        paths: list[str] = []
        path = f"/projects/{project_path(change.project)}/merge_requests/{change.number}/diffs"
        async for diff in self._gl.getiter(path, {"per_page": "100"}):
            for name in dict.fromkeys((diff.get("old_path"), diff.get("new_path"))):
                if isinstance(name, str) and name not in paths:
                    paths.append(name)
            if len(paths) >= limit:
                return paths[:limit]
        return paths

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
        user_id = person.id if person.id is not None else await self._user_id(person.login)
        if user_id is None:
            return PermissionLevel.NONE
        try:
            member = await self._gl.getitem(
                f"/projects/{project_path(project)}/members/all/{user_id}"
            )
        except BadRequest as exc:
            if int(exc.status_code) != 404:
                raise
            return PermissionLevel.NONE  # not a member: nothing is granted
        if member.get("state") not in (None, "active"):
            return PermissionLevel.NONE  # blocked or awaiting approval
        return ROLE_OF_ACCESS_LEVEL.get(int(member.get("access_level", 0)), PermissionLevel.NONE)

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
            self._memory.notes.forget(key)
        bot = await self.identity()
        if bot is None:
            return None  # who wrote a note cannot be told: never edit one found by its marker
        note = await find_note(self._gl, change.project, change.number, marker, bot.login)
        if note is not None:
            self._memory.notes.record(key, int(note["id"]))
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
        self._memory.notes.record((change.project, change.number, marker), int(written["id"]))
        return _note_url(change, int(written["id"]))


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
