"""The one error type a source parser raises to refuse a request."""

from __future__ import annotations

from bot.metrics.definitions import RefusalReason

# Refusals by status, so metrics carry a reason from a closed set and never the message.
_REASONS = {
    400: RefusalReason.MALFORMED,
    401: RefusalReason.UNAUTHENTICATED,
    404: RefusalReason.UNKNOWN_SOURCE,
    413: RefusalReason.TOO_LARGE,
}


class Refused(Exception):
    """A request refused with an HTTP status and a message safe to show the sender."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def reason(self) -> RefusalReason:
        """The kind of refusal, for metrics."""
        return _REASONS.get(self.status, RefusalReason.OTHER)
