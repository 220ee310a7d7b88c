"""The forges ferrybot talks to, as config and events name them."""

from __future__ import annotations

import re
from enum import StrEnum


class ForgeKind(StrEnum):
    """A forge: where repositories, their changes and their checks live."""

    GITHUB = "github"
    GITLAB = "gitlab"


_GITHUB_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}", re.ASCII)
# GitLab nests groups (up to 20 levels); each part as in a GitHub name.
_GITLAB_PROJECT = re.compile(r"[A-Za-z0-9_.-]{1,100}(/[A-Za-z0-9_.-]{1,100}){1,20}", re.ASCII)

# A GitHub login, or a GitLab username (which may also hold `_` and `.`, up to 255 characters,
# and not end in `.`: doc/user/profile/index.md, "Change your username").
_USERNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,253}[A-Za-z0-9_-])?", re.ASCII)
# A GitHub team (`org/team-slug`) or a GitLab group, nested or not (`group/subgroup`).
_TEAM = re.compile(r"[A-Za-z0-9_.-]{1,100}(/[A-Za-z0-9_.-]{1,100}){1,20}", re.ASCII)


def usernames(value: list[str]) -> list[str]:
    """`value` when each entry is a GitHub login or a GitLab username."""
    for login in value:
        if not _USERNAME.fullmatch(login):
            raise ValueError(f"{login!r} is not a GitHub login or GitLab username")
    return value


def team_paths(value: list[str]) -> list[str]:
    """`value` when each entry is a GitHub `org/team-slug` or a GitLab group's path."""
    for team in value:
        if not _TEAM.fullmatch(team) or ".." in team:
            raise ValueError(f"{team!r} is not `org/team-slug` or a GitLab group's path")
    return value


def repository_path(value: str, forge: object) -> str:
    """`value` when it names a repository on `forge` (`owner/name`, or GitLab's project path)."""
    if forge is ForgeKind.GITLAB:
        if not _GITLAB_PROJECT.fullmatch(value) or ".." in value:
            raise ValueError("repo is the GitLab project's path, `group/project`")
    elif not _GITHUB_REPO.fullmatch(value) or ".." in value:
        raise ValueError("repo is `owner/name`")
    return value
