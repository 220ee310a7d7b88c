"""The forge adapters of one worker process, handed out per event."""

from __future__ import annotations

from bot.forges.gitlab.adapter import GitLabForge, GitLabMemory
from bot.forges.gitlab.client import gitlab_client
from bot.forges.port import Forge
from bot.github.clients import GitHubClients
from bot.settings import Settings
from schemas.envelope import Envelope, Source


class Forges:
    """One long-lived adapter per forge, on the shared HTTP session.

    GitHub events still reach GitHub through `Context.gh`; the port serves GitLab today.
    """

    def __init__(self, gitlab: GitLabForge) -> None:
        self._gitlab = gitlab

    @classmethod
    def from_settings(cls, settings: Settings, clients: GitHubClients) -> Forges:
        """The adapters on the worker's shared session (and its dry-run recorder)."""
        client = gitlab_client(settings, clients.session, clients.recorder)
        return cls(GitLabForge(client, GitLabMemory()))

    @property
    def gitlab(self) -> GitLabForge:
        """The GitLab adapter (GitOps repositories on GitLab, GitLab events)."""
        return self._gitlab

    def for_envelope(self, envelope: Envelope) -> Forge | None:
        """The adapter of the forge the event came from, if it has one."""
        return self._gitlab if envelope.source is Source.GITLAB else None
