"""The webhook secret of a local run: generated once, kept in the state directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_NAME = "webhook-secret"


def secret_path(state_dir: Path) -> Path:
    """Where the local secret lives."""
    return state_dir / FILE_NAME


def read_local_secret(state_dir: Path) -> str | None:
    """The stored secret, if a local run created one."""
    path = secret_path(state_dir)
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def ensure_local_secret(state_dir: Path) -> str:
    """The stored secret, creating a random one (mode 0600) on first use."""
    existing = read_local_secret(state_dir)
    if existing:
        return existing
    state_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path = secret_path(state_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value
