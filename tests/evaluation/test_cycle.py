"""The retraining cycle: alert fired → training dispatched → a newer version merged to the stage."""

from __future__ import annotations

import pytest

from bot.evaluation.cycle import is_newer
from tests.commands.harness import OWNER, REPO, Bot, bot, pull_payload
from tests.evaluation.setup import PROD, alert_envelopes, config, kustomization, seed

__all__ = ["bot"]  # the fixture, imported for pytest


async def _merge(bot: Bot, tag: str) -> None:
    branch = "ferrybot/promote/churn/prod"
    pr = bot.fake.add_pull(OWNER, REPO, head=branch, files={PROD: kustomization(tag)}, title=tag)
    bot.fake.commit_files(OWNER, REPO, "main", {PROD: kustomization(tag)}, f"merge {tag}")
    payload = pull_payload(pr, "pull_request.closed.0", merged=True, state="closed")
    payload["pull_request"]["head"]["ref"] = branch
    payload["pull_request"]["base"]["ref"] = "main"
    for side in ("head", "base"):
        payload["pull_request"][side]["repo"]["full_name"] = f"{OWNER}/{REPO}"
    await bot.deliver("pull_request", payload)
    repo = bot.fake.state.repo(OWNER, REPO)
    repo.issues[pr.number].state = "closed"


async def test_newer_version_merged_closes_the_cycle_once(bot: Bot) -> None:
    """After an alert's retraining, merging 1.5.0 to prod audits the cycle with its duration."""
    bot.config = config()
    seed(bot.fake)
    for envelope in alert_envelopes("firing"):
        await bot.deliver_envelope(envelope)
    await _merge(bot, "1.3.0")  # the rollback: not the retrained version
    assert not [a for a in bot.publisher.audits if a.action == "retrain.cycle_completed"]
    await _merge(bot, "1.5.0")
    await _merge(bot, "1.6.0")  # the cycle is closed already
    [cycle] = [a for a in bot.publisher.audits if a.action == "retrain.cycle_completed"]
    assert (cycle.from_value, cycle.to_value) == ("1.4.0", "1.5.0")
    assert cycle.details["pipeline"] == "churn" and cycle.details["stage"] == "prod"
    assert cycle.details["fingerprint"] == "1756beea62ee1fb4"
    assert cycle.details["cycle_seconds"] >= 0


@pytest.mark.parametrize(
    ("version", "than", "newer"),
    [("8", "7", True), ("7", "7", False), ("1.10.0", "1.9.0", True), ("1.3.0", "1.4.0", False),
     ("sha-b", "sha-a", True), ("none", "1", False)],
    ids=["model-version", "same", "numeric-tags", "older-tag", "other-tags", "nothing"],
)  # fmt: skip
def test_is_newer(version: str, than: str, newer: bool) -> None:
    """Versions and numeric tags compare as numbers; other tags only need to differ."""
    assert is_newer(version, than) is newer
