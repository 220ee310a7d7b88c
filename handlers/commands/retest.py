"""`/retest`: run ferrybot's checks again and re-request other apps' failed check suites."""

from __future__ import annotations

from typing import Any

import gidgethub

from bot.commands import CommandRefused, Invocation, command
from bot.commands.rechecks import change_rechecks, rechecks, refresh_change_checks
from bot.pipeline.retry import is_transient
from schemas.commands_config import PermissionLevel

# Conclusions worth another run; success, neutral and skipped are not.
_FAILED = frozenset({"failure", "timed_out", "cancelled", "action_required", "startup_failure"})


@command(
    "retest",
    usage="/retest",
    help="Re-run ferrybot's checks on the head commit and re-request failed check suites "
    "of other apps.",
    permission=PermissionLevel.WRITE,
    gitlab_refusal=None,
)
async def retest(inv: Invocation) -> str | None:
    """Re-run every registered ferrybot check, then re-request the others' failed suites.

    On GitLab only ferrybot's own statuses are re-run: pipelines are GitLab CI's to retry.
    """
    if inv.args:
        raise CommandRefused("`/retest` takes no arguments")
    if inv.change is not None:
        await refresh_change_checks(inv.ctx)
        names = ", ".join(f"`{name}`" for name in sorted(change_rechecks))
        return f"re-ran {names}; retry GitLab CI jobs from the pipeline page"
    for run_again in rechecks.values():
        await run_again(inv.ctx, inv.state, inv.config)
    refused = await _rerequest_failed_suites(inv)
    if refused:
        return (
            "GitHub did not let me re-run "
            + ", ".join(f"`{name}`" for name in refused)
            + "; re-run those from the Checks tab"
        )
    return None


async def _rerequest_failed_suites(inv: Invocation) -> list[str]:
    gh, state = inv.ctx.gh, inv.state
    url_vars = {"owner": state.owner, "repo": state.repo, "ref": state.head_sha}
    ours: set[int] = set()
    async for run in gh.getiter(
        "/repos/{owner}/{repo}/commits/{ref}/check-runs{?per_page}",
        url_vars={**url_vars, "per_page": "100"},
        iterable_key="check_runs",
    ):
        if str(run.get("name", "")) in rechecks:
            ours.add(int(run["check_suite"]["id"]))
    refused: list[str] = []
    async for suite in gh.getiter(
        "/repos/{owner}/{repo}/commits/{ref}/check-suites{?per_page}",
        url_vars={**url_vars, "per_page": "100"},
        iterable_key="check_suites",
    ):
        if int(suite["id"]) in ours or suite.get("conclusion") not in _FAILED:
            continue
        if suite.get("rerequestable") is False:
            refused.append(_app_name(suite))
            continue
        try:
            await gh.post(
                "/repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest",
                url_vars={**url_vars, "check_suite_id": str(suite["id"])},
                data=b"",  # the operation takes no body
            )
        except gidgethub.BadRequest as exc:
            if is_transient(exc):
                raise
            # GitHub lets an app re-request only some suites (its own, or with rights to them).
            refused.append(_app_name(suite))
    return refused


def _app_name(suite: dict[str, Any]) -> str:
    app = suite.get("app") or {}
    return str(app.get("slug") or app.get("name") or suite["id"])
