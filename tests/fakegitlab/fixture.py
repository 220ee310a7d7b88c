"""The `fake_gitlab` pytest fixture: a started FakeGitLab that fails tests on violations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakegitlab.server import FakeGitLab


def fail_on_violations(fake: FakeGitLab) -> None:
    """Fail the running test, listing every request GitLab would have refused or misread."""
    if not fake.violations:
        return
    listed = "\n  ".join(str(v) for v in fake.violations)
    pytest.fail(
        f"{len(fake.violations)} request(s) GitLab would refuse or misread:\n  {listed}\n"
        "Fix the request, or wrap a deliberate one in `with fake_gitlab.expect_violations():`.",
        pytrace=False,
    )


@pytest.fixture
async def fake_gitlab() -> AsyncIterator[FakeGitLab]:
    """A fresh, started fake GitLab; the test fails if any request broke GitLab's API rules.

    Wrap deliberate bad requests in `with fake_gitlab.expect_violations(): ...`.
    """
    fake = FakeGitLab()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
    fail_on_violations(fake)
