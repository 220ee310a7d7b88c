"""`/help`: the commands this bot knows, who may run them, and how."""

from __future__ import annotations

from bot.commands import Invocation, command, commands
from schemas.commands_config import PermissionLevel


@command(
    "help",
    usage="/help",
    help="List the commands, their usage, who may run them and where.",
    permission=PermissionLevel.NONE,
    on_issues=True,
)
async def show_help(inv: Invocation) -> str | None:
    """Answer with the command table, permissions as configured for this repository."""
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
