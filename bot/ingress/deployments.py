"""What Argo CD and Flux deployment deliveries share: the GitOps repo of a URL, derived ids."""

from __future__ import annotations

import hashlib
import json
import re

from bot.ingress.errors import Refused

# `https://github.com/acme/gitops(.git)`, `git@github.com:acme/gitops.git`, `ssh://…/acme/gitops`.
_REPO_URL = re.compile(
    r"[:/](?P<owner>[A-Za-z0-9_.-]{1,100})/(?P<name>[A-Za-z0-9_.-]{1,100}?)(?:\.git)?/?$"
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,252}", re.ASCII)
# A Git SHA, or Flux's `<ref>@sha1:<sha>` / `sha1:<sha>` (OCI sources use `sha256:`).
_REVISION = re.compile(r"[A-Za-z0-9_.:/@+-]{1,300}", re.ASCII)


def repo_of_url(url: object) -> str | None:
    """`owner/name` of a Git URL, or None when it does not look like one."""
    if not isinstance(url, str) or len(url) > 500:
        return None
    match = _REPO_URL.search(url.strip())
    if match is None or ".." in match.group(0):
        return None
    return f"{match['owner']}/{match['name']}"


def checked_name(value: object, what: str) -> str:
    """An object name from a payload (app, kind/namespace/name), or Refused(400)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise Refused(400, f"{what} is missing or not a plain name")
    return value


def checked_revision(value: object, what: str) -> str:
    """A revision from a payload, or Refused(400)."""
    if not isinstance(value, str) or not _REVISION.fullmatch(value):
        raise Refused(400, f"{what} is missing or not a Git revision")
    return value


def derived_delivery(source: str, *parts: object) -> str:
    """The same notification always maps to the same id (neither sender sends one)."""
    digest = hashlib.sha256(json.dumps([source, *parts], default=str).encode()).hexdigest()
    return f"{source}:{digest[:32]}"
