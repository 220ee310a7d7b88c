"""Recorded real payloads committed under tests/data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data"


def load_webhook(name: str, installation_id: int | None = None) -> dict[str, Any]:
    """A GitHub example payload (`pull_request.opened.0`), optionally as an App delivery."""
    payload: dict[str, Any] = json.loads(
        (DATA / "github" / "webhooks" / f"{name}.json").read_text()
    )
    if installation_id is not None:
        payload["installation"] = {"id": installation_id}
    return payload
