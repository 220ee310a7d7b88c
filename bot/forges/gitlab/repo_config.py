"""A GitLab project's own config file, read from its default branch and merged over the central."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from gidgetlab.abc import GitLabAPI
from gidgetlab.exceptions import BadRequest

from bot.forges.gitlab.subjects import project_path
from bot.repo_config import MAX_FILE_BYTES, RepoConfig, config_from_file, unreadable_file
from schemas.config import BotConfig


async def project_config(gl: GitLabAPI, central: BotConfig, project: str) -> RepoConfig:
    """The central config with the project file's allowed keys merged in.

    Read from the default branch only, as on GitHub: a merge request cannot change the rules
    it is judged by, whatever its source branch holds.
    """
    policy = central.repo_config
    if not policy.allowed_overrides:
        return RepoConfig(central)
    try:
        branch = (await gl.getitem(f"/projects/{project_path(project)}")).get("default_branch")
        if not isinstance(branch, str) or not branch:
            return RepoConfig(central)  # an empty project has no default branch yet
        entry = await gl.getitem(
            f"/projects/{project_path(project)}/repository/files/{quote(policy.path, safe='')}",
            {"ref": branch},
        )
    except BadRequest as exc:
        return unreadable_file(central, exc, int(exc.status_code), "GitLab")
    blob = str(entry.get("blob_id", ""))
    too_big = f"`{policy.path}` is larger than {MAX_FILE_BYTES // 1024} KiB"
    size = entry.get("size")
    if isinstance(size, int) and size > MAX_FILE_BYTES:
        return RepoConfig(central, too_big, blob)
    try:
        raw = base64.b64decode(str(entry.get("content", "")), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return RepoConfig(central, f"`{policy.path}` is not UTF-8 text", blob)
    return config_from_file(central, text, blob)
