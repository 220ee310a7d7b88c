"""Who may do what: repository roles from the collaborator-permission API, users and teams."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import gidgethub
from gidgethub.abc import GitHubAPI

from schemas.commands_config import CommandGrant, PermissionLevel

_LEVELS = {level.value: level for level in PermissionLevel}


@dataclass(frozen=True)
class Decision:
    """Whether a grant lets a user act, and in words, what would have let them."""

    allowed: bool
    reason: str = ""


@dataclass
class PermissionResolver:
    """Answers permission questions for one repository; one per delivery, so answers are cached
    for that delivery only and a role change on GitHub takes effect with the next event."""

    gh: GitHubAPI
    owner: str
    repo: str
    _levels: dict[str, PermissionLevel] = field(default_factory=dict)
    _teams: dict[tuple[str, str], bool] = field(default_factory=dict)

    async def level(self, login: str) -> PermissionLevel:
        """The user's role on the repository (never `author_association`, which lies for
        org members and is absent on some events)."""
        key = login.lower()
        cached = self._levels.get(key)
        if cached is not None:
            return cached
        try:
            answer = await self.gh.getitem(
                "/repos/{owner}/{repo}/collaborators/{username}/permission",
                url_vars={"owner": self.owner, "repo": self.repo, "username": login},
            )
        except gidgethub.BadRequest as exc:
            # 404: no such user (or not visible to us); nothing is granted to a ghost.
            if int(exc.status_code) != 404:
                raise
            answer = {}
        level = _level_of(answer)
        self._levels[key] = level
        return level

    async def in_team(self, login: str, team: str) -> bool:
        """True when `login` is an active member of `org/team-slug`."""
        org, slug = team.split("/", 1)
        key = (team.lower(), login.lower())
        cached = self._teams.get(key)
        if cached is not None:
            return cached
        try:
            membership = await self.gh.getitem(
                "/orgs/{org}/teams/{team_slug}/memberships/{username}",
                url_vars={"org": org, "team_slug": slug, "username": login},
            )
            member = bool(membership.get("state") == "active")
        except gidgethub.BadRequest as exc:
            # 404 is "not a member" and also "the App cannot read org members"; both deny.
            if int(exc.status_code) not in (403, 404):
                raise
            member = False
        self._teams[key] = member
        return member

    async def decide(self, login: str, grant: CommandGrant, default: PermissionLevel) -> Decision:
        """Allowed when the user is named, in a named team, or holds the minimum role."""
        return await decide_grant(self, login, grant, default, GITHUB_WORDING)


class Roles(Protocol):
    """What a grant is decided from: a user's role, and membership in a team or group."""

    async def level(self, login: str) -> PermissionLevel:
        """The user's role on the repository or project."""
        ...

    async def in_team(self, login: str, team: str) -> bool:
        """True when `login` is an active member of `team`."""
        ...


@dataclass(frozen=True)
class GrantWording:
    """How a forge names roles, the place they are held on, and what `teams` are there."""

    place: str
    team_kind: str
    role_names: Mapping[PermissionLevel, str] = field(default_factory=dict)

    def role(self, level: PermissionLevel) -> str:
        """The role's name as the forge's users know it."""
        return self.role_names.get(level, level.value)


GITHUB_WORDING = GrantWording(place="this repository", team_kind="")


async def decide_grant(
    roles: Roles,
    login: str,
    grant: CommandGrant,
    default: PermissionLevel,
    wording: GrantWording,
) -> Decision:
    """Allowed when the user is named, holds the minimum role, or is in one of the teams.

    The cheap checks come first: a named user or an open command asks the forge nothing.
    """
    minimum = grant.level if grant.level is not None else default
    if login.lower() in (user.lower() for user in grant.users):
        return Decision(True)
    if minimum is PermissionLevel.NONE:
        return Decision(True)
    if (await roles.level(login)).rank >= minimum.rank:
        return Decision(True)
    for team in grant.teams:
        if await roles.in_team(login, team):
            return Decision(True)
    return Decision(False, describe_grant(grant, minimum, wording))


def describe_grant(
    grant: CommandGrant, minimum: PermissionLevel, wording: GrantWording = GITHUB_WORDING
) -> str:
    """What would allow a user, e.g. "the maintain role on this repository, or membership in
    acme/platform" (logins and team names come from the config, never from a comment)."""
    ways = [f"the {wording.role(minimum)} role (or higher) on {wording.place}"]
    if grant.users:
        ways.append("being one of " + ", ".join(f"`{user}`" for user in grant.users))
    if grant.teams:
        teams = " or ".join(f"`{team}`" for team in grant.teams)
        ways.append(f"membership in {wording.team_kind}{teams}")
    return " or ".join(ways)


def _level_of(answer: dict[str, object]) -> PermissionLevel:
    # role_name carries triage and maintain, which the legacy `permission` field folds into
    # read and write; custom repository roles appear only in role_name, so fall back then.
    for key in ("role_name", "permission"):
        value = answer.get(key)
        if isinstance(value, str) and value in _LEVELS:
            return _LEVELS[value]
    return PermissionLevel.NONE
