"""Slash-commands in PR comments, PR bodies, reviews, review comments and GitLab MR notes."""

from __future__ import annotations

from bot.commands.runner import run_commands
from bot.commands.sources import EVENTS
from bot.context import Context
from bot.pipeline.dispatch import on
from schemas.envelope import Source


@on(*EVENTS)
async def slash_commands(ctx: Context) -> None:
    """Run the commands in the newly written text of this delivery."""
    await run_commands(ctx)


@on("note.create", source=Source.GITLAB)
async def gitlab_note_commands(ctx: Context) -> None:
    """Run the commands in a new merge-request note (an edited note, `update`, runs nothing)."""
    await run_commands(ctx)
