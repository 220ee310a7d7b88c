"""The forges ferrybot talks to, as config and events name them."""

from __future__ import annotations

from enum import StrEnum


class ForgeKind(StrEnum):
    """A forge: where repositories, their changes and their checks live."""

    GITHUB = "github"
    GITLAB = "gitlab"
