"""The hot-path JSON decoder answers exactly what `json.loads` answers, result or error."""

from __future__ import annotations

import json

import pytest

from schemas.json_codec import loads

CASES = [
    pytest.param(b'{"id": 123456789012345678901234567890}', id="integer-beyond-64-bits"),
    pytest.param(b'{"n": -9223372036854775809}', id="integer-below-int64"),
    pytest.param(b'{"x": 0.1, "y": -0.0, "z": 1.5e-320}', id="floats"),
    pytest.param(b'{"a": 1, "a": 2}', id="repeated-key-last-wins"),
    pytest.param('{"t": "caf\\u00e9 ☕"}'.encode(), id="escapes-and-utf8"),
    pytest.param(b'{"a": NaN}', id="nan-literal"),
    pytest.param(b'{"a": 1e400}', id="number-beyond-a-double"),
    pytest.param(b'{"a": "\\ud800"}', id="lone-surrogate"),
    pytest.param('{"a": 1}'.encode("utf-16"), id="utf-16-body"),
    pytest.param(b'{"a": [1, 2', id="truncated"),
    pytest.param(b"\xff\xfe{", id="not-utf8"),
    pytest.param(b'  "text" ', id="not-an-object"),
]


def _outcome(data: bytes) -> tuple[str, str]:
    try:
        return ("value", repr(json.loads(data)))
    except ValueError as exc:
        return ("error", type(exc).__name__)


@pytest.mark.parametrize("data", CASES)
def test_loads_agrees_with_the_standard_library(data: bytes) -> None:
    """Every body gets json.loads's value (types and all) or the same kind of error."""
    try:
        got = ("value", repr(loads(data)))
    except ValueError as exc:
        got = ("error", type(exc).__name__)
    assert got == _outcome(data)
