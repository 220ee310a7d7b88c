"""ferrybot's own checks, registered so `/retest` can run every one of them again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.commands.framework import PullState
from bot.context import Context
from schemas.config import BotConfig

Recheck = Callable[[Context, PullState, BotConfig], Awaitable[None]]

rechecks: dict[str, Recheck] = {}


def recheck(name: str) -> Callable[[Recheck], Recheck]:
    """Register the decorated coroutine as the way to re-run the check called `name`."""

    def register(func: Recheck) -> Recheck:
        rechecks[name] = func
        return func

    return register
