"""structlog set up once: JSON or console, bound fields per delivery, secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from bot.settings import LogFormat

REDACTED = "[redacted]"
_SENSITIVE_KEYS = ("secret", "token", "password", "authorization", "private_key", "webhook_url")


class SecretRedactor:
    """A processor that blanks every known secret wherever it appears in an event."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Remember more secrets (e.g. an installation token once minted)."""
        for secret in secrets:
            # Very short strings would blank unrelated text; real secrets are long.
            if len(secret) >= 6 and secret not in self._secrets:
                self._secrets.append(secret)

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event):
            value = event[key]
            if any(mark in key.lower() for mark in _SENSITIVE_KEYS) and value is not None:
                event[key] = REDACTED
            else:
                event[key] = self._scrub(value)
        return event

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in value]
        return value


redactor = SecretRedactor()


def configure_logging(
    log_format: LogFormat = LogFormat.AUTO, level: str = "info", secrets: Iterable[str] = ()
) -> None:
    """Configure structlog for the whole process; call once at start-up."""
    redactor.add(secrets)
    use_console = log_format is LogFormat.CONSOLE or (
        log_format is LogFormat.AUTO and sys.stderr.isatty()
    )
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(event_key="message")
        if use_console
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redactor,
            # structlog's own "event" key holds the message; ours holds the webhook's event
            # name, so callers pass `_event=` and the message moves to "message".
            structlog.processors.EventRenamer("message", replace_by="_event"),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(**bound: Any) -> structlog.typing.FilteringBoundLogger:
    """A logger with fields bound; configuration is looked up at first use, not import."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(**bound)
    return logger
