"""`/assign` and `/unassign`: people responsible for the pull request."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.commands.parser import normalise_login
from bot.commands.wording import Typed
from schemas.commands_config import PermissionLevel


def logins(inv: Invocation, default_self: bool) -> list[str]:
    """The `@user` arguments as logins (the actor when none and `default_self`)."""
    if not inv.args:
        if default_self:
            return [inv.actor]
        raise CommandRefused(f"name at least one person: `/{inv.command.name} @user...`")
    found: list[str] = []
    for arg in inv.args:
        login = normalise_login(arg)
        if login is None:
            raise CommandRefused(Typed(arg), " is not a GitHub login")
        if login.lower() not in (seen.lower() for seen in found):
            found.append(login)
    return found


@command(
    "assign",
    usage="/assign [@user...]",
    help="Assign the named people (yourself when none are named).",
    permission=PermissionLevel.TRIAGE,
    gitlab_refusal="`/assign` is GitLab's own quick action, which GitLab runs itself",
)
async def assign(inv: Invocation) -> str | None:
    """Add assignees; GitHub skips people who cannot be assigned, so say who was skipped."""
    people = logins(inv, default_self=True)
    state = inv.state
    issue = await inv.ctx.gh.post(
        "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
        url_vars={"owner": state.owner, "repo": state.repo, "issue_number": str(state.number)},
        data={"assignees": people},
    )
    assigned = {a["login"].lower() for a in issue.get("assignees") or []}
    skipped = [login for login in people if login.lower() not in assigned]
    if skipped:
        return (
            "GitHub did not assign "
            + ", ".join(f"`{login}`" for login in skipped)
            + (": only people with access to the repository can be assigned")
        )
    return None


@command(
    "unassign",
    usage="/unassign [@user...]",
    help="Unassign the named people (yourself when none are named).",
    permission=PermissionLevel.TRIAGE,
    gitlab_refusal="`/unassign` is GitLab's own quick action, which GitLab runs itself",
)
async def unassign(inv: Invocation) -> str | None:
    """Remove assignees (removing someone not assigned changes nothing)."""
    state = inv.state
    await inv.ctx.gh.delete(
        "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
        url_vars={"owner": state.owner, "repo": state.repo, "issue_number": str(state.number)},
        data={"assignees": logins(inv, default_self=True)},
    )
    return None
