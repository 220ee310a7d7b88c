"""Local stand-ins for Slack, Mattermost, Teams, Discord and a generic receiver (real HTTP).

Each checks the payload shape its service documents and answers with that service's codes:
success (Slack/Mattermost 200 `ok`, Teams 202, Discord 204), 400 on a bad shape, 404/410 for
a revoked webhook, 429 with Retry-After when told to.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JsonObject = dict[str, Any]


def units(text: str) -> int:
    """Length as the services count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def slack_problems(payload: Any) -> list[str]:
    """What Slack's Block Kit would refuse (api.slack.com/reference/block-kit)."""
    if not isinstance(payload, dict):
        return ["body is not a JSON object"]
    problems: list[str] = []
    if not _text(payload.get("text")):
        problems.append("text: the fallback is required with blocks")
    blocks = payload.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return [*problems, "blocks: 1 to 50 required"]
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header":
            text = block.get("text", {})
            if text.get("type") != "plain_text" or not 1 <= units(_text(text.get("text"))) <= 150:
                problems.append(f"blocks[{i}]: header needs plain_text of 1-150")
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                problems.append(f"blocks[{i}]: section needs text or fields")
            if text is not None and not 1 <= units(_text(text.get("text"))) <= 3000:
                problems.append(f"blocks[{i}]: section text must be 1-3000")
            if fields is not None and (
                not 1 <= len(fields) <= 10
                or any(not 1 <= units(_text(f.get("text"))) <= 2000 for f in fields)
            ):
                problems.append(f"blocks[{i}]: 1-10 fields of 1-2000")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10 or any(
                not 1 <= units(_text(e.get("text"))) <= 3000 for e in elements
            ):
                problems.append(f"blocks[{i}]: context needs 1-10 elements")
        elif kind != "divider":
            problems.append(f"blocks[{i}]: unknown type {kind!r}")
    return problems


def mattermost_problems(payload: Any) -> list[str]:
    """What a Mattermost incoming webhook would refuse."""
    if not isinstance(payload, dict):
        return ["body is not a JSON object"]
    attachments = payload.get("attachments") or []
    if not _text(payload.get("text")) and not attachments:
        return ["text or attachments required"]
    problems: list[str] = []
    total = 0
    for i, attachment in enumerate(attachments):
        if not _text(attachment.get("fallback")):
            problems.append(f"attachments[{i}]: fallback is required")
        for key in ("fallback", "pretext", "text", "title", "footer"):
            total += units(_text(attachment.get(key)))
        for f in attachment.get("fields", []):
            if not isinstance(f.get("short"), bool) or not _text(f.get("title")):
                problems.append(f"attachments[{i}]: fields need title, value, short")
            total += units(_text(f.get("title"))) + units(_text(f.get("value")))
    if total > 7900:
        problems.append(f"Maximum attachments length is 7900 characters, received {total}")
    if units(_text(payload.get("text"))) > 16383:
        problems.append("text over 16383")
    return problems


_CARD_ELEMENTS = {"TextBlock", "FactSet", "Container", "ColumnSet", "Image", "ActionSet"}


def teams_problems(payload: Any, raw: bytes) -> list[str]:
    """What a Teams workflow ("Post card in a chat or channel") would refuse."""
    if len(raw) > 28 * 1024:
        return ["message over 28 KB"]
    if not isinstance(payload, dict) or payload.get("type") != "message":
        return ['type must be "message"']
    attachments = payload.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        return ["exactly one attachment expected"]
    attachment = attachments[0]
    if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return ["contentType must be application/vnd.microsoft.card.adaptive"]
    card = attachment.get("content") or {}
    problems: list[str] = []
    if card.get("type") != "AdaptiveCard" or not _text(card.get("version")):
        problems.append("content must be an AdaptiveCard with a version")
    body = card.get("body")
    if not isinstance(body, list) or not body:
        return [*problems, "card body must be a non-empty list"]
    for i, element in enumerate(body):
        kind = element.get("type")
        if kind not in _CARD_ELEMENTS:
            problems.append(f"body[{i}]: unknown element {kind!r}")
        if kind == "TextBlock" and not _text(element.get("text")):
            problems.append(f"body[{i}]: TextBlock needs text")
        if kind == "FactSet" and any(
            not _text(f.get("title")) or not isinstance(f.get("value"), str)
            for f in element.get("facts", [])
        ):
            problems.append(f"body[{i}]: facts need title and value")
    for i, action in enumerate(card.get("actions", [])):
        url = _text(action.get("url"))
        if action.get("type") != "Action.OpenUrl" or not url.startswith(("http://", "https://")):
            problems.append(f"actions[{i}]: Action.OpenUrl with an http(s) url expected")
    return problems


def discord_problems(payload: Any) -> list[str]:
    """What Discord's execute-webhook would refuse (embed limits)."""
    if not isinstance(payload, dict):
        return ["body is not a JSON object"]
    content, embeds = _text(payload.get("content")), payload.get("embeds") or []
    if not content and not embeds:
        return ["content or embeds required"]
    problems: list[str] = []
    if units(content) > 2000:
        problems.append("content over 2000")
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    total = 0
    for i, embed in enumerate(embeds):
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            size = units(_text(embed.get(key)))
            total += size
            if size > limit:
                problems.append(f"embeds[{i}].{key} over {limit}")
        footer = units(_text((embed.get("footer") or {}).get("text")))
        total += footer
        if footer > 2048:
            problems.append(f"embeds[{i}].footer over 2048")
        fields = embed.get("fields", [])
        if len(fields) > 25:
            problems.append(f"embeds[{i}]: more than 25 fields")
        for j, f in enumerate(fields):
            name, value = units(_text(f.get("name"))), units(_text(f.get("value")))
            total += name + value
            if not 1 <= name <= 256 or not 1 <= value <= 1024:
                problems.append(f"embeds[{i}].fields[{j}]: name 1-256, value 1-1024")
        if "url" in embed and not _text(embed["url"]).startswith(("http://", "https://")):
            problems.append(f"embeds[{i}].url must be http(s)")
    if total > 6000:
        problems.append(f"embeds total {total} over 6000")
    return problems


def generic_problems(raw: bytes, headers: dict[str, str], secret: str) -> list[str]:
    """What a receiver following ferrybot's docs refuses: a bad signature or timestamp."""
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("X-Ferrybot-Signature", ""), expected):
        return ["bad signature"]
    stamp = headers.get("X-Ferrybot-Timestamp", "")
    body = json.loads(raw)
    if not stamp.isdigit() or int(stamp) != body.get("timestamp"):
        return ["timestamp header missing or not the signed one"]
    if abs(time.time() - int(stamp)) > 300:
        return ["timestamp too old"]
    return []


@dataclass(frozen=True)
class Reply:
    """A scripted answer, given instead of the usual one."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    provider: str
    hook: str
    at: float
    status: int
    headers: dict[str, str]
    raw: bytes
    payload: Any

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


_SUCCESS = {"slack": 200, "mattermost": 200, "teams": 202, "discord": 204, "generic": 204}


def _error_body(provider: str, status: int, problems: list[str]) -> web.Response:
    if provider == "slack":
        code = {
            400: "invalid_payload",
            403: "action_prohibited",
            404: "no_service",
            410: "channel_is_archived",
        }
        fallback = "rate_limited" if status == 429 else "internal_error"
        return web.Response(status=status, text=code.get(status, fallback))
    if provider == "discord":
        codes = {400: (50035, "Invalid Form Body"), 404: (10015, "Unknown Webhook")}
        code, message = codes.get(status, (0, "You are being rate limited."))
        return web.json_response(
            {"code": code, "message": message, "errors": problems}, status=status
        )
    if provider == "teams":
        return web.json_response(
            {"error": {"code": "InvalidRequestContent", "message": "; ".join(problems)}},
            status=status,
        )
    return web.json_response({"message": "; ".join(problems) or "refused"}, status=status)


class Receivers:
    """One aiohttp server with a webhook per `/{provider}/{hook}`; can go down and come back."""

    def __init__(self, signing_secret: str) -> None:
        self.signing_secret = signing_secret
        self.received: list[Received] = []
        self._scripts: dict[tuple[str, str], list[Reply]] = {}
        self._revoked: dict[tuple[str, str], int] = {}
        self._arrived = asyncio.Condition()
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._checks: dict[str, Callable[[Any, bytes, dict[str, str]], list[str]]] = {
            "slack": lambda p, raw, h: slack_problems(p),
            "mattermost": lambda p, raw, h: mattermost_problems(p),
            "teams": lambda p, raw, h: teams_problems(p, raw),
            "discord": lambda p, raw, h: discord_problems(p),
            "generic": lambda p, raw, h: generic_problems(raw, h, self.signing_secret),
        }

    def url(self, provider: str, hook: str) -> str:
        """The webhook URL, with a path token the way real services make it secret."""
        return f"http://127.0.0.1:{self._port}/{provider}/{hook}/T0KEN-{hook}-s3cr3t"

    async def start(self) -> None:
        """Listen on 127.0.0.1 (the same port again after `stop`)."""
        if not self._port:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self._port = sock.getsockname()[1]
        app = web.Application()
        app.router.add_post("/{provider}/{hook}/{token}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()

    async def stop(self) -> None:
        """Stop listening: posts now fail with connection refused."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def script(self, provider: str, hook: str, *replies: Reply) -> None:
        """Answer the next posts to this hook with these replies, then as the service would."""
        self._scripts.setdefault((provider, hook), []).extend(replies)

    def revoke(self, provider: str, hook: str, status: int = 410) -> None:
        """From now on this hook answers like a deleted webhook."""
        self._revoked[(provider, hook)] = status

    def attempts(self, provider: str, hook: str) -> list[Received]:
        """Every request the hook got, in order."""
        return [r for r in self.received if (r.provider, r.hook) == (provider, hook)]

    def accepted(self, provider: str, hook: str) -> list[Received]:
        """The requests the hook took."""
        return [r for r in self.attempts(provider, hook) if r.accepted]

    async def wait_accepted(
        self, provider: str, hook: str, count: int, within: float = 20.0
    ) -> list[Received]:
        """Wait until the hook took `count` messages (or `within` s passed), then return them."""
        async with self._arrived:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._arrived.wait_for(lambda: len(self.accepted(provider, hook)) >= count),
                    within,
                )
        return self.accepted(provider, hook)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        provider, hook = request.match_info["provider"], request.match_info["hook"]
        raw = await request.read()
        headers = dict(request.headers)
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = None
        response = self._answer(provider, hook, payload, raw, headers)
        status = response.status
        async with self._arrived:
            self.received.append(
                Received(provider, hook, time.monotonic(), status, headers, raw, payload)
            )
            self._arrived.notify_all()
        return response

    def _answer(
        self, provider: str, hook: str, payload: Any, raw: bytes, headers: dict[str, str]
    ) -> web.Response:
        if (status := self._revoked.get((provider, hook))) is not None:
            return _error_body(provider, status, [])
        script = self._scripts.get((provider, hook))
        if script:
            reply = script.pop(0)
            response = _error_body(provider, reply.status, [])
            response.headers.update(reply.headers)
            return response
        if payload is None:
            return _error_body(provider, 400, ["body is not JSON"])
        problems = self._checks[provider](payload, raw, headers)
        if problems:
            return _error_body(provider, 401 if provider == "generic" else 400, problems)
        success = _SUCCESS[provider]
        if success == 204:
            return web.Response(status=204)
        return web.Response(status=success, text="ok" if success == 200 else "")
