"""`ferrybot send`: sign a payload file like GitHub would and post it to the ingress."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.signatures import sign_github

_TIMEOUT_SECONDS = 30


class SendFailed(Exception):
    """The ingress could not be reached or did not answer; the message says which."""


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
    timeout = aiohttp.ClientTimeout(total=_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return SendResult(response.status, await response.text())
    except aiohttp.ClientConnectorError as exc:
        # A refused connect's own text repeats the address; the errno's text does not.
        errno = exc.os_error.errno
        reason = (
            os.strerror(errno).lower()
            if errno and errno > 0
            else (exc.os_error.strerror or type(exc.os_error).__name__).lower()
        )
        raise SendFailed(f"cannot reach {url}: {reason}; is the ingress running?") from None
    except TimeoutError:
        raise SendFailed(f"{url} did not answer within {_TIMEOUT_SECONDS} s") from None
    except aiohttp.ClientError as exc:
        raise SendFailed(f"sending to {url} failed: {type(exc).__name__}") from None


def send_file(path: Path, event: str, url: str, secret: str, delivery: str | None) -> SendResult:
    """Read the file and send it."""
    return asyncio.run(send_github(path.read_bytes(), event, url, secret, delivery))
