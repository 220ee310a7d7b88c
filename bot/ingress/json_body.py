"""Webhook bodies as JSON objects, their nesting bounded before the parser descends into them."""

from __future__ import annotations

import re
from typing import Any, Final

from bot.ingress.errors import Refused
from schemas import json_codec

# The deepest real payload we hold (GitHub's examples) nests 7 levels. json's C parser recurses
# once per level (RecursionError near 1,000), and pydantic, which reads envelopes back off
# Kafka, gives up near 200: a bound far below both keeps every accepted body readable later.
MAX_JSON_DEPTH: Final = 64
# Only quotes and brackets matter for nesting. Escapes go first (a backslash and the byte
# after it, left to right, as a JSON parser reads them), then every byte but `"[]{}`; what
# is left is short (a 25 KB GitHub body keeps 7 %) and splits on quotes into outside/inside.
# Each step is one C pass: the regex over the whole body this replaces cost twice json.loads.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_DROPPED = bytes(b for b in range(256) if b not in b'"[]{}')
_OPENING = frozenset(b"[{")


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """True when arrays and objects in `body` nest deeper than `limit` (linear C passes).

    Brackets inside strings nest nothing; an unterminated string runs to the end (the body
    is then invalid JSON anyway).
    """
    if b"\\" in body:
        body = _ESCAPE.sub(b"", body)
    # Splitting on quotes alternates outside/inside strings, starting outside.
    brackets = b"".join(body.translate(None, _DROPPED).split(b'"')[0::2])
    depth = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or Refused(400) saying why it is not one we accept."""
    if nesting_exceeds(body, MAX_JSON_DEPTH):
        raise Refused(400, f"body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json_codec.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise Refused(400, "body must be a JSON object")
    return payload
