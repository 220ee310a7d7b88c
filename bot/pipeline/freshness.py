"""Whether an event is the first word on a new head commit, so no check run can exist yet."""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.envelope import Envelope, Source, payload_dict

# GitHub sends `opened`/`synchronize` within seconds of the change; a pull request last
# updated longer ago than this is a redelivery (or a replay), whose runs may well exist.
LIVE_WINDOW = timedelta(minutes=5)
# Our clock and GitHub's may disagree a little.
CLOCK_SKEW = timedelta(minutes=1)
_NEW_HEAD_ACTIONS = ("opened", "synchronize")


def live_head(envelope: Envelope) -> str | None:
    """The head SHA a live `pull_request.opened`/`synchronize` brings, else None."""
    if envelope.source is not Source.GITHUB or envelope.event != "pull_request":
        return None
    if envelope.action not in _NEW_HEAD_ACTIONS:
        return None
    pull = payload_dict(envelope).get("pull_request")
    if not isinstance(pull, dict):
        return None
    head = pull.get("head")
    sha = head.get("sha") if isinstance(head, dict) else None
    updated = pull.get("updated_at")
    if not isinstance(sha, str) or not isinstance(updated, str):
        return None
    try:
        updated_at = datetime.fromisoformat(updated.replace("Z", "+00:00"))
    except ValueError:
        return None
    if updated_at.tzinfo is None:
        return None
    age = envelope.received_at - updated_at
    return sha if -CLOCK_SKEW <= age <= LIVE_WINDOW else None
