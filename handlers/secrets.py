"""`ferrybot/secrets`: secrets added by a pull request, as annotations naming file, line, rule."""

from __future__ import annotations

from typing import Any

import gidgethub
from gidgethub.abc import GitHubAPI

from bot.check_alerts import announce_new_failure
from bot.checks import CheckResult, Conclusion, publish_check
from bot.commands.framework import PullState
from bot.commands.rechecks import recheck
from bot.context import Context
from bot.pipeline.dispatch import on
from bot.promotion.markdown import cell
from bot.trust.secrets import FileDiff, SecretScan, scan_added_lines
from schemas.audit import AuditRecord
from schemas.config import BotConfig
from schemas.envelope import Source
from schemas.github import PullRequestEvent
from schemas.gitlab import MergeRequestHook
from schemas.trust import SecretsConfig

CHECK_NAME = "ferrybot/secrets"
# GitHub lists at most 3000 files of a pull request.
MAX_FILES = 3000
_HOW_TO_FIX = (
    "Remove the secret from the change and rotate it (it is in the branch's history now). "
    "If it is not a secret, add `pragma: allowlist secret` to the line, or allow the path "
    "and rule under `secrets.allowlist` in the repository's config."
)

_NOT_READ = CheckResult(
    CHECK_NAME,
    Conclusion.NEUTRAL,
    "Not scanned: the diff could not be read",
    "Dry run without GitHub credentials reads nothing, so the pull request's files were not "
    "scanned. Give dry run a read token (`FERRYBOT_GITHUB_TOKEN`) to scan them.",
)


async def pull_diffs(gh: GitHubAPI, state: PullState) -> list[FileDiff]:
    """The PR's added and modified files with their hunks (GitHub omits binary and huge ones)."""
    files: list[FileDiff] = []
    async for item in gh.getiter(
        "/repos/{owner}/{repo}/pulls/{pull_number}/files{?per_page}",
        url_vars={
            "owner": state.owner,
            "repo": state.repo,
            "pull_number": str(state.number),
            "per_page": "100",
        },
    ):
        if item.get("status") != "removed":
            patch = item.get("patch")
            files.append(FileDiff(str(item["filename"]), patch if isinstance(patch, str) else None))
        if len(files) >= MAX_FILES:
            break
    return files


def secrets_result(scan: SecretScan, config: SecretsConfig) -> CheckResult:
    """The check run: a table and one annotation per finding, the unscanned files listed."""
    read = f"{scan.scanned} file{'s' if scan.scanned != 1 else ''} scanned"
    allowed = f", {scan.allowed} allowed by the allow-list" if scan.allowed else ""
    lines: list[str] = []
    if scan.findings:
        lines += ["| file | line | rule |", "|---|---|---|"]
        lines += [f"| `{cell(f.path)}` | {f.line} | {cell(f.rule)} |" for f in scan.findings]
        lines += ["", _HOW_TO_FIX]
    if scan.partial:
        lines += ["", f"Partial scan: {len(scan.unscanned)} file(s) not scanned:", ""]
        lines += [f"- `{cell(u.path)}`: {u.why}" for u in scan.unscanned[:50]]
        if len(scan.unscanned) > 50:
            lines.append(f"- … and {len(scan.unscanned) - 50} more")
    text = "\n".join(lines).strip()
    annotations: list[dict[str, Any]] = [
        {
            "path": f.path,
            "start_line": f.line,
            "end_line": f.line,
            "annotation_level": "failure",
            "title": f"Secret: {f.rule}",
            "message": f"This line adds what looks like a {f.rule}. {_HOW_TO_FIX}",
        }
        for f in scan.findings
    ]
    if scan.findings:
        count = len(scan.findings)
        return CheckResult(
            CHECK_NAME,
            Conclusion.FAILURE,
            f"{count} secret{'s' if count != 1 else ''} added"
            + (" (partial scan)" if scan.partial else ""),
            f"{read}{allowed}.\n\n{text}",
            annotations=annotations,
        )
    if scan.partial:
        return CheckResult(
            CHECK_NAME,
            Conclusion(config.partial_conclusion),
            "Partial scan: no secrets in the files scanned",
            f"{read}{allowed}.\n\n{text}",
        )
    return CheckResult(
        CHECK_NAME, Conclusion.SUCCESS, "No secrets added", f"{read}{allowed}; nothing found."
    )


@recheck(CHECK_NAME)
async def publish_secrets(ctx: Context, state: PullState, config: BotConfig) -> None:
    """Scan the PR's added lines and publish the verdict on its head commit."""
    settings = config.secrets
    if not settings.enabled:
        return
    try:
        diffs = await pull_diffs(ctx.gh, state)
    except gidgethub.BadRequest as exc:
        # Dry run without a read token answers every read with 404: the verdict says the diff
        # was not read, rather than dead-lettering every pull request of the local demo.
        if not (ctx.dry_run and int(exc.status_code) == 404):
            raise
        await publish_check(ctx.gh, state.owner, state.repo, state.head_sha, _NOT_READ)
        ctx.log.info("secrets.not_scanned", reason="dry run cannot read the diff")
        return
    scan = await scan_added_lines(
        diffs, list(settings.allowlist), settings.max_bytes, settings.max_seconds
    )
    result = secrets_result(scan, settings)
    previous = await publish_check(
        ctx.gh, state.owner, state.repo, state.head_sha, result, ctx.check_runs
    )
    await announce_new_failure(ctx, state, state.pull.base.repo, result, previous)
    if result.conclusion is not Conclusion.SUCCESS:
        reference = f"{state.owner}/{state.repo}#{state.number}"
        await _audit(ctx, f"github/{reference}", state.head_sha, result, scan)
    ctx.log.info(
        "secrets.scanned",
        conclusion=result.conclusion.value,
        findings=len(scan.findings),
        scanned=scan.scanned,
        unscanned=len(scan.unscanned),
        sha=state.head_sha,
    )


async def _audit(
    ctx: Context, subject: str, head_sha: str, result: CheckResult, scan: SecretScan
) -> None:
    # Only findings and partial scans are recorded: a clean scan of every push is noise.
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:secrets:{subject}",
            delivery_id=ctx.envelope.id,
            actor="ferrybot",
            action=f"secrets.{result.conclusion.value}",
            subject=subject,
            reason=result.title,
            details={
                "head_sha": head_sha,
                "findings": [
                    {"path": f.path, "line": f.line, "rule": f.rule} for f in scan.findings
                ],
                "unscanned": [{"path": u.path, "why": u.why} for u in scan.unscanned],
                "scanned": scan.scanned,
                "allowed": scan.allowed,
            },
        )
    )


@on(
    "pull_request.opened",
    "pull_request.reopened",
    "pull_request.synchronize",
    "pull_request.ready_for_review",
)
async def secrets_check(ctx: Context) -> None:
    """Publish the secrets verdict on the pull request's head commit."""
    event = ctx.event(PullRequestEvent)
    owner, repo, pr = event.repository.owner_login, event.repository.name, event.pull_request
    repo_config = await ctx.repo_config(owner, repo)
    state = PullState(owner, repo, pr, set(pr.label_names))
    await publish_secrets(ctx, state, repo_config.config)


@on("merge_request.open", "merge_request.reopen", "merge_request.update", source=Source.GITLAB)
async def change_secrets_check(ctx: Context) -> None:
    """Scan a GitLab merge request's added lines on each new head; publish on the head."""
    hook = ctx.event(MergeRequestHook)
    if ctx.envelope.action == "update" and hook.object_attributes.oldrev is None:
        return  # a title or label edit adds no lines
    settings = (await ctx.project_config(hook.project.path_with_namespace)).config.secrets
    if not settings.enabled:
        return
    forge = ctx.change_forge
    change = await ctx.change()
    diffs = [FileDiff(path, patch) for path, patch in await forge.file_diffs(change, MAX_FILES)]
    scan = await scan_added_lines(
        diffs, list(settings.allowlist), settings.max_bytes, settings.max_seconds
    )
    result = secrets_result(scan, settings)
    await forge.set_check(change, result)
    if result.conclusion is not Conclusion.SUCCESS:
        await _audit(ctx, ctx.envelope.subject, change.head_sha, result, scan)
    ctx.log.info("secrets.scanned", conclusion=result.conclusion.value, sha=change.head_sha)
