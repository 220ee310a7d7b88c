"""`ferrybot setup mlflow|registry|github`: connect each webhook sender to this ferrybot."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import aiohttp

from bot.cli.github_manifest import app_manifest
from bot.cli.registry_snippets import registry_instructions
from bot.mlflow.webhooks import WebhookResult, ensure_webhook, webhook_events
from bot.pipeline.dispatch import discover, registry
from bot.settings import Settings, SettingsError

_URL_HELP = "ferrybot's public ingress URL, e.g. https://ferrybot.example.com"


def add_setup_parser(commands: Any) -> None:
    """Add `setup mlflow`, `setup registry` and `setup github` to the CLI's sub-commands."""
    setup = commands.add_parser("setup", help="connect a webhook sender to this ferrybot")
    senders = setup.add_subparsers(dest="sender", required=True)
    mlflow = senders.add_parser(
        "mlflow", help="create or update the MLflow webhook for the configured pipelines"
    )
    mlflow.add_argument("--url", required=True, help=_URL_HELP)
    mlflow.add_argument("--name", default="ferrybot", help="the webhook's name in MLflow")
    registry_parser = senders.add_parser(
        "registry", help="print the Distribution, Harbor and Docker Hub webhook settings"
    )
    registry_parser.add_argument("--url", required=True, help=_URL_HELP)
    github = senders.add_parser("github", help="print the GitHub App manifest")
    github.add_argument("--url", required=True, help=_URL_HELP)
    github.add_argument("--name", default="ferrybot", help="the App's name on GitHub")


def run_setup(settings: Settings, args: argparse.Namespace) -> int:
    """Run one `setup` job; SettingsError says which setting is missing."""
    if not args.url.startswith(("http://", "https://")):
        raise SettingsError("--url must start with http:// or https://")
    if args.sender == "mlflow":
        result = asyncio.run(_setup_mlflow(settings, args.url, args.name))
        print(
            f"{result.action} MLflow webhook {args.name} (id {result.webhook_id}): "
            f"{result.url} for {', '.join(result.events)}"
        )
        return 0
    if args.sender == "registry":
        print(registry_instructions(settings, args.url), end="")
        return 0
    discover()
    print(json.dumps(app_manifest(registry, args.url, args.name), indent=2))
    return 0


async def _setup_mlflow(settings: Settings, public_url: str, name: str) -> WebhookResult:
    if settings.mlflow_tracking_url is None:
        raise SettingsError("FERRYBOT_MLFLOW_TRACKING_URL is not set: which MLflow to set up?")
    if not settings.mlflow_webhook_secrets:
        raise SettingsError(
            "FERRYBOT_MLFLOW_WEBHOOK_SECRETS is not set: the webhook must be signed, and "
            "/webhooks/mlflow refuses unsigned deliveries"
        )
    events = webhook_events(settings.bot.pipelines)
    if not events:
        raise SettingsError(
            "no pipeline in the config has a `model`: nothing for an MLflow webhook to trigger"
        )
    async with aiohttp.ClientSession() as session:
        return await ensure_webhook(
            session,
            settings.mlflow_tracking_url,
            name=name,
            url=f"{public_url.rstrip('/')}/webhooks/mlflow",
            events=events,
            # The newest secret: during a rotation the ingress accepts the old one as well.
            secret=settings.mlflow_webhook_secrets[-1].get_secret_value(),
        )
