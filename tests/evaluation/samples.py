"""The captured Alertmanager deliveries under tests/data/alertmanager/, ready to re-send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "alertmanager"
TOKEN = "alertmanager-token-for-tests"


def sample(name: str) -> dict[str, Any]:
    """The body Alertmanager sent in `<name>.json`."""
    body: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())["body"]
    return body


def headers(name: str, token: str = TOKEN) -> dict[str, str]:
    """The captured headers, with the redacted token replaced by `token`."""
    captured: dict[str, str] = json.loads((DATA / f"{name}.json").read_text())["headers"]
    sent = {k: v for k, v in captured.items() if k.lower() != "content-length"}
    sent["Authorization"] = f"Bearer {token}"
    return sent
