"""Secrets in the lines a change adds: detect-secrets' plugins, offline, bounded, redacted."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import default_settings
from unidiff.errors import UnidiffParseError

from schemas.trust import SecretAllowEntry

# detect-secrets' settings are process-global: one scan at a time, in one worker thread.
_SCAN_LOCK = threading.Lock()
# The diff names files that are not on this disk: without this filter every file is skipped.
_FILE_ON_DISK = "detect_secrets.filters.common.is_invalid_file"
# Verification sends each candidate to its service (AWS, Slack, …): never, from here.
_VERIFY_OVER_NETWORK = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"


@dataclass(frozen=True)
class FileDiff:
    """One changed file and its unified-diff hunks (None when the forge sent none)."""

    path: str
    patch: str | None


@dataclass(frozen=True)
class SecretFinding:
    """Where a secret was added and which rule found it; never the secret itself."""

    path: str
    line: int
    rule: str


@dataclass(frozen=True)
class Unscanned:
    """A file the scan did not read, and why."""

    path: str
    why: str


@dataclass(frozen=True)
class SecretScan:
    """What the scan found, how much it read, and what it left out."""

    findings: list[SecretFinding] = field(default_factory=list)
    scanned: int = 0
    allowed: int = 0
    unscanned: list[Unscanned] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """True when some file was not read."""
        return bool(self.unscanned)


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*/?|\*|\?)", pattern)
    regex = ""
    for part in parts:
        if part in ("**", "**/"):
            regex += ".*"
        elif part == "*":
            regex += "[^/]*"
        elif part == "?":
            regex += "[^/]"
        else:
            regex += re.escape(part)
    return re.compile(regex + r"\Z")


def allowed_by(finding: SecretFinding, allowlist: Iterable[SecretAllowEntry]) -> bool:
    """True when an allow-list entry covers the finding's path and rule."""
    for entry in allowlist:
        if entry.rules and finding.rule not in entry.rules:
            continue
        if any(_glob(pattern).match(finding.path) for pattern in entry.paths):
            return True
    return False


def _as_diff(item: FileDiff) -> str:
    assert item.patch is not None
    return f"--- a/{item.path}\n+++ b/{item.path}\n{item.patch}\n"


def scan_files(
    files: list[FileDiff],
    allowlist: list[SecretAllowEntry],
    max_bytes: int,
    max_seconds: float,
) -> SecretScan:
    """Scan the added lines of each file until the byte or time budget runs out."""
    deadline = time.monotonic() + max_seconds
    budget = max_bytes
    findings: list[SecretFinding] = []
    unscanned: list[Unscanned] = []
    scanned = allowed = 0
    with _SCAN_LOCK, default_settings() as settings:
        settings.disable_filters(_FILE_ON_DISK, _VERIFY_OVER_NETWORK)
        for index, item in enumerate(files):
            if time.monotonic() >= deadline:
                unscanned += [Unscanned(f.path, "time limit") for f in files[index:]]
                break
            if item.patch is None:
                unscanned.append(Unscanned(item.path, "no diff from the forge (binary or large)"))
                continue
            size = len(item.patch.encode())
            if size > budget:
                unscanned.append(Unscanned(item.path, "size limit"))
                continue
            budget -= size
            collection = SecretsCollection()
            try:
                collection.scan_diff(_as_diff(item))
            except UnidiffParseError:
                unscanned.append(Unscanned(item.path, "diff not readable"))
                continue
            scanned += 1
            for secret in sorted(
                (s for found in collection.data.values() for s in found),
                key=lambda s: (s.line_number, s.type),
            ):
                finding = SecretFinding(item.path, secret.line_number, secret.type)
                if allowed_by(finding, allowlist):
                    allowed += 1
                else:
                    findings.append(finding)
    return SecretScan(findings, scanned, allowed, unscanned)


async def scan_added_lines(
    files: list[FileDiff],
    allowlist: list[SecretAllowEntry],
    max_bytes: int,
    max_seconds: float,
) -> SecretScan:
    """`scan_files` off the event loop, so other partitions keep moving during a long scan."""
    return await asyncio.to_thread(scan_files, files, allowlist, max_bytes, max_seconds)
