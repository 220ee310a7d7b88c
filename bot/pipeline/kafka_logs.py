"""aiokafka's own log records, folded into one line per broker state change."""

# A lost broker makes aiokafka log an error for every connection attempt of every client
# (thousands a minute). Here the first sign of trouble becomes `kafka.broker_lost`, everything
# aiokafka says while the broker is lost is counted instead of printed, a reminder goes out
# every `REMINDER_SECONDS`, and `kafka.broker_back` ends the episode.

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka.errors import KafkaConnectionError, NodeNotReadyError, RequestTimedOutError

from bot.logs import get_logger

log = get_logger(component="kafka")

REMINDER_SECONDS = 30.0
# How often a process whose broker is lost asks whether it is back.
PROBE_SECONDS = 1.0
_TROUBLE = (KafkaConnectionError, NodeNotReadyError, RequestTimedOutError, OSError)
_TROUBLE_TEXT = ("Unable connect", "Unable to update metadata", "Connection")


class BrokerLogGate(logging.Handler):
    """A handler on the `aiokafka` logger that turns its records into state changes."""

    def __init__(self, reminder_seconds: float = REMINDER_SECONDS) -> None:
        super().__init__(level=logging.WARNING)
        self._reminder_seconds = reminder_seconds
        self._lost_at: float | None = None
        self._last_line = 0.0
        self._suppressed = 0

    @property
    def lost(self) -> bool:
        """True from the first connection failure until `recovered` is called."""
        return self._lost_at is not None

    def emit(self, record: logging.LogRecord) -> None:
        now = time.monotonic()
        if self._lost_at is not None:
            self._suppressed += 1
            if now - self._last_line >= self._reminder_seconds:
                log.warning(
                    "kafka.broker_still_lost",
                    lost_for_seconds=round(now - self._lost_at),
                    suppressed_lines=self._suppressed,
                )
                self._last_line, self._suppressed = now, 0
            return
        if _is_trouble(record):
            self._lost_at = self._last_line = now
            log.error("kafka.broker_lost", detail=_message(record), logger=record.name)
            return
        say = log.error if record.levelno >= logging.ERROR else log.warning
        say("kafka.client_said", detail=_message(record), logger=record.name)

    def recovered(self) -> None:
        """The broker answers again: say so once and let aiokafka's lines through again."""
        if self._lost_at is None:
            return
        log.info(
            "kafka.broker_back",
            lost_for_seconds=round(time.monotonic() - self._lost_at),
            suppressed_lines=self._suppressed,
        )
        self._lost_at, self._suppressed = None, 0


gate = BrokerLogGate()


def install() -> BrokerLogGate:
    """Route the `aiokafka` loggers through the process's gate (once; later calls are no-ops)."""
    logger = logging.getLogger("aiokafka")
    if gate not in logger.handlers:
        logger.addHandler(gate)
        logger.setLevel(logging.WARNING)
        # Without this the records also reach Python's last-resort stderr handler.
        logger.propagate = False
    return gate


async def watch_recovery(reachable: Callable[[], Awaitable[bool]]) -> None:
    """Forever: while the gate says the broker is lost, ask `reachable` and report its return."""
    while True:
        await asyncio.sleep(PROBE_SECONDS)
        if gate.lost and await reachable():
            gate.recovered()


def _is_trouble(record: logging.LogRecord) -> bool:
    args = record.args if isinstance(record.args, tuple) else ()
    if any(isinstance(arg, _TROUBLE) for arg in args):
        return True
    if record.exc_info and isinstance(record.exc_info[1], _TROUBLE):
        return True
    return str(record.msg).startswith(_TROUBLE_TEXT)


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()[:500]
    except (TypeError, ValueError):
        return str(record.msg)[:500]
