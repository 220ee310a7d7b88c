"""One place that hands out an authenticated GitHub client for an installation."""

from __future__ import annotations

from enum import StrEnum

import aiohttp
from gidgethub.abc import GitHubAPI

from bot.github.auth import InstallationTokens, app_jwt
from bot.github.dryrun import DryRunGitHubAPI, DryRunRecorder
from bot.github.etag_cache import LRUCache
from bot.github.transport import MeteredGitHubAPI, RefreshingGitHubAPI
from bot.logs import redactor
from bot.pipeline.retry import PermanentError
from bot.settings import Settings
from schemas.envelope import Envelope, Source

USER_AGENT = "ferrybot"


class AuthMode(StrEnum):
    """How ferrybot authenticates to GitHub."""

    APP = "app"
    TOKEN = "token"
    DRY_RUN = "dry-run"


class GitHubClients:
    """Builds clients on one shared session, with per-installation token and ETag caches."""

    def __init__(
        self, settings: Settings, session: aiohttp.ClientSession, recorder: DryRunRecorder
    ) -> None:
        self._settings = settings
        self._session = session
        self.recorder = recorder
        self._etags: dict[int | None, LRUCache] = {}
        self._tokens: InstallationTokens | None = None
        self._repo_installations: dict[str, int] = {}
        private_key = settings.private_key_pem()
        if settings.github_app_id is not None and private_key is not None:
            self._tokens = InstallationTokens(
                settings.github_app_id,
                private_key,
                on_new_token=lambda token: redactor.add([token]),
            )

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared HTTP session, for the other REST clients handlers use."""
        return self._session

    @property
    def mode(self) -> AuthMode:
        """The auth mode in force."""
        if self._settings.effective_dry_run:
            return AuthMode.DRY_RUN
        return AuthMode.APP if self._tokens is not None else AuthMode.TOKEN

    async def for_installation(self, installation_id: int | None) -> GitHubAPI:
        """A client authenticated for the installation the event came from."""
        base_url = self._settings.github_api_url
        token = self._settings.github_token
        if self.mode is AuthMode.DRY_RUN:
            return DryRunGitHubAPI(
                self.recorder,
                USER_AGENT,
                session=self._session,
                read_token=token.get_secret_value() if token else None,
                base_url=base_url,
            )
        cache = self._etags.setdefault(installation_id, LRUCache())
        if self.mode is AuthMode.TOKEN:
            assert token is not None  # guaranteed by Settings validation
            return RefreshingGitHubAPI(
                self._session,
                USER_AGENT,
                token=token.get_secret_value(),
                installation="token",
                cache=cache,
                base_url=base_url,
            )
        if installation_id is None:
            raise PermanentError(
                "event has no installation id; App auth needs events delivered to an installation"
            )
        tokens = self._tokens
        assert tokens is not None
        jwt_client = self._bare_client()

        async def token_source(refresh: bool) -> str:
            if refresh:
                tokens.forget(installation_id)
            return await tokens.token(jwt_client, installation_id, refresh=refresh)

        return RefreshingGitHubAPI(
            self._session,
            USER_AGENT,
            token=await token_source(False),
            installation=str(installation_id),
            token_source=token_source,
            cache=cache,
            base_url=base_url,
        )

    def _bare_client(self) -> GitHubAPI:
        """A client without a token: for App JWT calls, which pass their credential per call."""
        return MeteredGitHubAPI(
            self._session, USER_AGENT, installation="app", base_url=self._settings.github_api_url
        )

    async def for_envelope(self, envelope: Envelope) -> GitHubAPI:
        """The event's installation client; for MLflow and registry events under App auth,
        which belong to no installation, an unauthenticated one (handlers of those events
        reach GitOps repositories through `for_repository`)."""
        if (
            envelope.installation_id is None
            and envelope.source is not Source.GITHUB
            and self.mode is AuthMode.APP
        ):
            return self._bare_client()
        return await self.for_installation(envelope.installation_id)

    async def for_repository(self, owner: str, repo: str) -> GitHubAPI:
        """A client for the installation covering `owner/repo`.

        MLflow and registry events carry no installation id, yet their promotions write to a
        GitOps repository: the App asks GitHub which of its installations covers it.
        """
        if self.mode is not AuthMode.APP:
            return await self.for_installation(None)
        key = f"{owner}/{repo}".lower()
        installation_id = self._repo_installations.get(key)
        if installation_id is None:
            private_key = self._settings.private_key_pem()
            assert self._settings.github_app_id is not None and private_key is not None
            jwt_client = self._bare_client()
            found = await jwt_client.getitem(
                "/repos/{owner}/{repo}/installation",
                url_vars={"owner": owner, "repo": repo},
                jwt=app_jwt(self._settings.github_app_id, private_key),
            )
            installation_id = int(found["id"])
            self._repo_installations[key] = installation_id
        return await self.for_installation(installation_id)
