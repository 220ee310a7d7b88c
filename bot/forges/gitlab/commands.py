"""The command runner's port on GitLab: Note Hooks, award emoji, reply notes, member roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gidgetlab.exceptions import BadRequest

from bot.commands.feedback import PastReplies, Reaction, reply_markers
from bot.commands.framework import ChangeState
from bot.commands.sources import CommentSource, SourceKind
from bot.context import Context
from bot.forges.gitlab.markdown import without_quick_actions
from bot.forges.gitlab.subjects import project_path, project_subject
from bot.forges.port import Person
from bot.permissions import Decision, GrantWording, decide_grant
from bot.repo_config import RepoConfig
from schemas.commands_config import CommandGrant, PermissionLevel
from schemas.forges import ForgeKind

if TYPE_CHECKING:
    from bot.forges.gitlab.adapter import GitLabForge

# GitLab's emoji names for ferrybot's reactions (doc/api/emoji_reactions.md takes names).
AWARD_OF_REACTION = {Reaction.ACCEPTED: "thumbsup", Reaction.REFUSED: "confused"}
# The role names GitLab users know, for refusal replies.
GITLAB_ROLE = {
    PermissionLevel.READ: "Guest",
    PermissionLevel.TRIAGE: "Reporter",
    PermissionLevel.WRITE: "Developer",
    PermissionLevel.MAINTAIN: "Maintainer",
    PermissionLevel.ADMIN: "Owner",
}


GITLAB_WORDING = GrantWording(place="this project", team_kind="the group ", role_names=GITLAB_ROLE)


@dataclass
class ProjectRoles:
    """Effective roles in one GitLab project and group memberships, cached for one delivery."""

    forge: GitLabForge
    project: str
    ids: dict[str, int] = field(default_factory=dict)
    _levels: dict[str, PermissionLevel] = field(default_factory=dict)
    _groups: dict[tuple[str, str], bool] = field(default_factory=dict)

    async def level(self, login: str) -> PermissionLevel:
        """The user's effective role (group memberships included)."""
        key = login.lower()
        if key not in self._levels:
            self._levels[key] = await self.forge.permission(self.project, self._person(login))
        return self._levels[key]

    async def in_team(self, login: str, team: str) -> bool:
        """On GitLab a grant's team is a group (`group/subgroup`): True for its members."""
        key = (team.lower(), login.lower())
        if key not in self._groups:
            self._groups[key] = await self.forge.in_group(team, self._person(login))
        return self._groups[key]

    async def decide(self, login: str, grant: CommandGrant, default: PermissionLevel) -> Decision:
        """Allowed when the user is named, holds the minimum role, or is in a named group."""
        return await decide_grant(self, login, grant, default, GITLAB_WORDING)

    def _person(self, login: str) -> Person:
        return Person(login, self.ids.get(login.lower()))


class GitLabCommandPort:
    """Commands in merge-request notes, answered with award emoji and one reply note."""

    kind = ForgeKind.GITLAB

    def __init__(self, forge: GitLabForge, ctx: Context) -> None:
        self._forge = forge
        self._ctx = ctx

    async def source(self) -> CommentSource | None:
        """The note of a Note Hook on a merge request; system notes and others' kinds are not."""
        payload = self._ctx.payload
        attributes = payload.get("object_attributes") or {}
        named = self._forge.change_of(self._ctx.envelope)
        user = payload.get("user") or {}
        body = attributes.get("note")
        if (
            named is None
            or attributes.get("noteable_type") != "MergeRequest"
            or attributes.get("system")
            or not isinstance(body, str)
            or not body
            or not isinstance(user.get("username"), str)
        ):
            return None
        project, iid = named
        login = str(user["username"])
        bot = await self._forge.identity()
        owner, _, repo = project.rpartition("/")
        created = _hook_time(attributes.get("created_at"))
        return CommentSource(
            SourceKind.NOTE,
            owner,
            repo,
            iid,
            int(attributes["id"]),
            body,
            login,
            bot is not None and bot.login.lower() == login.lower(),
            created,
            _hook_time(attributes.get("updated_at")) or created,
            author_id=_int_or_none(user.get("id")),
        )

    async def thread(self, source: CommentSource) -> ChangeState:
        """The merge request as GitLab holds it now."""
        change = await self._forge.get_change(_project(source), source.number)
        return ChangeState(change, set(change.labels))

    async def config(self, source: CommentSource) -> RepoConfig:
        """The central config with the project's own file (default branch) merged in."""
        return await self._ctx.project_config(_project(source))

    def permissions(self, source: CommentSource) -> ProjectRoles:
        """Effective roles in the note's project; the author is asked by the id GitLab sent."""
        ids = {source.author.lower(): source.author_id} if source.author_id is not None else {}
        return ProjectRoles(self._forge, _project(source), ids)

    def subject(self, source: CommentSource) -> str:
        """`gitlab/group/project!iid`."""
        return project_subject(_project(source), source.number)

    async def react(self, source: CommentSource, reaction: Reaction) -> None:
        """Award the emoji on the note; one already awarded is what was wanted."""
        try:
            await self._forge.gitlab.post(
                self._awards_path(source), data={"name": AWARD_OF_REACTION[reaction]}
            )
        except BadRequest as exc:
            # lib/api/award_emoji.rb answers a repeat with 404 "Award Emoji Name has already
            # been taken Not Found"; a note deleted meanwhile is a plain 404 and equally moot.
            if int(exc.status_code) != 404:
                raise

    async def already_handled(self, source: CommentSource) -> bool:
        """True when ferrybot's emoji is on the note or its reply names the note.

        A Note Hook is redelivered under a new id (GitLab's resend, a retry after a timeout):
        what ferrybot left on GitLab tells. Without a known identity nothing can: run again.
        """
        bot = await self._forge.identity()
        if bot is None:
            return False
        wanted = set(AWARD_OF_REACTION.values())
        try:
            async for award in self._forge.gitlab.getiter(
                self._awards_path(source), {"per_page": "100"}
            ):
                who = str((award.get("user") or {}).get("username", ""))
                if who.lower() == bot.login.lower() and award.get("name") in wanted:
                    return True
        except BadRequest as exc:
            if int(exc.status_code) != 404:
                raise
            return True  # the note is gone: there is nothing left to answer
        since = (_parse(source.created_at) or datetime.now(UTC)) - timedelta(minutes=1)
        past = await self.past_replies(source, since)
        return any(marker["source"] == source.key for marker, _ in past.markers)

    async def past_replies(self, source: CommentSource, since: datetime) -> PastReplies:
        """Reply markers in ferrybot's own notes since `since` (a pasted marker counts not)."""
        bot = await self._forge.identity()
        markers: list[tuple[dict[str, str], datetime]] = []
        path = self._notes_path(source)
        params: dict[str, str | bool] = {
            "sort": "desc",
            "order_by": "created_at",
            "per_page": "100",
        }
        async for note in self._forge.gitlab.getiter(path, params):
            created = _parse(note.get("created_at"))
            if created is not None and created < since:
                break  # newest first: the rest is older still
            author = str((note.get("author") or {}).get("username", ""))
            if bot is None or author.lower() == bot.login.lower():
                markers.extend(reply_markers(dict(note)))
        return PastReplies(markers)

    async def post_reply(self, source: CommentSource, body: str) -> None:
        """A note on the merge request, with every line GitLab would run defused."""
        await self._forge.gitlab.post(
            self._notes_path(source), data={"body": without_quick_actions(body)}
        )

    def _notes_path(self, source: CommentSource) -> str:
        return f"/projects/{project_path(_project(source))}/merge_requests/{source.number}/notes"

    def _awards_path(self, source: CommentSource) -> str:
        return f"{self._notes_path(source)}/{source.id}/award_emoji"


def _project(source: CommentSource) -> str:
    return f"{source.owner}/{source.repo}"


def _hook_time(value: Any) -> str | None:
    """GitLab's webhook time (`2015-05-17 18:21:36 UTC`) as ISO 8601, as the API writes it."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S %Z").replace(tzinfo=UTC)
    except ValueError:
        parsed = _parse(value)
        return parsed.isoformat() if parsed else None
    return moment.isoformat()


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
