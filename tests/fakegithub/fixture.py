"""The `fake_github` pytest fixture: a started FakeGitHub that fails tests on violations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakegithub.server import FakeGitHub
from tests.support.violations import fail_on_violations


@pytest.fixture
async def fake_github() -> AsyncIterator[FakeGitHub]:
    """A fresh, started fake GitHub; the test fails if any request violated GitHub's description.

    Wrap deliberate bad requests in `with fake_github.expect_violations(): ...`.
    """
    fake = FakeGitHub()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
    fail_on_violations(fake.violations, "GitHub", "fake_github")
