"""`ferrybot/manifests`: changed YAML in a GitOps repo parses and validates, with annotations."""

from __future__ import annotations

import base64
from typing import Any

from gidgethub.abc import GitHubAPI

from bot.check_alerts import announce_new_failure
from bot.checks import CheckResult, Conclusion, publish_check
from bot.commands.framework import PullState
from bot.commands.rechecks import recheck
from bot.context import Context
from bot.forges.port import ChangeRequest, Forge
from bot.pipeline.dispatch import on
from handlers.manifest_validation import Finding, supported_versions, validate_manifest
from schemas.commands_config import ManifestsConfig
from schemas.config import BotConfig
from schemas.envelope import Source
from schemas.github import PullRequestEvent
from schemas.gitlab import MergeRequestHook

CHECK_NAME = "ferrybot/manifests"
_YAML = (".yaml", ".yml")


def wanted(path: str, config: ManifestsConfig) -> bool:
    """True for a YAML file under one of the configured path prefixes."""
    return path.endswith(_YAML) and any(path.startswith(prefix) for prefix in config.paths)


async def changed_yaml(
    gh: GitHubAPI, state: PullState, config: ManifestsConfig
) -> list[dict[str, Any]]:
    """The PR's added or modified YAML files under the configured paths, by blob SHA.

    Files are read as blobs of the base repository by SHA: never the fork's branch name or
    repository, so a fork's PR cannot point the bot at anything but the content it proposes.
    """
    files: list[dict[str, Any]] = []
    async for item in gh.getiter(
        "/repos/{owner}/{repo}/pulls/{pull_number}/files{?per_page}",
        url_vars={
            "owner": state.owner,
            "repo": state.repo,
            "pull_number": str(state.number),
            "per_page": "100",
        },
    ):
        if item.get("status") != "removed" and wanted(str(item["filename"]), config):
            files.append(item)
    return files


async def _blob_text(gh: GitHubAPI, state: PullState, sha: str) -> str | None:
    blob = await gh.getitem(
        "/repos/{owner}/{repo}/git/blobs/{file_sha}",
        url_vars={"owner": state.owner, "repo": state.repo, "file_sha": sha},
    )
    try:
        return base64.b64decode(blob.get("content", "")).decode("utf-8")
    except ValueError:
        return None


def _annotation(path: str, finding: Finding) -> dict[str, Any]:
    return {
        "path": path,
        "start_line": finding.line,
        "end_line": finding.line,
        "annotation_level": finding.level,
        "message": finding.message,
        "title": "Manifest problem" if finding.level == "failure" else "Not validated",
    }


async def evaluate_manifests(
    gh: GitHubAPI, state: PullState, config: ManifestsConfig
) -> CheckResult:
    """Validate every changed YAML file; failures become annotations on file and line."""
    unsupported = _unsupported_version(config)
    if unsupported is not None:
        return unsupported
    files = await changed_yaml(gh, state, config)
    texts = [
        (str(item["filename"]), await _blob_text(gh, state, str(item["sha"])))
        for item in files[: config.max_files]
    ]
    return manifests_verdict(texts, len(files), config)


async def evaluate_change_manifests(
    forge: Forge, change: ChangeRequest, config: ManifestsConfig
) -> CheckResult:
    """The same verdict through the forge port: files read at the head commit, by SHA."""
    unsupported = _unsupported_version(config)
    if unsupported is not None:
        return unsupported
    limit = config.max_files + 1000  # enough to count what is skipped
    paths = [f.path for f in await forge.changed_files(change, limit) if not f.removed]
    paths = [path for path in paths if wanted(path, config)]
    texts = [
        (path, await forge.read_file(change.project, path, change.head_sha))
        for path in paths[: config.max_files]
    ]
    return manifests_verdict(texts, len(paths), config)


def _unsupported_version(config: ManifestsConfig) -> CheckResult | None:
    if config.kubernetes_version in supported_versions():
        return None
    versions = supported_versions()
    return CheckResult(
        CHECK_NAME,
        Conclusion.FAILURE,
        "Kubernetes version not supported",
        f"`manifests.kubernetes_version` is {config.kubernetes_version}; the bundled "
        f"schemas cover {versions[0]} to {versions[-1]}. Change the setting.",
    )


def manifests_verdict(
    texts: list[tuple[str, str | None]], total: int, config: ManifestsConfig
) -> CheckResult:
    """The verdict on the files read (path, text or None when not UTF-8) of `total` changed."""
    annotations: list[dict[str, Any]] = []
    failed_files: list[str] = []
    for path, text in texts:
        findings = (
            [Finding(1, "not UTF-8 text")]
            if text is None
            else validate_manifest(text, config.kubernetes_version, config.strict)
        )
        if any(f.level == "failure" for f in findings):
            failed_files.append(path)
        annotations.extend(_annotation(path, finding) for finding in findings)
    skipped = total - len(texts)
    note = f"\n\n{skipped} more files were not read (`manifests.max_files`)." if skipped else ""
    checked = len(texts)
    if failed_files:
        listing = "\n".join(f"- `{path}`" for path in failed_files)
        return CheckResult(
            CHECK_NAME,
            Conclusion.FAILURE,
            f"{len(failed_files)} of {checked} manifest files have problems",
            f"Fix the annotated lines in:\n\n{listing}{note}",
            annotations=annotations,
        )
    return CheckResult(
        CHECK_NAME,
        Conclusion.SUCCESS,
        f"{checked} manifest files valid",
        f"Every changed YAML file parses, has no duplicate keys and validates against the "
        f"Kubernetes {config.kubernetes_version} schemas.{note}",
        annotations=annotations,
    )


def applies(project: str, config: ManifestsConfig) -> bool:
    """True when the repository (or GitLab project) is one of the configured GitOps ones."""
    return project.lower() in (repo.lower() for repo in config.repositories)


@recheck(CHECK_NAME)
async def publish_manifests(ctx: Context, state: PullState, config: BotConfig) -> None:
    """Publish the manifests verdict on the head SHA, for configured repositories only."""
    if not applies(f"{state.owner}/{state.repo}", config.manifests):
        return
    result = await evaluate_manifests(ctx.gh, state, config.manifests)
    previous = await publish_check(
        ctx.gh, state.owner, state.repo, state.head_sha, result, ctx.check_runs
    )
    await announce_new_failure(ctx, state, state.pull.base.repo, result, previous)
    ctx.log.debug("manifests.published", conclusion=result.conclusion.value, sha=state.head_sha)


@on("pull_request.opened", "pull_request.reopened", "pull_request.synchronize")
async def manifests_check(ctx: Context) -> None:
    """Validate the pull request's changed manifests on each new head."""
    event = ctx.event(PullRequestEvent)
    owner, repo, pr = event.repository.owner_login, event.repository.name, event.pull_request
    if not applies(f"{owner}/{repo}", ctx.config.manifests):
        return  # no contents request for the many repositories that are not GitOps ones
    config = (await ctx.repo_config(owner, repo)).config
    await publish_manifests(ctx, PullState(owner, repo, pr, set(pr.label_names)), config)


@on("merge_request.open", "merge_request.reopen", "merge_request.update", source=Source.GITLAB)
async def change_manifests_check(ctx: Context) -> None:
    """Validate a GitLab merge request's changed manifests on each new head."""
    hook = ctx.event(MergeRequestHook)
    project = hook.project.path_with_namespace
    if not applies(project, ctx.config.manifests):
        return  # no file read for the many projects that are not GitOps ones
    if ctx.envelope.action == "update" and hook.object_attributes.oldrev is None:
        return  # a title or label edit: the files, and so the verdict, are unchanged
    config = (await ctx.project_config(project)).config.manifests
    forge = ctx.change_forge
    change = await ctx.change()
    result = await evaluate_change_manifests(forge, change, config)
    await forge.set_check(change, result)
    ctx.log.debug("manifests.published", conclusion=result.conclusion.value, sha=change.head_sha)
