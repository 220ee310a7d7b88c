"""JSON decoding on the hot paths: msgspec, with the standard library's answer where it refuses."""

from __future__ import annotations

import json
from typing import Any

import msgspec

_DECODER = msgspec.json.Decoder()


def loads(data: bytes) -> Any:
    """`json.loads(data)` in about half the time for the bodies webhooks send.

    msgspec keeps integers of any size exact, as the standard library does, but refuses a few
    things it accepts (NaN, lone surrogates, numbers beyond a double, UTF-16): those bodies,
    and invalid ones, get `json.loads`'s own result or error, so what is accepted and what is
    refused stays exactly as it was.
    """
    try:
        return _DECODER.decode(data)
    except msgspec.DecodeError:
        return json.loads(data)
