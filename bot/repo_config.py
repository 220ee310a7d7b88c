"""A repository's or project's own `.github/ferrybot.yml`, merged over the central config."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import gidgethub
from gidgethub.abc import GitHubAPI
from pydantic import ValidationError
from ruamel.yaml.error import YAMLError

from bot.bounded_yaml import YAMLTooLarge, load_bounded_yaml
from bot.github.limits import COMMENT_BODY, fit
from bot.pipeline.retry import is_transient
from schemas.config import BotConfig
from schemas.envelope import Envelope, Source, payload_dict

_MARKER = "<!-- ferrybot:repo-config sha={sha} -->"
# The cache key prefix of GitLab projects.
GITLAB_KEY = "gitlab:"
MAX_FILE_BYTES = 64 * 1024
# A repo file sets a few dotted keys, a handful of levels deep. These bounds are far above
# that and far below what would make loading, merging or validating it recurse or run long.
MAX_DEPTH = 32
MAX_VALUES = 10_000


@dataclass(frozen=True)
class RepoConfig:
    """The config in force for one repository, and why the repo file was set aside, if it was."""

    config: BotConfig
    problem: str | None = None
    blob_sha: str | None = None


def unreadable_file(central: BotConfig, exc: Exception, status: int, forge: str) -> RepoConfig:
    """The central config when the file's read was refused: absent is normal, other refusals
    are said on the change (rather than dead-lettering every handler that reads the config);
    a transient failure is raised again for the retry policy.
    """
    if status == 404:
        return RepoConfig(central)
    if is_transient(exc):
        raise exc
    path = central.repo_config.path
    return RepoConfig(central, f"`{path}` could not be read ({forge} answered {status})")


async def effective_config(gh: GitHubAPI, central: BotConfig, owner: str, repo: str) -> RepoConfig:
    """The central config with the repo file's allowed keys merged in.

    The file is read from the default branch, never from a pull request's head, so a pull
    request (from a fork or not) cannot change the rules it is judged by. The client's ETag
    cache makes an unchanged file a 304 that does not count against the rate limit.
    """
    policy = central.repo_config
    if not policy.allowed_overrides:
        return RepoConfig(central)
    try:
        item = await gh.getitem(
            "/repos/{owner}/{repo}/contents/{+path}",
            url_vars={"owner": owner, "repo": repo, "path": policy.path},
        )
    except gidgethub.BadRequest as exc:
        return unreadable_file(central, exc, int(exc.status_code), "GitHub")
    sha = str(item.get("sha", "")) if isinstance(item, dict) else ""
    try:
        text = _github_text(item, policy.path)
    except ValueError as exc:
        return RepoConfig(central, str(exc), sha)
    return config_from_file(central, text, sha)


def config_from_file(central: BotConfig, text: str, blob_sha: str) -> RepoConfig:
    """`central` with the repo file's allowed keys merged in, or set aside saying why."""
    policy = central.repo_config
    try:
        if len(text.encode()) > MAX_FILE_BYTES:
            raise ValueError(f"`{policy.path}` is larger than {MAX_FILE_BYTES // 1024} KiB")
        data = parse_repo_file(text, policy.path)
        merged = merge_overrides(central, data, policy.allowed_overrides, policy.path)
    except ValueError as exc:
        return RepoConfig(central, str(exc), blob_sha)
    return RepoConfig(merged, None, blob_sha)


class RepoConfigCache:
    """Each repository's effective config, read at most once per TTL and repository.

    A push to a repository's default branch drops its entry (`forget`), so an edited file
    applies on the next event rather than after the TTL. Concurrent first reads of one
    repository share one request.
    """

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 5000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, RepoConfig]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, gh: GitHubAPI, central: BotConfig, owner: str, repo: str) -> RepoConfig:
        """The cached config for `owner/repo`, read from GitHub when missing or expired."""
        return await self.get_read(
            f"{owner}/{repo}", lambda: effective_config(gh, central, owner, repo)
        )

    async def get_read(self, key: str, read: Callable[[], Awaitable[RepoConfig]]) -> RepoConfig:
        """The cached config under `key`, from `read()` when missing or expired.

        GitHub repositories are keyed `owner/repo`, GitLab projects `gitlab:group/project`
        (no GitHub name holds a colon), so the two never share an entry.
        """
        key = key.lower()
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._entries.get(key)
            if entry is not None and self._clock() - entry[0] < self._ttl:
                self._entries.move_to_end(key)
                return entry[1]
            result = await read()
            self._entries[key] = (self._clock(), result)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                old, _ = self._entries.popitem(last=False)
                self._locks.pop(old, None)
            return result

    def forget(self, owner: str, repo: str) -> None:
        """Read `owner/repo`'s file again next time (its default branch moved)."""
        self._entries.pop(f"{owner}/{repo}".lower(), None)

    def note_event(self, envelope: Envelope) -> None:
        """Forget a repository's entry when the event is a push to its default branch."""
        if envelope.event != "push":
            return
        payload = payload_dict(envelope)
        if envelope.source is Source.GITLAB:
            project = payload.get("project")
            if isinstance(project, dict) and isinstance(project.get("path_with_namespace"), str):
                if payload.get("ref") == f"refs/heads/{project.get('default_branch')}":
                    self._entries.pop(f"{GITLAB_KEY}{project['path_with_namespace']}".lower(), None)
            return
        if envelope.source is not Source.GITHUB:
            return
        repository = payload.get("repository")
        if not isinstance(repository, dict):
            return
        default = repository.get("default_branch")
        full_name = repository.get("full_name")
        if payload.get("ref") == f"refs/heads/{default}" and isinstance(full_name, str):
            owner, _, repo = full_name.partition("/")
            self.forget(owner, repo)


def _github_text(item: Any, path: str) -> str:
    if not isinstance(item, dict) or item.get("type") != "file":
        raise ValueError(f"`{path}` is not a file")
    too_big = ValueError(f"`{path}` is larger than {MAX_FILE_BYTES // 1024} KiB")
    # The size GitHub states comes first: over 1 MB the contents API sends no content at all.
    if int(item.get("size", 0)) > MAX_FILE_BYTES:
        raise too_big
    try:
        raw = base64.b64decode(item.get("content", ""))
        if len(raw) > MAX_FILE_BYTES:
            raise too_big
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(f"`{path}` is not UTF-8 text") from None


def parse_repo_file(text: str, path: str) -> dict[str, Any]:
    """The repo file's settings, bounded in depth and size; ValueError saying what is wrong."""
    try:
        loaded = load_bounded_yaml(text, max_depth=MAX_DEPTH, max_nodes=MAX_VALUES)
    except YAMLTooLarge as exc:
        where = f" at line {exc.line}" if exc.line is not None else ""
        raise ValueError(f"`{path}` {exc}{where}") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"`{path}` is not valid YAML{where}") from None
    except ValueError as exc:
        # ruamel's constructors raise plain ValueErrors for values such as `2001-13-45`.
        raise ValueError(f"`{path}` holds a value YAML cannot read: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ValueError(f"`{path}` must be a mapping of settings")
    return loaded


def merge_overrides(
    central: BotConfig, data: dict[str, Any], allowed: list[str], path: str
) -> BotConfig:
    """`central` with `data` merged in; any key outside `allowed` refuses the whole file."""
    refused = sorted(_disallowed(data, "", allowed))
    if refused:
        raise ValueError(
            f"`{path}` sets {', '.join(f'`{key}`' for key in refused)}, which this installation "
            f"does not let repositories override; allowed: "
            + ", ".join(f"`{key}`" for key in allowed)
        )
    # Only the sections the file touches are rebuilt; the rest (secrets too) stay as they are.
    sections = {key: getattr(central, key).model_dump() for key in data if hasattr(central, key)}
    try:
        updates = BotConfig.model_validate(_deep_merge(sections, data))
    except ValidationError as exc:
        problems = "; ".join(
            f"`{'.'.join(map(str, error['loc']))}`: {error['msg']}" for error in exc.errors()[:5]
        )
        raise ValueError(f"`{path}` is not valid: {problems}") from None
    return central.model_copy(update={key: getattr(updates, key) for key in sections})


def _disallowed(node: Any, prefix: str, allowed: list[str]) -> list[str]:
    if prefix and any(prefix == key or prefix.startswith(key + ".") for key in allowed):
        return []
    if isinstance(node, dict) and (not prefix or any(k.startswith(prefix + ".") for k in allowed)):
        found: list[str] = []
        for key, value in node.items():
            found.extend(_disallowed(value, f"{prefix}.{key}" if prefix else str(key), allowed))
        return found
    return [prefix or "(the whole file)"]


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def problem_marker(result: RepoConfig) -> str:
    """The hidden marker of the problem report about this version of the file."""
    return _MARKER.format(sha=result.blob_sha or "-")


def problem_text(result: RepoConfig) -> str:
    """What the problem report says: the file was set aside, why, and how to apply it."""
    return (
        f"ferrybot is using the central configuration for this repository: "
        f"{result.problem}. Fix the file on the default branch to apply its settings."
    )


async def report_problem(
    gh: GitHubAPI, owner: str, repo: str, number: int, result: RepoConfig
) -> bool:
    """Say on the pull request, once per file version, that the repo file was set aside."""
    if result.problem is None:
        return False
    marker = problem_marker(result)
    async for comment in gh.getiter(
        "/repos/{owner}/{repo}/issues/{issue_number}/comments{?per_page}",
        url_vars={"owner": owner, "repo": repo, "issue_number": str(number), "per_page": "100"},
    ):
        if marker in (comment.get("body") or ""):
            return False
    await gh.post(
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        url_vars={"owner": owner, "repo": repo, "issue_number": str(number)},
        data={"body": fit(problem_text(result), COMMENT_BODY, keep=f"\n\n{marker}")},
    )
    return True
