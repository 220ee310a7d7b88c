"""The `ferrybot` command line: run, the parts alone, send, replay, config, setup, ledger."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from pydantic import SecretStr

from bot.cli.config import add_config_parser, run_config
from bot.cli.ledger import add_ledger_parsers, run_metrics, run_rebuild
from bot.cli.report import report
from bot.cli.send import SendFailed, event_from_filename, send_file
from bot.cli.setup import add_setup_parser, run_setup
from bot.env_names import unknown_variables
from bot.local_secret import ensure_local_secret, read_local_secret, secret_path
from bot.logs import configure_logging, get_logger
from bot.mlflow.webhooks import WebhookSetupError
from bot.pipeline import kafka_logs
from bot.pipeline.broker import running_address
from bot.pipeline.replay import replay
from bot.pipeline.runtime import Components, serve
from bot.settings import Settings, SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(prog="ferrybot", description=__doc__)
    parser.add_argument("--config", type=Path, help="YAML settings file (env vars win over it)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="every part in one process (embedded broker if unset)")
    commands.add_parser("ingress", help="only the webhook ingress")
    commands.add_parser("worker", help="only the event worker")
    commands.add_parser("notifier", help="only the chat notifier")
    commands.add_parser(
        "reconciler",
        help="only the recovery of missed deliveries: MLflow poller, GitHub App (run one replica)",
    )
    send = commands.add_parser("send", help="sign a payload file and post it to the ingress")
    send.add_argument("file", type=Path, help="JSON payload, e.g. pull_request.opened.json")
    send.add_argument("--event", help="X-GitHub-Event (default: from the file name)")
    send.add_argument("--url", help="ingress URL (default: this config's /webhooks/github)")
    send.add_argument("--delivery", help="X-GitHub-Delivery (default: a new uuid)")
    replay = commands.add_parser("replay", help="put dead-lettered events back for their handler")
    replay.add_argument("--delivery", help="only this delivery id")
    replay.add_argument("--handler", help="only events this handler failed on")
    replay.add_argument("--list", action="store_true", help="list what is there, replay nothing")
    add_config_parser(commands)
    add_setup_parser(commands)
    add_ledger_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and `python -m bot`."""
    args = build_parser().parse_args(argv)
    if args.command == "config":
        return run_config(args)
    try:
        settings = load_settings(args.config)
        if args.command == "send":
            return _send(settings, args)
        if args.command == "replay":
            return _replay(settings, args)
        if args.command == "setup":
            return run_setup(settings, args)
        if args.command == "metrics":
            return run_metrics(settings, args)
        if args.command == "ledger" and args.action == "rebuild":
            configure_logging(settings.log_format, settings.log_level, settings.secret_values())
            return run_rebuild(settings)
        if args.command == "run" and not settings.github_webhook_secrets:
            settings = _with_local_secret(settings)
        if args.command == "ingress" and not settings.github_webhook_secrets:
            raise SettingsError(
                "FERRYBOT_GITHUB_WEBHOOK_SECRETS is not set: the ingress never accepts unsigned "
                "events. Set it to the secret configured on the GitHub webhook or App."
            )
        configure_logging(settings.log_format, settings.log_level, settings.secret_values())
        _warn_unknown_variables()
        kafka_logs.install()
        components = Components(
            ingress=args.command in ("run", "ingress"),
            worker=args.command in ("run", "worker"),
            notifier=args.command in ("run", "notifier"),
            reconciler=args.command in ("run", "reconciler"),
            ledger=args.command in ("run", "ledger"),
        )
        asyncio.run(serve(settings, components))
    except SettingsError as exc:
        report(str(exc))
        return 2
    except (SendFailed, WebhookSetupError) as exc:
        report(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _warn_unknown_variables() -> None:
    # A misspelt variable would otherwise be ignored without a word, and its default used.
    log = get_logger(component="settings")
    for unknown in unknown_variables(Settings, os.environ):
        log.warning("settings.unknown_variable", variable=unknown.name, closest=unknown.closest)


def _with_local_secret(settings: Settings) -> Settings:
    secret = ensure_local_secret(settings.state_dir)
    print(
        f"ferrybot: no FERRYBOT_GITHUB_WEBHOOK_SECRETS set; using the local secret in "
        f"{secret_path(settings.state_dir)} (`ferrybot send` reads it from there)",
        file=sys.stderr,
    )
    return settings.model_copy(update={"github_webhook_secrets": [SecretStr(secret)]})


def _send(settings: Settings, args: argparse.Namespace) -> int:
    secrets = [s.get_secret_value() for s in settings.github_webhook_secrets]
    secret = secrets[0] if secrets else read_local_secret(settings.state_dir)
    if not secret:
        raise SettingsError(
            "no webhook secret to sign with: set FERRYBOT_GITHUB_WEBHOOK_SECRETS, or start "
            f"`ferrybot run` once so it creates {secret_path(settings.state_dir)}"
        )
    if not args.file.is_file():
        raise SettingsError(f"{args.file}: no such file")
    event = args.event or event_from_filename(args.file)
    if not event:
        raise SettingsError("cannot tell the event from the file name: pass --event")
    url = args.url or f"http://{settings.http_host}:{settings.http_port}/webhooks/github"
    result = send_file(args.file, event, url, secret, args.delivery)
    print(f"HTTP {result.status} {result.body}")
    return 0 if 200 <= result.status < 300 else 1


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging(settings.log_format, settings.log_level, settings.secret_values())
    kafka_logs.install()
    bootstrap = settings.kafka_bootstrap_servers or running_address(settings.state_dir)
    if bootstrap is None:
        raise SettingsError(
            "replay reads the DLQ of a running cluster: set FERRYBOT_KAFKA_BOOTSTRAP_SERVERS, "
            f"or start `ferrybot run` (no local run is recorded as running in "
            f"{settings.state_dir})"
        )
    letters = asyncio.run(
        replay(
            settings,
            bootstrap,
            delivery=args.delivery,
            handler=args.handler,
            dry_list=args.list,
        )
    )
    verb = "dead letter" if args.list else "replayed"
    for letter in letters:
        print(
            f"{verb} {letter.offset} delivery={letter.delivery} handler={letter.handler} "
            f"attempts={letter.attempts} reason={letter.reason}"
        )
    print(f"{len(letters)} {'found' if args.list else 'replayed'}")
    return 0
