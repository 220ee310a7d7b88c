"""The `fake_gitlab` pytest fixture: a started FakeGitLab that fails tests on violations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakegitlab.server import FakeGitLab
from tests.support.violations import fail_on_violations


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
    fail_on_violations(fake.violations, "GitLab", "fake_gitlab")
