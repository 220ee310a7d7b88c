"""`/label` and `/remove-label`: add or remove existing repository labels."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.commands.labels import add_labels, remove_label, repository_labels
from bot.commands.parser import escape_for_reply, is_label
from handlers.approval import refresh_approval
from schemas.commands_config import PermissionLevel


async def _known_labels(inv: Invocation) -> list[str]:
    if not inv.args:
        raise CommandRefused(f"name at least one label: `/{inv.command.name} LABEL...`")
    bad = [arg for arg in inv.args if not is_label(arg)]
    if bad:
        raise CommandRefused(f"{escape_for_reply(bad[0])} is not a label name")
    known = await repository_labels(inv.ctx.gh, inv.state.owner, inv.state.repo)
    missing = [arg for arg in inv.args if arg.lower() not in known]
    if missing:
        # Creating labels from a comment would let any typo become a repository label.
        raise CommandRefused(
            f"this repository has no label {escape_for_reply(missing[0])}; "
            "create it on GitHub first, or check the spelling"
        )
    return [known[arg.lower()] for arg in inv.args]


@command(
    "label",
    usage="/label LABEL...",
    help="Add one or more labels that exist in the repository.",
    permission=PermissionLevel.TRIAGE,
)
async def label(inv: Invocation) -> str | None:
    """Add the labels, then refresh the approval check (a label may be blocking)."""
    names = await _known_labels(inv)
    state = inv.state
    await add_labels(inv.ctx.gh, state.owner, state.repo, state.number, names)
    state.labels.update(names)
    await refresh_approval(inv.ctx, state, inv.config)
    return None


@command(
    "remove-label",
    usage="/remove-label LABEL...",
    help="Remove one or more labels.",
    permission=PermissionLevel.TRIAGE,
)
async def remove_labels(inv: Invocation) -> str | None:
    """Remove the labels, then refresh the approval check."""
    names = await _known_labels(inv)
    state = inv.state
    for name in names:
        await remove_label(inv.ctx.gh, state.owner, state.repo, state.number, name)
        state.labels.discard(name)
    await refresh_approval(inv.ctx, state, inv.config)
    return None
