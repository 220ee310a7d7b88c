"""What a route handler receives and returns, and the tables routes register in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDictProxy
from yarl import URL

from tests.fakegithub.spec import Operation
from tests.fakegithub.state import App, GitHubState, Issue, NotFound, Repo, Token

if TYPE_CHECKING:
    from tests.fakegithub.server import FakeGitHub

DOCS = "https://docs.github.com/rest"
HTML = "https://github.com"


class GitHubError(Exception):
    """An error answer GitHub itself would give.

    violation=True marks requests only a buggy client sends (GitHub refuses them whatever the
    state); plain errors such as a duplicate pull request are situations a client must handle.
    """

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[Any] | None = None,
        *,
        violation: bool = False,
    ) -> None:
        details = "; ".join(str(e.get("message", e)) for e in errors or () if isinstance(e, dict))
        super().__init__(f"{status} {message}" + (f": {details}" if details else ""))
        self.status = status
        self.violation = violation
        self.body: dict[str, Any] = {"message": message, "documentation_url": DOCS}
        if errors is not None:
            self.body["errors"] = errors
        self.body["status"] = str(status)


def validation_failed(
    message: str,
    resource: str = "",
    field: str = "",
    *,
    code: str = "custom",
    violation: bool = False,
) -> GitHubError:
    """422 the way GitHub words semantic refusals (duplicates, bad refs)."""
    error = {"resource": resource, "code": code, "field": field, "message": message}
    return GitHubError(422, "Validation Failed", errors=[error], violation=violation)


NOT_FOUND = "Not Found"


@dataclass(frozen=True)
class Violation:
    """A request GitHub's description refuses; tests fail on these unless expected."""

    method: str
    path: str
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.path}: " + "; ".join(self.problems)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Raw bytes answered as-is (contents with the raw media type).
    raw: bytes | None = None


@dataclass
class ApiRequest:
    """A validated request: typed parameters, parsed body, and who sent it."""

    fake: FakeGitHub
    operation: Operation
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    headers: CIMultiDictProxy[str]
    url: str
    token: Token | None = None
    app: App | None = None  # set when authenticated with an app JWT

    @property
    def state(self) -> GitHubState:
        return self.fake.state

    @property
    def base_url(self) -> str:
        return self.fake.url

    @property
    def login(self) -> str:
        """Who GitHub shows as the author of what this request creates."""
        if self.token is not None:
            return self.token.login
        assert self.app is not None
        return self.app.bot_login

    def repo(self) -> Repo:
        """The path's repository, hidden (404) from tokens that cannot see it."""
        try:
            repo = self.state.repo(self.path["owner"], self.path["repo"])
        except NotFound:
            raise GitHubError(404, NOT_FOUND) from None
        if self.token is not None and not self.token.can_see(repo.full_name):
            raise GitHubError(404, NOT_FOUND)
        return repo

    def issue(self, repo: Repo, number: int) -> Issue:
        try:
            return repo.issue(number)
        except NotFound:
            raise GitHubError(404, NOT_FOUND) from None

    def pull(self, repo: Repo, number: int) -> Issue:
        try:
            return repo.pull(number)
        except NotFound:
            raise GitHubError(404, NOT_FOUND) from None

    def page(self, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        """The requested page of items and GitHub's Link header for the others."""
        per_page = max(1, min(int(self.query.get("per_page", 30)), 100))
        number = max(1, int(self.query.get("page", 1)))
        last = max(1, -(-len(items) // per_page))
        links = []
        for rel, target in (
            ("prev", number - 1),
            ("next", number + 1),
            ("first", 1),
            ("last", last),
        ):
            if (rel in ("prev", "first") and number > 1) or (
                rel in ("next", "last") and number < last
            ):
                links.append(f'<{self._page_url(target, per_page)}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        start = (number - 1) * per_page
        return items[start : start + per_page], headers

    def _page_url(self, number: int, per_page: int) -> str:
        url = URL(self.url)
        return str(url.update_query(page=number, per_page=per_page))

    def violation(self, problem: str) -> None:
        """Record a request GitHub serves but that cannot do what the client meant."""
        path = self.url.split("?", 1)[0].removeprefix(self.base_url)
        self.fake.record_violation(Violation(self.operation.method, path, (problem,)))

    def require_app_installation(self) -> None:
        """Checks API writes are for GitHub Apps only."""
        if self.token is not None and self.token.kind == "pat":
            raise GitHubError(403, "Resource not accessible by personal access token")


Handler = Callable[[ApiRequest], Reply]


@dataclass(frozen=True)
class Route:
    handler: Handler
    auth: str  # "token": installation token or PAT; "jwt": app JWT


class RouteTable:
    """Handlers of one area, keyed by the description's `METHOD /template`."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}

    def __call__(self, key: str, auth: str = "token") -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes[key] = Route(handler, auth)
            return handler

        return register
