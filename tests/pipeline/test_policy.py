"""The ferrybot/policy verdict."""

from __future__ import annotations

import pytest

from bot.checks import Conclusion
from handlers.policy import evaluate_policy
from schemas.config import PolicyConfig


@pytest.mark.parametrize(
    ("title", "labels", "conclusion", "mentions"),
    [
        ("feat(api): add promotion endpoint", [], Conclusion.SUCCESS, []),
        ("fix: handle empty body", ["bug"], Conclusion.SUCCESS, []),
        ("feat!: drop v1", [], Conclusion.SUCCESS, []),
        ("Update README", [], Conclusion.FAILURE, ["Conventional Commits"]),
        ("feat: ok", ["do-not-merge/hold"], Conclusion.FAILURE, ["`do-not-merge/hold`"]),
        (
            "wip",
            ["do-not-merge/work-in-progress", "do-not-merge/hold"],
            Conclusion.FAILURE,
            ["`do-not-merge/work-in-progress`", "`do-not-merge/hold`", "Rename"],
        ),
    ],
    ids=["conventional", "other-label", "breaking", "bad-title", "hold", "everything-wrong"],
)
def test_policy_verdict(
    title: str, labels: list[str], conclusion: Conclusion, mentions: list[str]
) -> None:
    """The check fails on blocking labels or an unconventional title and says what to change."""
    result = evaluate_policy(title, labels, PolicyConfig())
    assert result.name == "ferrybot/policy"
    assert result.conclusion is conclusion
    for text in mentions:
        assert text in result.summary


def test_policy_is_configurable() -> None:
    """Blocking labels and the title pattern come from the config."""
    policy = PolicyConfig(blocking_labels=["blocked"], title_pattern=r"^[A-Z]+-\d+ ")
    assert evaluate_policy("ABC-1 thing", [], policy).conclusion is Conclusion.SUCCESS
    assert evaluate_policy("ABC-1 thing", ["blocked"], policy).conclusion is Conclusion.FAILURE
    assert evaluate_policy("thing", [], policy).conclusion is Conclusion.FAILURE
