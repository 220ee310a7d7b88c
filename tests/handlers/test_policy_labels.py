"""`ferrybot/policy` labels: one right size label, and required label patterns."""

from __future__ import annotations

import pytest

from handlers.policy import evaluate_policy, size_label
from schemas.config import PolicyConfig
from tests.commands.harness import OWNER, REPO, Bot, bot, pull_payload

__all__ = ["bot"]


@pytest.mark.parametrize(
    ("lines", "label"),
    [
        (0, "size/XS"),
        (9, "size/XS"),
        (10, "size/S"),
        (99, "size/M"),
        (500, "size/XL"),
        (10_000, "size/XXL"),
    ],
    ids=["empty", "xs-top", "s", "m-top", "xl", "huge"],
)
def test_size_from_changed_lines(lines: int, label: str) -> None:
    """Each size starts at its threshold (Prow's defaults)."""
    assert size_label(lines, PolicyConfig()) == label


@pytest.mark.parametrize(
    ("labels", "ok"),
    [(["kind/bug"], True), (["Kind/Feature", "x"], True), (["bug"], False), ([], False)],
    ids=["match", "case-insensitive", "other-label", "none"],
)
def test_required_label_patterns(labels: list[str], ok: bool) -> None:
    """`kind/*` needs some label starting `kind/`; the summary names the pattern."""
    result = evaluate_policy("feat: x", labels, PolicyConfig(required_labels=["kind/*"]))
    assert (result.conclusion.value == "success") is ok
    if not ok:
        assert "Add a label matching `kind/*`" in result.summary
        assert result.title == "Policy not met: required label"


async def test_size_label_is_replaced_not_added(bot: Bot) -> None:
    """A PR labelled size/XS that grew to 120 lines ends with size/L only; again: no request."""
    pr = bot.fake.add_pull(OWNER, REPO, head="s", title="feat: s", labels=["size/XS", "bug"])
    payload = pull_payload(pr, "pull_request.synchronize.0", additions=100, deletions=20)
    await bot.deliver("pull_request", payload)
    assert sorted(bot.fake.labels(OWNER, REPO, pr.number)) == ["bug", "size/L"]
    writes = len(bot.writes())
    pr_now = pull_payload(pr, "pull_request.synchronize.0", additions=100, deletions=20)
    await bot.deliver("pull_request", pr_now)
    assert [w for w in bot.writes()[writes:] if "/labels" in w[1]] == []
