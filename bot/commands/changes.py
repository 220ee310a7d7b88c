"""What commands do to a change behind the forge port (a GitLab merge request)."""

from __future__ import annotations

from bot.commands.framework import ChangeState, Invocation
from bot.commands.rechecks import refresh_change_checks


async def set_change_labels(
    inv: Invocation, state: ChangeState, labels: list[str], *, on: bool
) -> None:
    """Add or remove labels, then re-run ferrybot's checks once: they read labels."""
    forge = inv.ctx.change_forge
    if on:
        await forge.add_labels(state.change, labels)
        state.labels.update(labels)
    else:
        for label in labels:
            await forge.remove_label(state.change, label)
            state.labels.discard(label)
    await refresh_change_checks(inv.ctx)
