"""on_alert reactions against the fake GitHub: once per episode, cool-down, rollback rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.commands.harness import OWNER, REPO, Bot, bot
from tests.evaluation.setup import PROD, alert_envelopes, config, kustomization, seed

__all__ = ["bot"]  # the fixture, imported for pytest


def _actions(bot: Bot) -> list[str]:
    return [a.action for a in bot.publisher.audits]


async def _fire(bot: Bot, name: str = "firing", **kwargs: object) -> None:
    for envelope in alert_envelopes(name, **kwargs):  # type: ignore[arg-type]
        await bot.deliver_envelope(envelope)


async def test_firing_alert_retrains_rolls_back_and_notifies(bot: Bot) -> None:
    """One firing alert: one workflow dispatch, a labelled rollback PR to 1.3.0, a notification."""
    bot.config = config()
    seed(bot.fake)
    await _fire(bot)
    [dispatch] = bot.fake.dispatches(OWNER, REPO)
    assert dispatch.workflow == "retrain.yml" and dispatch.ref == "main"
    assert dispatch.inputs == {
        "model": "churn",
        "version": "1.4.0",
        "alert": "ModelDriftHigh",
        "link": "https://runbooks.example.com/model-drift",
    }
    [rollback] = [p for p in bot.fake.pulls(OWNER, REPO) if p.title.endswith("to prod")]
    assert rollback.title == "promote churn 1.4.0 → 1.3.0 to prod"
    assert "alert 'ModelDriftHigh' fired at" in (rollback.body or "")
    assert "Drift of churn in prod is 0.6" in (rollback.body or "")
    assert "rollback" in bot.fake.labels(OWNER, REPO, rollback.number)
    assert bot.fake.file_at(OWNER, REPO, "ferrybot/promote/churn/prod", PROD) == kustomization(
        "1.3.0"
    )
    [notice] = [n for n in bot.publisher.notifications if n.kind == "drift_alert"]
    assert notice.fields["version"] == "1.4.0"
    assert notice.links["runbook"] == "https://runbooks.example.com/model-drift"
    actions = _actions(bot)
    assert {"alert.retrain_dispatched", "alert.rollback_opened", "alert.notified"} <= set(actions)
    opened = next(a for a in bot.publisher.audits if a.action == "promotion.opened")
    assert opened.details["rollback"] is True  # the ledger counts it as a change failure
    dispatched = next(a for a in bot.publisher.audits if a.action == "alert.retrain_dispatched")
    assert dispatched.details["pipeline"] == "churn" and dispatched.details["stage"] == "prod"
    assert dispatched.details["fingerprint"] == "1756beea62ee1fb4"
    assert dispatched.details["fired_at"]


async def test_repeat_and_resolved_do_nothing_more(bot: Bot) -> None:
    """The repeat of an episode and its resolution write nothing to GitHub and dispatch nothing."""
    bot.config = config()
    seed(bot.fake)
    started = datetime.now(UTC) - timedelta(seconds=30)
    await _fire(bot, started=started)
    writes = bot.writes()
    await _fire(bot, "repeat", started=started)
    await _fire(bot, "resolved", started=started)
    assert len(bot.fake.dispatches(OWNER, REPO)) == 1
    assert bot.writes() == writes
    skipped = next(a for a in bot.publisher.audits if a.action == "alert.retrain_skipped")
    assert "already dispatched for this episode" in skipped.reason
    assert _actions(bot)[-1] == "alert.resolved"


async def test_new_episode_within_cool_down_is_not_retrained(bot: Bot) -> None:
    """Another episode of the alert inside the cool-down dispatches nothing and says until when."""
    bot.config = config(cooldown_seconds=3600)
    seed(bot.fake)
    await _fire(bot, started=datetime.now(UTC) - timedelta(minutes=5))
    await _fire(bot, started=datetime.now(UTC) - timedelta(minutes=1))
    assert len(bot.fake.dispatches(OWNER, REPO)) == 1
    skipped = [a for a in bot.publisher.audits if a.action == "alert.retrain_skipped"]
    assert len(skipped) == 1 and skipped[0].reason.startswith("cool-down:")


async def test_new_episode_after_cool_down_retrains_again(bot: Bot) -> None:
    """With no cool-down, each new episode (new startsAt) dispatches once more."""
    bot.config = config(cooldown_seconds=0)
    seed(bot.fake)
    await _fire(bot, started=datetime.now(UTC) - timedelta(minutes=5))
    await _fire(bot, started=datetime.now(UTC) - timedelta(minutes=1))
    assert len(bot.fake.dispatches(OWNER, REPO)) == 2


async def test_old_promotion_is_not_rolled_back(bot: Bot) -> None:
    """An alert firing longer than the window after the last promotion opens no rollback PR."""
    bot.config = config()
    seed(bot.fake)
    await _fire(bot, started=datetime.now(UTC) + timedelta(hours=2))
    assert not [p for p in bot.fake.pulls(OWNER, REPO) if p.title.endswith("to prod")]
    skipped = next(a for a in bot.publisher.audits if a.action == "alert.rollback_skipped")
    assert "older than the 3600 s rollback window" in skipped.reason


async def test_newer_promotion_open_is_left_alone(bot: Bot) -> None:
    """An open promotion PR to a newer version keeps its branch; the rollback is skipped."""
    bot.config = config()
    seed(bot.fake)
    newer = bot.fake.add_pull(
        OWNER,
        REPO,
        head="ferrybot/promote/churn/prod",
        files={PROD: kustomization("1.5.0")},
        title="promote churn 1.4.0 → 1.5.0 to prod",
    )
    await _fire(bot)
    assert bot.fake.file_at(OWNER, REPO, "ferrybot/promote/churn/prod", PROD) == kustomization(
        "1.5.0"
    )
    skipped = next(a for a in bot.publisher.audits if a.action == "alert.rollback_skipped")
    assert f"a newer promotion is open: #{newer.number} proposes 1.5.0" in skipped.reason


async def test_unknown_pipeline_is_ignored_with_an_audit_record(bot: Bot) -> None:
    """An alert naming no configured pipeline changes nothing and is audited as ignored."""
    bot.config = config()
    seed(bot.fake)
    writes = bot.writes()
    await _fire(bot, ferrybot_pipeline="fraud")
    assert bot.writes() == writes
    [record] = bot.publisher.audits
    assert record.action == "alert.ignored"
    assert "names no pipeline (known: churn)" in record.reason


async def test_unmatched_alert_is_audited(bot: Bot) -> None:
    """An alert no on_alert rule matches (here: staging) does nothing but say so."""
    bot.config = config()
    seed(bot.fake)
    await _fire(bot, ferrybot_stage="staging")
    assert not bot.fake.dispatches(OWNER, REPO)
    assert _actions(bot) == ["alert.unmatched"]


async def test_repository_dispatch_carries_the_episode(bot: Bot) -> None:
    """With `event_type`, a repository_dispatch carries model, version, alert, link and episode."""
    bot.config = config(workflow=None, event_type="retrain")
    seed(bot.fake)
    await _fire(bot)
    [dispatch] = bot.fake.dispatches(OWNER, REPO)
    assert dispatch.kind == "repository_dispatch" and dispatch.event_type == "retrain"
    assert dispatch.client_payload["model"] == "churn"
    assert dispatch.client_payload["episode"].startswith("1756beea62ee1fb4-")
