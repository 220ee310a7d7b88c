"""Failing a test for the requests a fake service would have refused."""

from __future__ import annotations

from collections.abc import Sequence

import pytest


def fail_on_violations(violations: Sequence[object], service: str, fixture: str) -> None:
    """Fail the running test, listing every request `service` would have refused or misread."""
    if not violations:
        return
    listed = "\n  ".join(str(v) for v in violations)
    pytest.fail(
        f"{len(violations)} request(s) {service} would refuse or misread:\n  {listed}\n"
        f"Fix the request, or wrap a deliberate one in `with {fixture}.expect_violations():`.",
        pytrace=False,
    )
