"""`ferrybot send`: sign a payload file like GitHub would and post it to the ingress."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.signatures import sign_github


@dataclass(frozen=True)
class SendResult:
    """The ingress's answer."""

    status: int
    body: str


def event_from_filename(path: Path) -> str | None:
    """`pull_request.opened.json` and `pull_request.opened.0.json` name the `pull_request` event."""
    stem = path.name.split(".")[0]
    return stem or None


async def send_github(
    body: bytes, event: str, url: str, secret: str, delivery: str | None = None
) -> SendResult:
    """POST a GitHub-style delivery, signed with sha256, and return the answer."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/ferrybot-send",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign_github(body, secret),
    }
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return SendResult(response.status, await response.text())


def send_file(path: Path, event: str, url: str, secret: str, delivery: str | None) -> SendResult:
    """Read the file and send it."""
    return asyncio.run(send_github(path.read_bytes(), event, url, secret, delivery))
