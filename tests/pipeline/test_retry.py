"""What the retry policy treats as transient, and how long it waits."""

from __future__ import annotations

import http

import aiohttp
import gidgethub
import pytest

from bot.pipeline.retry import PermanentError, TransientError, is_transient, retry_after


def _bad(status: int, headers: dict[str, str] | None = None) -> gidgethub.BadRequest:
    return gidgethub.BadRequest(http.HTTPStatus(status), headers=headers or {})


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (gidgethub.GitHubBroken(http.HTTPStatus(502)), True),
        (_bad(429, {"retry-after": "3"}), True),
        (_bad(403, {"retry-after": "60"}), True),
        (_bad(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}), True),
        (_bad(403), False),
        (_bad(404), False),
        (gidgethub.ValidationError({}, http.HTTPStatus(422)), False),
        (aiohttp.ClientConnectionError(), True),
        (TimeoutError(), True),
        (TransientError("later"), True),
        (PermanentError("never"), False),
        (KeyError("handler bug"), False),
    ],
    ids=[
        "5xx",
        "429",
        "secondary-rate-limit",
        "primary-rate-limit",
        "403-forbidden",
        "404",
        "422",
        "network",
        "timeout",
        "transient",
        "permanent",
        "bug",
    ],
)
def test_transient_classification(exc: BaseException, transient: bool) -> None:
    """Only failures that can succeed later are retried."""
    assert is_transient(exc) is transient


def test_retry_after_header_is_honoured() -> None:
    """retry-after seconds are taken as they are."""
    assert retry_after(_bad(429, {"retry-after": "7"})) == 7.0


def test_ratelimit_reset_is_turned_into_a_delay() -> None:
    """An exhausted quota waits until x-ratelimit-reset."""
    exc = _bad(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1010"})
    assert retry_after(exc, now=1000.0) == 10.0


def test_no_hint_means_backoff() -> None:
    """Without a header there is no server-given delay."""
    assert retry_after(gidgethub.GitHubBroken(http.HTTPStatus(503))) is None
