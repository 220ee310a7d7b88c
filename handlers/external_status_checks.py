"""GitLab's external status checks (Ultimate): answered with ferrybot's overall verdict."""

from __future__ import annotations

from bot.context import Context
from bot.ingress.gitlab_status_checks import EVENT
from bot.pipeline.dispatch import on
from handlers.approval import CHECK_NAME as APPROVAL
from handlers.policy import CHECK_NAME as POLICY
from schemas.envelope import Source


@on(EVENT, source=Source.GITLAB)
async def answer_external_status_check(ctx: Context) -> None:
    """Passed when all of ferrybot's checks on the head passed, failed when one failed, else
    pending until they have run (each later verdict answers the check again)."""
    rule = ctx.payload.get("external_approval_rule") or {}
    change = await ctx.change()
    required = frozenset({POLICY, APPROVAL})  # what every merge request event publishes
    answer = await ctx.change_forge.answer_external_check(change, int(rule["id"]), required)
    ctx.log.debug("status_check.answered", check=rule["id"], status=answer, sha=change.head_sha)
