"""The `fake_github` pytest fixture: a started FakeGitHub that fails tests on violations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakegithub.server import FakeGitHub


def fail_on_violations(fake: FakeGitHub) -> None:
    """Fail the running test, listing every request GitHub would have refused."""
    if not fake.violations:
        return
    listed = "\n  ".join(str(v) for v in fake.violations)
    pytest.fail(
        f"{len(fake.violations)} request(s) GitHub would refuse or misread:\n  {listed}\n"
        "Fix the request, or wrap a deliberate one in `with fake_github.expect_violations():`.",
        pytrace=False,
    )


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
    fail_on_violations(fake)
