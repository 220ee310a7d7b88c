"""A fake GitHub REST server for the test suite that refuses what GitHub's description refuses."""

from __future__ import annotations

from tests.fakegithub.auth import AppKey, generate_app_key
from tests.fakegithub.routing import Violation
from tests.fakegithub.server import FakeGitHub

__all__ = ["AppKey", "FakeGitHub", "Violation", "generate_app_key"]
