"""One place that hands out an authenticated GitHub client for an installation."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any

import aiohttp
import gidgethub
from gidgethub.abc import GitHubAPI

from bot.github.auth import InstallationTokens, app_jwt
from bot.github.dryrun import DryRunGitHubAPI, DryRunRecorder
from bot.github.pacer import WritePacers
from bot.github.transport import MeteredGitHubAPI, RefreshingGitHubAPI
from bot.logs import get_logger, redactor
from bot.lru_cache import LRUCache
from bot.pipeline.retry import PermanentError, is_transient
from bot.settings import Settings
from schemas.envelope import Envelope, Source, payload_dict

USER_AGENT = "ferrybot"
log = get_logger(component="github")


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
        self._etags: dict[int | None, LRUCache[str, Any]] = {}
        self._tokens: InstallationTokens | None = None
        self._repo_installations: dict[str, int] = {}
        self._lookup_lock = asyncio.Lock()
        self._bot_login: str | None = None
        self._bot_login_unknown = False
        self._pacers = WritePacers(
            settings.github_writes_per_minute, settings.github_writes_per_hour
        )
        private_key = settings.private_key_pem()
        if settings.github_app_id is not None and private_key is not None:
            self._tokens = InstallationTokens(
                settings.github_app_id,
                private_key,
                on_new_token=lambda token: redactor.add([token]),
            )

    async def bot_login(self) -> str | None:
        """ferrybot's own login on GitHub (`<app-slug>[bot]`, or the token's user), or None.

        Handlers compare it with who set a label or wrote a comment, so that only what
        ferrybot itself did counts as ferrybot's; asked once, then remembered.
        """
        if self._bot_login is not None or self._bot_login_unknown:
            return self._bot_login
        try:
            if self.mode is AuthMode.APP:
                private_key = self._settings.private_key_pem()
                assert self._settings.github_app_id is not None and private_key is not None
                app = await self._bare_client().getitem(
                    "/app", jwt=app_jwt(self._settings.github_app_id, private_key)
                )
                self._bot_login = f"{app['slug']}[bot]"
            elif self._settings.github_token is not None:
                me = await (await self.for_installation(None)).getitem("/user")
                self._bot_login = str(me["login"])
            else:
                self._bot_login_unknown = True
        except gidgethub.BadRequest as exc:
            if is_transient(exc):
                raise
            # An Actions token has no user behind it (403): labels it sets cannot be told
            # apart from anyone else's, so approval labels are never trusted.
            log.warning("github.identity_unknown", status=int(exc.status_code))
            self._bot_login_unknown = True
        return self._bot_login

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
        cache = self._etags.setdefault(installation_id, LRUCache[str, Any]())
        if self.mode is AuthMode.TOKEN:
            assert token is not None  # guaranteed by Settings validation
            return RefreshingGitHubAPI(
                self._session,
                USER_AGENT,
                token=token.get_secret_value(),
                installation="token",
                cache=cache,
                base_url=base_url,
                pacer=self._pacers.for_installation(None),
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
            pacer=self._pacers.for_installation(installation_id),
        )

    def _bare_client(self) -> GitHubAPI:
        """A client without a token: for App JWT calls, which pass their credential per call."""
        return MeteredGitHubAPI(
            self._session, USER_AGENT, installation="app", base_url=self._settings.github_api_url
        )

    async def for_envelope(self, envelope: Envelope) -> GitHubAPI:
        """The event's installation client.

        Under App auth, a GitHub event without an installation id (a repository or
        organisation webhook pointed at ferrybot) gets the client of the App's installation
        on its repository. MLflow and registry events belong to no installation: they get an
        unauthenticated one (their handlers reach GitOps repositories through `for_repository`).
        """
        if envelope.installation_id is None and self.mode is AuthMode.APP:
            if envelope.source is not Source.GITHUB:
                return self._bare_client()
            repository = _repository_of(envelope)
            if repository is None:
                raise PermanentError(
                    "event has no installation id and no repository to find the App's "
                    "installation for; deliver it through the App's own webhook"
                )
            return await self.for_repository(*repository)
        return await self.for_installation(envelope.installation_id)

    async def for_repository(self, owner: str, repo: str) -> GitHubAPI:
        """A client for the installation covering `owner/repo`.

        MLflow and registry events carry no installation id, and neither do repository
        webhooks, yet they concern a repository: the App asks GitHub which of its
        installations covers it, once per repository while that installation lasts.
        """
        if self.mode is not AuthMode.APP:
            return await self.for_installation(None)
        key = f"{owner}/{repo}".lower()
        cached = self._repo_installations.get(key)
        if cached is not None:
            try:
                return await self.for_installation(cached)
            except gidgethub.BadRequest as exc:
                if int(exc.status_code) != 404:
                    raise
                # Uninstalled since (and perhaps installed again, under a new id): ask again.
                del self._repo_installations[key]
        # Events of one repository arrive on several partitions at once: one lookup serves all.
        async with self._lookup_lock:
            installation_id = self._repo_installations.get(key)
            if installation_id is None:
                installation_id = await self._installation_on(owner, repo)
                self._repo_installations[key] = installation_id
        return await self.for_installation(installation_id)

    async def _installation_on(self, owner: str, repo: str) -> int:
        private_key = self._settings.private_key_pem()
        assert self._settings.github_app_id is not None and private_key is not None
        try:
            found = await self._bare_client().getitem(
                "/repos/{owner}/{repo}/installation",
                url_vars={"owner": owner, "repo": repo},
                jwt=app_jwt(self._settings.github_app_id, private_key),
            )
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) == 404:
                raise PermanentError(
                    f"the GitHub App is not installed on {owner}/{repo}: install it there "
                    "(or on its account) for ferrybot to act on it"
                ) from None
            raise
        return int(found["id"])


def _repository_of(envelope: Envelope) -> tuple[str, str] | None:
    """(owner, name) of the repository a GitHub event is about, if it names one."""
    repository = payload_dict(envelope).get("repository")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    if not isinstance(full_name, str):
        return None
    owner, _, name = full_name.partition("/")
    return (owner, name) if owner and name else None
