"""`ferrybot/policy`: blocking, required and size labels and the title, as a check run."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from gidgethub.abc import GitHubAPI

from bot.cel import CelRule, compile_rule
from bot.cel.environments import PULL_REQUEST
from bot.check_alerts import announce_new_failure
from bot.checks import CheckResult, Conclusion, publish_check
from bot.commands.framework import PullState
from bot.commands.labels import add_labels, remove_label
from bot.commands.rechecks import change_recheck, recheck
from bot.context import Context
from bot.forges.github.changes import change_from_pull
from bot.forges.port import ChangeRequest, Forge
from bot.pipeline.dispatch import on
from bot.promotion.markdown import cell
from bot.repo_config import problem_marker, problem_text, report_problem
from schemas.config import BotConfig, PolicyConfig
from schemas.envelope import Source
from schemas.github import PullRequestEvent
from schemas.gitlab import MergeRequestHook

CHECK_NAME = "ferrybot/policy"
SIZE_PREFIX = "size/"


@lru_cache(maxsize=1024)
def _compiled(expression: str) -> CelRule:
    return compile_rule(expression, PULL_REQUEST)


def pr_variable(
    state: PullState, labels: list[str], changed_files: list[str] | None = None
) -> dict[str, Any]:
    """The pull request as the CEL variable `pr`."""
    return change_variable(
        change_from_pull(state.owner, state.repo, state.pull, labels), changed_files
    )


def change_variable(
    change: ChangeRequest, changed_files: list[str] | None = None
) -> dict[str, Any]:
    """A pull or merge request as the CEL variable `pr` (GitLab's events carry no line counts)."""
    additions, deletions = change.additions or 0, change.deletions or 0
    return {
        "title": change.title,
        "labels": sorted(change.labels),
        "changed_files": changed_files or [],
        "additions": additions,
        "deletions": deletions,
        "size": additions + deletions,
        "author": change.author,
        "base": change.target_branch,
        "draft": change.draft,
    }


def _rule_table(policy: PolicyConfig, pr: dict[str, Any]) -> tuple[str, list[str]]:
    """The rules' table, and one line per failed rule saying what to change."""
    lines = ["| rule | value | result |", "|---|---|---|"]
    failed = []
    for rule in policy.rules:
        verdict = _compiled(rule.expr).evaluate({"pr": pr})
        mark = "✅ pass" if verdict.passed else "❌ fail"
        lines.append(f"| {cell(rule.name)} | {cell(verdict.shown())} | {mark} |")
        if not verdict.passed:
            failed.append(f"- {rule.message or f'Make `{rule.expr}` true.'} ({rule.name})")
    return "\n".join(lines), failed


def evaluate_policy(
    title: str, labels: list[str], policy: PolicyConfig, pr: dict[str, Any] | None = None
) -> CheckResult:
    """The verdict for a pull request's title, labels and CEL rules, saying what to change."""
    problems: list[str] = []
    table = ""
    rule_failures: list[str] = []
    if policy.rules:
        if pr is None:
            raise ValueError("policy rules need the pull request as `pr`")
        table, rule_failures = _rule_table(policy, pr)
    blocking = [label for label in labels if label in policy.blocking_labels]
    for label in blocking:
        problems.append(f"- Remove the `{label}` label when the pull request is ready to merge.")
    missing = [p for p in policy.required_labels if not any(_matches(p, n) for n in labels)]
    for pattern in missing:
        problems.append(f"- Add a label matching `{pattern}`.")
    title_wrong = not re.match(policy.title_pattern, title)
    if title_wrong:
        problems.append(
            f"- Rename the pull request: the title does not follow the convention. "
            f"{policy.title_hint}"
        )
    problems += rule_failures
    shown = f"\n\n{table}" if table else ""
    if not problems:
        return CheckResult(
            CHECK_NAME,
            Conclusion.SUCCESS,
            "Policy satisfied",
            "Title and labels follow the policy." + shown,
        )
    what = []
    if blocking:
        what.append("blocking label" + ("s" if len(blocking) > 1 else ""))
    if missing:
        what.append("required label" + ("s" if len(missing) > 1 else ""))
    if title_wrong:
        what.append("title convention")
    if rule_failures:
        what.append("rule" + ("s" if len(rule_failures) > 1 else ""))
    return CheckResult(
        CHECK_NAME,
        Conclusion.FAILURE,
        "Policy not met: " + " and ".join(what),
        "To pass this check:\n\n" + "\n".join(problems) + shown,
    )


async def changed_paths(gh: GitHubAPI, state: PullState, limit: int) -> list[str]:
    """The paths the pull request changes (GitHub lists at most 3000)."""
    paths: list[str] = []
    async for item in gh.getiter(
        "/repos/{owner}/{repo}/pulls/{pull_number}/files{?per_page}",
        url_vars={
            "owner": state.owner,
            "repo": state.repo,
            "pull_number": str(state.number),
            "per_page": "100",
        },
    ):
        paths.append(str(item["filename"]))
        if len(paths) >= limit:
            break
    return paths


def _matches(pattern: str, label: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, label, flags=re.IGNORECASE) is not None


def size_label(changed_lines: int, policy: PolicyConfig) -> str:
    """`size/<name>` for the largest threshold the changed lines reach."""
    reached = [(n, name) for name, n in policy.size_thresholds.items() if changed_lines >= n]
    return SIZE_PREFIX + max(reached)[1]


async def apply_size_label(ctx: Context, state: PullState, policy: PolicyConfig) -> None:
    """Keep exactly one size label, the right one; a label already right costs no request."""
    pull = state.pull
    if not policy.size_labels or pull.additions is None or pull.deletions is None:
        return
    stale, wanted = size_label_changes(state.labels, pull.additions + pull.deletions, policy)
    for label in stale:
        await remove_label(ctx.gh, state.owner, state.repo, state.number, label)
        state.labels.discard(label)
    if wanted is not None:
        await add_labels(ctx.gh, state.owner, state.repo, state.number, [wanted])
        state.labels.add(wanted)


def size_label_changes(
    labels: Iterable[str], changed_lines: int, policy: PolicyConfig
) -> tuple[list[str], str | None]:
    """The size labels to remove, and the one to add (None when it is on already)."""
    wanted = size_label(changed_lines, policy)
    stale = sorted(label for label in labels if label.startswith(SIZE_PREFIX) and label != wanted)
    return stale, None if wanted in labels else wanted


async def apply_change_size_label(
    forge: Forge, change: ChangeRequest, policy: PolicyConfig
) -> ChangeRequest:
    """The same on a change behind the port, counting its lines from the forge's diffs."""
    additions, deletions = await forge.line_counts(change)
    stale, wanted = size_label_changes(change.labels, additions + deletions, policy)
    for label in stale:
        await forge.remove_label(change, label)
    if wanted is not None:
        await forge.add_labels(change, [wanted])
    labels = (change.labels - set(stale)) | ({wanted} if wanted else set())
    return dataclasses.replace(change, labels=labels, additions=additions, deletions=deletions)


@recheck(CHECK_NAME, on_labels=True)
async def publish_policy(ctx: Context, state: PullState, config: BotConfig) -> None:
    """Apply the size label, then publish the verdict on the head commit."""
    await apply_size_label(ctx, state, config.policy)
    labels = sorted(state.labels)
    pr = None
    if config.policy.rules:
        # Only rules read the file list: without them the check costs no extra request.
        pr = pr_variable(state, labels, await changed_paths(ctx.gh, state, 3000))
    result = evaluate_policy(state.pull.title, labels, config.policy, pr)
    previous = await publish_check(
        ctx.gh, state.owner, state.repo, state.head_sha, result, ctx.check_runs
    )
    await announce_new_failure(ctx, state, state.pull.base.repo, result, previous)
    ctx.log.debug("policy.published", conclusion=result.conclusion.value, sha=state.head_sha)


@on(
    "pull_request.opened",
    "pull_request.reopened",
    "pull_request.synchronize",
    "pull_request.edited",
    "pull_request.labeled",
    "pull_request.unlabeled",
    coalesce=True,
)
async def policy_check(ctx: Context) -> None:
    """Publish the policy verdict on the pull request's head commit."""
    if await _own_size_label_echo(ctx):
        ctx.log.debug("policy.own_label_echo")
        return
    event = ctx.event(PullRequestEvent)
    owner, repo, pr = event.repository.owner_login, event.repository.name, event.pull_request
    repo_config = await ctx.repo_config(owner, repo)
    state = PullState(owner, repo, pr, set(pr.label_names))
    await publish_policy(ctx, state, repo_config.config)


@on(
    "merge_request.open",
    "merge_request.reopen",
    "merge_request.update",
    source=Source.GITLAB,
    coalesce=True,
)
async def change_policy_check(ctx: Context) -> None:
    """Publish the policy verdict on a merge request's head commit, through the forge port.

    The merge request is read as it is now, so a redelivered or superseded event publishes
    the current verdict, and a status that already says it costs no write.
    """
    change = await ctx.change()
    hook = ctx.event(MergeRequestHook)
    new_head = ctx.envelope.action in ("open", "reopen") or hook.object_attributes.oldrev
    policy = (await ctx.project_config(change.project)).config.policy
    if policy.size_labels and new_head:
        # Only a new head changes the size; the echo of ferrybot's own label is an `update`.
        change = await apply_change_size_label(ctx.change_forge, change, policy)
    await publish_change_policy(ctx, change)


@change_recheck(CHECK_NAME)
async def publish_change_policy(ctx: Context, change: ChangeRequest) -> None:
    """Publish the policy verdict for `change` through the event's forge."""
    forge = ctx.change_forge
    policy = (await ctx.project_config(change.project)).config.policy
    pr = None
    if policy.rules:
        pr = change_variable(change, await forge.changed_paths(change, 3000))
    result = evaluate_policy(change.title, sorted(change.labels), policy, pr)
    await forge.set_check(change, result)
    ctx.log.debug("policy.published", conclusion=result.conclusion.value, sha=change.head_sha)


@on("merge_request.open", "merge_request.reopen", "merge_request.update", source=Source.GITLAB)
async def change_repo_config_problem(ctx: Context) -> None:
    """Say in a ferrybot note on a new or pushed merge request, once per version of the file,
    that the project's own config file was set aside."""
    hook = ctx.event(MergeRequestHook)
    if ctx.envelope.action == "update" and hook.object_attributes.oldrev is None:
        return  # a title or label edit: said already when the head was new
    result = await ctx.project_config(hook.project.path_with_namespace)
    if result.problem is None:
        return
    await ctx.change_forge.upsert_note(
        await ctx.change(), problem_marker(result), problem_text(result)
    )


@on("pull_request.opened", "pull_request.synchronize")
async def repo_config_problem(ctx: Context) -> None:
    """Say on a new or pushed pull request that the repository's own config file was set aside.

    Apart from the policy check, which may skip an event a newer one supersedes: this one
    must see every opened and synchronize.
    """
    event = ctx.event(PullRequestEvent)
    owner, repo = event.repository.owner_login, event.repository.name
    repo_config = await ctx.repo_config(owner, repo)
    await report_problem(ctx.gh, owner, repo, event.pull_request.number, repo_config)


async def _own_size_label_echo(ctx: Context) -> bool:
    """True for the webhook the bot's own size label causes: that label was already judged.

    Other labels the bot sets on someone's behalf (`/hold`, `/label`) are judged through
    their echo, so only size labels are skipped.
    """
    if ctx.envelope.action not in ("labeled", "unlabeled"):
        return False
    label = ctx.payload.get("label")
    name = label.get("name") if isinstance(label, dict) else None
    if not isinstance(name, str) or not name.startswith(SIZE_PREFIX):
        return False  # not a size label (or a payload without one): judge it as before
    return ctx.caused_by_bot(ctx.event(PullRequestEvent).sender.login)
