"""ferrybot's own checks, registered so `/retest` (and label changes) can run them again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.commands.framework import PullState
from bot.context import Context
from bot.forges.port import ChangeRequest
from schemas.config import BotConfig

Recheck = Callable[[Context, PullState, BotConfig], Awaitable[None]]
# A check on a change behind the forge port (GitLab): it reads the change as passed.
ChangeRecheck = Callable[[Context, ChangeRequest], Awaitable[None]]

rechecks: dict[str, Recheck] = {}
# The checks whose verdict reads the pull request's labels.
label_rechecks: set[str] = set()


def recheck(name: str, *, on_labels: bool = False) -> Callable[[Recheck], Recheck]:
    """Register the decorated coroutine as the way to re-run the check called `name`.

    `on_labels`: the verdict depends on labels, so a command that changes labels re-runs it
    at once rather than waiting for GitHub's `labeled` webhook, which may never arrive.
    """

    def register(func: Recheck) -> Recheck:
        rechecks[name] = func
        if on_labels:
            label_rechecks.add(name)
        return func

    return register


async def refresh_label_checks(
    ctx: Context, state: PullState, config: BotConfig, *, besides: str | None = None
) -> None:
    """Re-run every check that reads labels (except `besides`, already brought up to date)."""
    for name, run_again in rechecks.items():
        if name in label_rechecks and name != besides:
            await run_again(ctx, state, config)


change_rechecks: dict[str, ChangeRecheck] = {}


def change_recheck(name: str) -> Callable[[ChangeRecheck], ChangeRecheck]:
    """Register the decorated coroutine as the way to re-run `name` on a forge's change."""

    def register(func: ChangeRecheck) -> ChangeRecheck:
        change_rechecks[name] = func
        return func

    return register


async def refresh_change_checks(ctx: Context) -> None:
    """Re-run every check of the event's change, read as it is now (labels just written)."""
    change = await ctx.change()
    for run_again in change_rechecks.values():
        await run_again(ctx, change)
