"""`ferrybot/approval`: lgtm + approved and no blocking label, with one approval comment."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import gidgethub
from gidgethub.abc import GitHubAPI

from bot.checks import CheckResult, Conclusion, publish_check
from bot.commands.framework import CommandRefused, Invocation, PullState
from bot.commands.labels import add_labels, labels_set_by, remove_label
from bot.commands.rechecks import recheck, refresh_label_checks
from bot.context import Context
from bot.github.limits import COMMENT_BODY, fit
from bot.pipeline.dispatch import on
from schemas.commands_config import PermissionLevel
from schemas.config import BotConfig
from schemas.github import LabeledEvent, PullRequestEvent, SynchronizeEvent

CHECK_NAME = "ferrybot/approval"
# Who approves by default (`/approve` on GitHub, GitLab's own approvals): maintainers.
APPROVE_PERMISSION = PermissionLevel.MAINTAIN
_MARKER = re.compile(r"<!-- ferrybot:approval (\{[^\n]*?\}) -->")


@dataclass
class Approvals:
    """Who gave `/lgtm` and `/approve`, kept in the approval comment's hidden marker."""

    lgtm: list[str] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)

    def add(self, who: list[str], login: str) -> None:
        """Record `login` once."""
        if login.lower() not in (name.lower() for name in who):
            who.append(login)


def evaluate_approval(labels: set[str], trusted: set[str], config: BotConfig) -> CheckResult:
    """The merge gate: success only with both review labels, set by ferrybot, and no blocking
    label; `trusted` holds the labels ferrybot itself put on last."""
    needed = _still_needed(labels, trusted, config)
    if not needed:
        return CheckResult(
            CHECK_NAME, Conclusion.SUCCESS, "Approved", "Reviewed (`lgtm`) and approved."
        )
    return CheckResult(
        CHECK_NAME,
        Conclusion.FAILURE,
        "Not ready to merge",
        "Still needed:\n\n" + "\n".join(f"- {item}" for item in needed),
    )


def _still_needed(labels: set[str], trusted: set[str], config: BotConfig) -> list[str]:
    commands = config.commands
    needed = []
    for label, ask in (
        (commands.lgtm_label, "`/lgtm` from a reviewer with write access (not the author)"),
        (commands.approved_label, "`/approve` from an approver (not the author)"),
    ):
        if label in labels and label not in trusted:
            # Anyone with triage rights, the author included, can add a label in the UI.
            needed.append(f"{ask}: the `{label}` label was not set by ferrybot")
        elif label not in labels:
            needed.append(ask)
    for label in sorted(labels & set(config.policy.blocking_labels)):
        needed.append(f"the `{label}` label removed")
    return needed


def render_comment(
    approvals: Approvals, labels: set[str], trusted: set[str], config: BotConfig
) -> str:
    """The approval comment: who reviewed, who approved, what is still needed."""
    lines = ["**Approval status**", ""]
    lines.append("- LGTM: " + (", ".join(f"@{n}" for n in approvals.lgtm) or "nobody yet"))
    lines.append("- Approved: " + (", ".join(f"@{n}" for n in approvals.approved) or "nobody yet"))
    needed = _still_needed(labels, trusted, config)
    lines += (
        ["", "Still needed:", *[f"- {item}" for item in needed]]
        if needed
        else [
            "",
            "Ready to merge.",
        ]
    )
    state = json.dumps({"lgtm": approvals.lgtm, "approved": approvals.approved})
    return fit("\n".join(lines), COMMENT_BODY, keep=f"\n\n<!-- ferrybot:approval {state} -->")


def _written_by_bot(comment: dict[str, Any], bot_login: str | None) -> bool:
    # Anyone can paste the marker into a comment of their own; only ferrybot's counts.
    user = comment.get("user") or {}
    if bot_login is None:
        return bool(user.get("type") == "Bot")
    return str(user.get("login", "")).lower() == bot_login.lower()


async def _find_comment(
    gh: GitHubAPI, owner: str, repo: str, number: int, bot_login: str | None
) -> tuple[dict[str, Any] | None, Approvals]:
    async for comment in gh.getiter(
        "/repos/{owner}/{repo}/issues/{issue_number}/comments{?per_page}",
        url_vars={"owner": owner, "repo": repo, "issue_number": str(number), "per_page": "100"},
    ):
        match = _MARKER.search(comment.get("body") or "")
        if match is None or not _written_by_bot(comment, bot_login):
            continue
        try:
            data = json.loads(match.group(1))
        except ValueError:
            data = {}
        return comment, Approvals(
            [str(n) for n in data.get("lgtm", [])], [str(n) for n in data.get("approved", [])]
        )
    return None, Approvals()


async def update_approvals(
    ctx: Context,
    state: PullState,
    config: BotConfig,
    lgtm: str | None = None,
    approved: str | None = None,
) -> None:
    """Record an `/lgtm` or `/approve`, reconcile with the labels, edit the comment, re-check."""
    gh = ctx.gh
    comment, approvals = await _find_comment(
        gh, state.owner, state.repo, state.number, ctx.bot_login
    )
    if lgtm is not None:
        approvals.add(approvals.lgtm, lgtm)
    if approved is not None:
        approvals.add(approvals.approved, approved)
    # The labels are the truth: someone may remove one by hand, and then its names go too.
    if config.commands.lgtm_label not in state.labels:
        approvals.lgtm = []
    if config.commands.approved_label not in state.labels:
        approvals.approved = []
    trusted = await _trusted_review_labels(ctx, state, config)
    body = render_comment(approvals, state.labels, trusted, config)
    url_vars = {"owner": state.owner, "repo": state.repo}
    if comment is None:
        if approvals.lgtm or approvals.approved:
            await gh.post(
                "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                url_vars={**url_vars, "issue_number": str(state.number)},
                data={"body": body},
            )
    elif comment.get("body") != body:
        await gh.patch(
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            url_vars={**url_vars, "comment_id": str(comment["id"])},
            data={"body": body},
        )
    result = evaluate_approval(state.labels, trusted, config)
    await publish_check(gh, state.owner, state.repo, state.head_sha, result, ctx.check_runs)
    ctx.log.debug("approval.published", conclusion=result.conclusion.value, sha=state.head_sha)


async def _trusted_review_labels(ctx: Context, state: PullState, config: BotConfig) -> set[str]:
    review = {config.commands.lgtm_label, config.commands.approved_label}
    if not review & state.labels:
        return set()  # nothing to vouch for: spare the events call
    return await labels_set_by(ctx.gh, state.owner, state.repo, state.number, ctx.bot_login)


@recheck(CHECK_NAME, on_labels=True)
async def refresh_approval(ctx: Context, state: PullState, config: BotConfig) -> None:
    """Bring the approval comment and check in line with the current labels."""
    await update_approvals(ctx, state, config)


async def tree_changed(gh: GitHubAPI, owner: str, repo: str, before: str, after: str) -> bool:
    """True unless both commits exist and have the same tree (a no-op rebase or reword)."""
    trees = []
    for sha in (before, after):
        try:
            commit = await gh.getitem(
                "/repos/{owner}/{repo}/git/commits/{commit_sha}",
                url_vars={"owner": owner, "repo": repo, "commit_sha": sha},
            )
        except gidgethub.BadRequest as exc:
            # A force-push can leave `before` unreachable: then nobody can say it is unchanged.
            if int(exc.status_code) in (404, 422):
                return True
            raise
        trees.append(commit["tree"]["sha"])
    return bool(trees[0] != trees[1])


@on(
    "pull_request.opened",
    "pull_request.reopened",
    "pull_request.synchronize",
    "pull_request.labeled",
    "pull_request.unlabeled",
)
async def approval_check(ctx: Context) -> None:
    """Re-check when review labels change or a reviewed PR moves; a new tree drops lgtm.

    A PR nobody reviewed gets no run: the check stays "expected", which blocks a merge just as
    a failure would when branch protection requires it, without a call per pull-request event.
    """
    event = ctx.event(PullRequestEvent)
    owner, repo = event.repository.owner_login, event.repository.name
    config = (await ctx.repo_config(owner, repo)).config
    state = PullState(owner, repo, event.pull_request, set(event.pull_request.label_names))
    lgtm = config.commands.lgtm_label
    relevant = {lgtm, config.commands.approved_label, *config.policy.blocking_labels}
    if ctx.envelope.name in ("pull_request.labeled", "pull_request.unlabeled"):
        if ctx.event(LabeledEvent).label.name not in relevant:
            return
    elif not state.labels & relevant:
        return
    if ctx.envelope.name == "pull_request.synchronize" and lgtm in state.labels:
        push = ctx.event(SynchronizeEvent)
        if await tree_changed(ctx.gh, owner, repo, push.before, push.after):
            await remove_label(ctx.gh, owner, repo, state.number, lgtm)
            state.labels.discard(lgtm)
            ctx.log.info("approval.lgtm_removed", before=push.before, after=push.after)
    await refresh_approval(ctx, state, config)


async def toggle_review_label(inv: Invocation, label: str, *, approving: bool) -> None:
    """`/lgtm` or `/approve` adds its label and names the actor; with `cancel` removes it."""
    name = inv.command.name
    if inv.args not in ((), ("cancel",)):
        raise CommandRefused(f"use `/{name}` or `/{name} cancel`, with nothing after it")
    state, gh = inv.state, inv.ctx.gh
    if inv.args:
        await remove_label(gh, state.owner, state.repo, state.number, label)
        state.labels.discard(label)
        await update_approvals(inv.ctx, state, inv.config)
    else:
        if label in state.labels:
            set_by_bot = await labels_set_by(
                gh, state.owner, state.repo, state.number, inv.ctx.bot_login
            )
            if label not in set_by_bot:
                # GitHub records no new `labeled` event for a label already on, so a label
                # someone put on by hand is taken off and put on again, this time by ferrybot.
                await remove_label(gh, state.owner, state.repo, state.number, label)
        await add_labels(gh, state.owner, state.repo, state.number, [label])
        state.labels.add(label)
        if approving:
            await update_approvals(inv.ctx, state, inv.config, approved=inv.actor)
        else:
            await update_approvals(inv.ctx, state, inv.config, lgtm=inv.actor)
    await refresh_label_checks(inv.ctx, state, inv.config, besides=CHECK_NAME)
