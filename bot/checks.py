"""Publish a check on a commit: one check run per name and SHA, or a commit status."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import gidgethub
from gidgethub.abc import GitHubAPI

from bot.check_runs import (
    CheckRunLedger,
    CheckRunScope,
    KnownRun,
    RunKey,
    external_id,
    run_key,
)
from bot.github.limits import (
    ANNOTATION_MESSAGE,
    ANNOTATION_TITLE,
    ANNOTATIONS_PER_REQUEST,
    CHECK_SUMMARY,
    CHECK_TEXT,
    CHECK_TITLE,
    STATUS_DESCRIPTION,
    fit,
)

# A finding past the 50 annotations gets one line of the text: its message, cut to this.
_LISTED_MESSAGE = 300


class Conclusion(StrEnum):
    """Check-run conclusions ferrybot uses."""

    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class CheckResult:
    """What a check found, ready to publish."""

    name: str
    conclusion: Conclusion
    title: str
    summary: str
    text: str | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)

    def output(self) -> dict[str, Any]:
        """The check run `output` object, within GitHub's limits.

        GitHub takes 50 annotations per request and appends those of every update to the
        run's list, so a re-published verdict would repeat them: the first 50 are annotations,
        the rest are listed in the text.
        """
        shown = self.annotations[:ANNOTATIONS_PER_REQUEST]
        output: dict[str, Any] = {
            "title": fit(self.title, CHECK_TITLE),
            "summary": fit(self.summary, CHECK_SUMMARY, in_bytes=True),
        }
        text = text_and_listing(self.text or "", self.annotations[ANNOTATIONS_PER_REQUEST:])
        if text:
            output["text"] = text
        if shown:
            output["annotations"] = [_fitted_annotation(item) for item in shown]
        return output


def _fitted_annotation(annotation: dict[str, Any]) -> dict[str, Any]:
    fitted = dict(annotation)
    for key, limit, in_bytes in (
        ("message", ANNOTATION_MESSAGE, True),
        ("raw_details", ANNOTATION_MESSAGE, True),
        ("title", ANNOTATION_TITLE, False),
    ):
        if isinstance(fitted.get(key), str):
            fitted[key] = fit(fitted[key], limit, in_bytes=in_bytes)
    return fitted


def text_and_listing(text: str, rest: list[dict[str, Any]]) -> str:
    """The text, then the findings not shown as annotations, one plain line each (fenced)."""
    if not rest:
        return fit(text, CHECK_TEXT, in_bytes=True)
    lines = "\n".join(
        f"{item.get('path')}:{item.get('start_line')}: "
        + fit(" ".join(str(item.get("message", "")).split()), _LISTED_MESSAGE)
        for item in rest
    )
    # A fence longer than any backtick run inside, so no message can end it early; it is
    # closed even when the listing is cut.
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", lines)), default=0))
    intro = f"{len(rest)} more findings than GitHub shows as annotations:\n\n{fence}text\n"
    return fit(
        f"{text}\n\n{intro}{lines}" if text else intro + lines,
        CHECK_TEXT,
        keep=f"\n{fence}",
        in_bytes=True,
    )


async def publish_check(
    gh: GitHubAPI,
    owner: str,
    repo: str,
    head_sha: str,
    result: CheckResult,
    runs: CheckRunScope | None = None,
) -> str | None:
    """Create or update the check run named `result.name` on `head_sha`; fall back to a status.

    Returns the conclusion the run had before (None when it is new or unknown), so callers
    can tell a check that starts failing from one that keeps failing. With `runs`, a run this
    process made or saw is updated without a lookup, and one on a commit the event itself
    brought is created without one.
    """
    try:
        return await _publish_check_run(gh, owner, repo, head_sha, result, runs)
    except gidgethub.BadRequest as exc:
        # Personal access tokens cannot create check runs (403 "Resource not accessible by
        # personal access token"); a commit status carries the same verdict.
        if int(exc.status_code) != 403 or "retry-after" in exc.headers:
            raise
        await publish_status(gh, owner, repo, head_sha, result)
        return None


async def _publish_check_run(
    gh: GitHubAPI,
    owner: str,
    repo: str,
    head_sha: str,
    result: CheckResult,
    runs: CheckRunScope | None,
) -> str | None:
    ledger = runs.ledger if runs is not None else CheckRunLedger()
    key = run_key(owner, repo, result.name, head_sha)
    async with ledger.guard(key):
        return await _write_check_run(gh, owner, repo, head_sha, result, runs, ledger, key)


async def _write_check_run(
    gh: GitHubAPI,
    owner: str,
    repo: str,
    head_sha: str,
    result: CheckResult,
    runs: CheckRunScope | None,
    ledger: CheckRunLedger,
    key: RunKey,
) -> str | None:
    existing = ledger.known(key)
    if existing is None:
        brand_new = runs is not None and runs.new_head == head_sha and ledger.untouched(key)
        if not brand_new:
            existing = await _existing_check_run(gh, owner, repo, head_sha, result.name)
    body: dict[str, Any] = {
        "status": "completed",
        "conclusion": result.conclusion.value,
        "output": result.output(),
    }
    if existing is None:
        ledger.pending(key)
        created = await gh.post(
            "/repos/{owner}/{repo}/check-runs",
            url_vars={"owner": owner, "repo": repo},
            data={
                "name": result.name,
                "head_sha": head_sha,
                "external_id": external_id(result.name, head_sha),
                **body,
            },
        )
        ledger.record(key, _known(created))
        return None
    previous = existing.conclusion
    if (
        existing.status == "completed"
        and existing.conclusion == result.conclusion.value
        and existing.title == body["output"]["title"]
        and existing.summary == body["output"]["summary"]
    ):
        ledger.record(key, existing)
        return str(previous)  # a redelivery: the run already says exactly this
    ledger.pending(key)
    try:
        updated = await gh.patch(
            "/repos/{owner}/{repo}/check-runs/{check_run_id}",
            url_vars={"owner": owner, "repo": repo, "check_run_id": str(existing.id)},
            data=body,
        )
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            ledger.forget(key)  # deleted meanwhile: the retry looks it up or creates it
        raise
    ledger.record(key, _known(updated))
    return str(previous) if previous is not None else None


def _known(run: Any) -> KnownRun:
    output = run.get("output") or {}
    return KnownRun(
        id=int(run["id"]),
        status=run.get("status"),
        conclusion=run.get("conclusion"),
        title=output.get("title"),
        summary=output.get("summary"),
    )


async def _existing_check_run(
    gh: GitHubAPI, owner: str, repo: str, head_sha: str, name: str
) -> KnownRun | None:
    try:
        listing = await gh.getitem(
            "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name,filter}",
            url_vars={
                "owner": owner,
                "repo": repo,
                "ref": head_sha,
                "check_name": name,
                "filter": "latest",
            },
        )
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return None  # nothing to update; creating will say whether the repo exists
        raise
    runs = [run for run in listing.get("check_runs", []) if run.get("name") == name]
    # Another App's run may share the name; ours carries the deterministic external id (runs
    # made before external ids were set carry none and are ours too).
    own = [run for run in runs if run.get("external_id") in (None, "", external_id(name, head_sha))]
    return _known(own[0]) if own else None


async def publish_status(
    gh: GitHubAPI, owner: str, repo: str, sha: str, result: CheckResult
) -> None:
    """The verdict as a commit status (the latest status per context wins, so it is idempotent)."""
    state = "success" if result.conclusion is not Conclusion.FAILURE else "failure"
    await gh.post(
        "/repos/{owner}/{repo}/statuses/{sha}",
        url_vars={"owner": owner, "repo": repo, "sha": sha},
        data={
            "state": state,
            "context": result.name,
            "description": fit(result.title, STATUS_DESCRIPTION),
        },
    )
