"""`/close` and `/reopen`: the pull request's state."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from schemas.commands_config import PermissionLevel


async def _set_state(inv: Invocation, state_name: str) -> None:
    if inv.args:
        raise CommandRefused(f"`/{inv.command.name}` takes no arguments")
    state = inv.state
    if state.pull.merged:
        raise CommandRefused("this pull request is merged; its state cannot change")
    await inv.ctx.gh.patch(
        "/repos/{owner}/{repo}/issues/{issue_number}",
        url_vars={"owner": state.owner, "repo": state.repo, "issue_number": str(state.number)},
        data={"state": state_name},
    )


@command(
    "close",
    usage="/close",
    help="Close the pull request.",
    permission=PermissionLevel.TRIAGE,
    gitlab_refusal="`/close` is GitLab's own quick action, which GitLab runs itself",
)
async def close(inv: Invocation) -> str | None:
    """Close (closing a closed pull request changes nothing)."""
    await _set_state(inv, "closed")
    return None


@command(
    "reopen",
    usage="/reopen",
    help="Reopen a closed pull request.",
    permission=PermissionLevel.TRIAGE,
    gitlab_refusal="`/reopen` is GitLab's own quick action, which GitLab runs itself",
)
async def reopen(inv: Invocation) -> str | None:
    """Reopen (reopening an open pull request changes nothing)."""
    await _set_state(inv, "open")
    return None
