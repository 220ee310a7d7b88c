"""The envelope on the wire: the sender's body byte for byte, and old envelopes still read."""

from __future__ import annotations

import json

import pytest

from schemas.envelope import WIRE_V2, Envelope, Source

BODY = b'{"action": "opened",  "number": 7,\n "title": "caf\\u00e9 \xe2\x98\x95"}'


def _fields() -> dict[str, object]:
    return {
        "id": "d-1",
        "source": Source.GITHUB,
        "event": "pull_request",
        "action": "opened",
        "subject": "github/acme/app#7",
        "installation_id": 5,
    }


def test_the_body_travels_exactly_as_received() -> None:
    """Spacing, escapes and key order of the signed body survive the trip through Kafka."""
    envelope = Envelope.with_raw_payload(BODY, json.loads(BODY), **_fields())
    wire = envelope.to_bytes()
    assert wire.startswith(WIRE_V2) and wire.endswith(BODY)
    decoded = Envelope.from_bytes(wire)
    assert decoded == envelope
    assert decoded.payload["title"] == "café ☕"
    assert decoded.to_bytes() == wire  # a DLQ copy or replay re-sends the same bytes


def test_an_envelope_built_in_process_gets_its_payload_serialised_once() -> None:
    """Envelopes made by the bot itself (replays, tests) round-trip through the same format."""
    envelope = Envelope(payload={"a": [1, 2]}, **_fields())  # type: ignore[arg-type]
    assert Envelope.from_bytes(envelope.to_bytes()).payload == {"a": [1, 2]}


def test_version_one_envelopes_still_decode() -> None:
    """Records written before wire format 2 (one JSON object) are read as before."""
    old = json.dumps({**_fields(), "version": 1, "payload": {"number": 7}}).encode()
    envelope = Envelope.from_bytes(old)
    assert envelope.payload == {"number": 7}
    assert envelope.installation_id == 5


@pytest.mark.parametrize(
    "wire",
    [WIRE_V2 + b'{"id": "x"}', WIRE_V2 + b"[1]\n{}", WIRE_V2 + b'{"id": "x"}\n{not json', b"{"],
    ids=["no-payload-line", "header-not-object", "payload-not-json", "v1-truncated"],
)
def test_a_damaged_record_is_a_value_error(wire: bytes) -> None:
    """Whatever is wrong with a record, decoding says ValueError (the worker dead-letters it)."""
    with pytest.raises(ValueError):
        Envelope.from_bytes(wire)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        pytest.param(
            WIRE_V2 + b'{"source":"github","event":"push"}\nnot json at all',
            ("github", "push"),
            id="wire-2-body-left-unread",
        ),
        pytest.param(b'{"version": 1, "source": "github"}', None, id="wire-1"),
        pytest.param(WIRE_V2 + b"no payload line", None, id="no-payload-line"),
        pytest.param(WIRE_V2 + b"[1, 2]\n{}", None, id="header-not-an-object"),
        pytest.param(WIRE_V2 + b'{"source": 3, "event": "push"}\n{}', None, id="source-not-text"),
    ],
)
def test_peek_reads_source_and_event_from_the_header_line_only(
    wire: bytes, expected: tuple[str, str] | None
) -> None:
    """peek answers from the header line alone, and None whenever from_bytes must decide."""
    assert Envelope.peek(wire) == expected


def test_peek_agrees_with_a_full_decode() -> None:
    """What peek reads is the source and event the decoded envelope has."""
    wire = Envelope.with_raw_payload(BODY, json.loads(BODY), **_fields()).to_bytes()
    decoded = Envelope.from_bytes(wire)
    assert Envelope.peek(wire) == (decoded.source.value, decoded.event)
