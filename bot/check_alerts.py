"""Tell chat when a ferrybot check on a pull request into the default branch starts failing."""

from __future__ import annotations

from bot.checks import CheckResult, Conclusion
from bot.commands.framework import PullState
from bot.context import Context
from schemas.github import Repository
from schemas.notification import Notification, NotificationKind, Severity


async def announce_new_failure(
    ctx: Context,
    state: PullState,
    repository: Repository | None,
    result: CheckResult,
    previous: str | None,
) -> None:
    """Publish `check_failed` when the check just turned to failure on a protected base.

    "Protected" is taken as the repository's default branch: the payload does not say which
    branches are protected, and asking GitHub needs admin rights the bot should not have.
    """
    if result.conclusion is not Conclusion.FAILURE or previous == Conclusion.FAILURE.value:
        return
    base = state.pull.base.ref
    default_branch = repository.default_branch if repository is not None else None
    if default_branch is not None and base != default_branch:
        return
    full_name = f"{state.owner}/{state.repo}"
    links = {"Pull request": state.pull.html_url} if state.pull.html_url else {}
    await ctx.notify(
        Notification(
            # One message per check and commit, however many events re-evaluate it.
            id=f"check_failed:{full_name}:{state.head_sha}:{result.name}",
            kind=NotificationKind.CHECK_FAILED,
            severity=Severity.WARNING,
            subject=f"github/{full_name}#{state.number}",
            title=f"{result.name} failed on {full_name}#{state.number}",
            text=result.summary,
            fields={"Check": result.name, "Base": base, "Author": state.author},
            links=links,
            delivery_id=ctx.envelope.id,
            repository=full_name,
        )
    )
