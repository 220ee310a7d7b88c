"""The one error type a source parser raises to refuse a request."""

from __future__ import annotations


class Refused(Exception):
    """A request refused with an HTTP status and a message safe to show the sender."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
