"""`/help`: the commands this bot knows, who may run them, and how."""

from __future__ import annotations

from bot.commands import Invocation, command, commands
from bot.forges.gitlab.commands import GITLAB_ROLE
from schemas.commands_config import PermissionLevel


@command(
    "help",
    usage="/help",
    help="List the commands, their usage, who may run them and where.",
    permission=PermissionLevel.NONE,
    on_issues=True,
    gitlab_refusal=None,
)
async def show_help(inv: Invocation) -> str | None:
    """Answer with the command table, permissions as configured for this repository.

    On GitLab: only the commands that run there, roles in GitLab's names.
    """
    on_gitlab = inv.change is not None
    if on_gitlab:
        return _gitlab_help(inv)
    rows = ["| command | what it does | who may run it | where |", "|---|---|---|---|"]
    for spec in commands.sorted():
        grant = spec.grant(inv.config)
        level = grant.level if grant.level is not None else spec.permission
        who = "anyone" if level is PermissionLevel.NONE else f"{level.value} or higher"
        extras = [f"`{user}`" for user in grant.users] + [f"`{team}`" for team in grant.teams]
        if extras:
            who += ", " + ", ".join(extras)
        if spec.not_by_author:
            who += "; not the PR's author"
        rows.append(f"| `{spec.usage}` | {spec.help} | {who} | {spec.where} |")
    return "the commands I know:\n\n" + "\n".join(rows)


def _gitlab_help(inv: Invocation) -> str:
    rows = ["| command | what it does | who may run it |", "|---|---|---|"]
    for spec in commands.sorted():
        if spec.gitlab_refusal is not None:
            continue
        grant = spec.grant(inv.config)
        level = grant.level if grant.level is not None else spec.permission
        role = GITLAB_ROLE.get(level)
        who = "anyone" if role is None else f"{role} or higher"
        if grant.users:
            who += ", " + ", ".join(f"`{user}`" for user in grant.users)
        if spec.not_by_author:
            who += "; not the MR's author"
        rows.append(f"| `{spec.usage}` | {spec.help} | {who} |")
    return (
        "the commands I run in merge-request notes (GitLab runs its own quick actions, "
        "such as `/approve`, `/label` and `/assign`, before I see a note):\n\n" + "\n".join(rows)
    )
