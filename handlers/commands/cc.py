"""`/cc` and `/uncc`: request or withdraw reviews."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from handlers.commands.assign import logins
from schemas.commands_config import PermissionLevel


@command(
    "cc",
    usage="/cc @user...",
    help="Request reviews from the named people.",
    permission=PermissionLevel.TRIAGE,
    gitlab_refusal="`/cc` is GitLab's own quick action; "
    "request reviews with GitLab's `/assign_reviewer`",
)
async def cc(inv: Invocation) -> str | None:
    """Request reviewers; GitHub refuses the author as their own reviewer, so drop them."""
    state = inv.state
    people = [p for p in logins(inv, default_self=False) if p.lower() != state.author.lower()]
    if not people:
        raise CommandRefused("the author of a pull request cannot review it; name someone else")
    await inv.ctx.gh.post(
        "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
        url_vars={"owner": state.owner, "repo": state.repo, "pull_number": str(state.number)},
        data={"reviewers": people},
    )
    return None


@command(
    "uncc",
    usage="/uncc @user...",
    help="Withdraw review requests from the named people.",
    permission=PermissionLevel.TRIAGE,
    gitlab_refusal="GitLab withdraws review requests with its own "
    "`/unassign_reviewer` quick action",
)
async def uncc(inv: Invocation) -> str | None:
    """Remove review requests (one not requested changes nothing)."""
    state = inv.state
    await inv.ctx.gh.delete(
        "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
        url_vars={"owner": state.owner, "repo": state.repo, "pull_number": str(state.number)},
        data={"reviewers": logins(inv, default_self=False)},
    )
    return None
