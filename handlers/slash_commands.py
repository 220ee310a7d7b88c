"""Slash-commands in PR comments, PR bodies, reviews and review comments (see bot.commands)."""

from __future__ import annotations

from bot.commands.runner import run_commands
from bot.commands.sources import EVENTS
from bot.context import Context
from bot.pipeline.dispatch import on


@on(*EVENTS)
async def slash_commands(ctx: Context) -> None:
    """Run the commands in the newly written text of this delivery."""
    await run_commands(ctx)
