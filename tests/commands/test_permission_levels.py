"""Reading a role from the collaborator-permission answer, and describing a grant."""

from __future__ import annotations

from typing import Any

import pytest

from bot.permissions import _level_of, describe_grant
from schemas.commands_config import CommandGrant, PermissionLevel


@pytest.mark.parametrize(
    ("answer", "level"),
    [
        ({"permission": "write", "role_name": "maintain"}, PermissionLevel.MAINTAIN),
        ({"permission": "read", "role_name": "triage"}, PermissionLevel.TRIAGE),
        ({"permission": "write", "role_name": "release-manager"}, PermissionLevel.WRITE),
        ({"permission": "admin"}, PermissionLevel.ADMIN),
        ({}, PermissionLevel.NONE),
        ({"permission": "owner"}, PermissionLevel.NONE),
    ],
    ids=["maintain", "triage", "custom-role", "legacy-only", "nothing", "unknown"],
)
def test_role_name_first_then_legacy_permission(answer: dict[str, Any], level: str) -> None:
    """role_name keeps triage and maintain; a custom role falls back to the legacy field."""
    assert _level_of(answer) is level


def test_grant_description_names_every_way_in() -> None:
    """The refusal says which role, users and teams would be allowed."""
    text = describe_grant(
        CommandGrant(users=["lead"], teams=["acme/platform"]), PermissionLevel.MAINTAIN
    )
    assert text == (
        "the maintain role (or higher) on this repository or being one of `lead` "
        "or membership in `acme/platform`"
    )
