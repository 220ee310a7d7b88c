"""The MLflow webhook ferrybot needs: its events from the pipelines, created or updated in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from schemas.pipelines import Pipeline

_TIMEOUT = aiohttp.ClientTimeout(total=30)

# MLflow's REST API names events in upper case: (entity, action).
ALIAS_SET = ("MODEL_VERSION_ALIAS", "CREATED")
TAG_SET = ("MODEL_VERSION_TAG", "SET")
VERSION_CREATED = ("MODEL_VERSION", "CREATED")


class WebhookSetupError(Exception):
    """MLflow could not be reached or refused the webhook; the message says why."""


@dataclass(frozen=True)
class WebhookResult:
    """What `ensure_webhook` did."""

    action: str  # "created" or "updated"
    webhook_id: str
    url: str
    events: list[str]


def webhook_events(pipelines: list[Pipeline]) -> list[tuple[str, str]]:
    """The events the configured model pipelines' triggers need, in a stable order."""
    wanted: set[tuple[str, str]] = set()
    for pipeline in pipelines:
        model = pipeline.model
        if model is None:
            continue
        if model.alias is not None:
            wanted.add(ALIAS_SET)
        if model.tag:
            wanted.add(TAG_SET)
        if model.on_created:
            wanted.add(VERSION_CREATED)
    return sorted(wanted)


def event_name(event: tuple[str, str]) -> str:
    """`model_version_alias.created`, as MLflow's docs and X-MLflow deliveries name it."""
    return f"{event[0].lower()}.{event[1].lower()}"


async def ensure_webhook(
    session: aiohttp.ClientSession,
    tracking_url: str,
    *,
    name: str,
    url: str,
    events: list[tuple[str, str]],
    secret: str,
) -> WebhookResult:
    """Create the webhook, or update the one with this name or URL; never a second one."""
    body = {
        "name": name,
        "url": url,
        "events": [{"entity": entity, "action": action} for entity, action in events],
        "secret": secret,
        "status": "ACTIVE",
    }
    api = f"{tracking_url}/api/2.0/mlflow/webhooks"
    hooks = await _list(session, api)
    # By name first: a changed public URL updates ferrybot's webhook instead of adding one.
    existing = next((hook for hook in hooks if hook.get("name") == name), None) or next(
        (hook for hook in hooks if hook.get("url") == url), None
    )
    if existing is None:
        answer = await _call(session, "POST", api, body)
        action = "created"
    else:
        answer = await _call(session, "PATCH", f"{api}/{existing['webhook_id']}", body)
        action = "updated"
    webhook = answer["webhook"]
    return WebhookResult(
        action, str(webhook["webhook_id"]), str(webhook["url"]), [event_name(e) for e in events]
    )


async def _list(session: aiohttp.ClientSession, api: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params = {"max_results": "100", **({"page_token": token} if token else {})}
        page = await _call(session, "GET", api, params=params)
        found += page.get("webhooks", [])
        token = page.get("next_page_token")
        if not token:
            return found


async def _call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    try:
        async with session.request(
            method, url, json=body, params=params, timeout=_TIMEOUT
        ) as response:
            try:
                answer: Any = await response.json(content_type=None)
            except ValueError:
                answer = None
            if response.status == 200 and isinstance(answer, dict):
                return answer
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise WebhookSetupError(f"cannot reach MLflow at {url}: {type(exc).__name__}") from None
    # MLflow's own message says what to change (e.g. the server's allowed schemes); the
    # request's secret is never part of it.
    message = answer.get("message") if isinstance(answer, dict) else None
    raise WebhookSetupError(
        f"MLflow refused {method} {url} with {response.status}: {message or 'no message'}"
    )
