"""ferrybot's own checks, registered so `/retest` (and label changes) can run them again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.commands.framework import PullState
from bot.context import Context
from schemas.config import BotConfig

Recheck = Callable[[Context, PullState, BotConfig], Awaitable[None]]

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
