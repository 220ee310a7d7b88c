"""What a route handler receives and returns, and the tables routes register in."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from multidict import CIMultiDictProxy
from yarl import URL

from tests.fakegitlab.params import Param
from tests.fakegitlab.state import GUEST, GitLabState, MergeRequest, NotFound, Project, User

if TYPE_CHECKING:
    from tests.fakegitlab.server import FakeGitLab

# GitLab's offset pagination (doc/api/rest/_index.md, "Pagination").
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
PAGINATION = (Param("page", "integer"), Param("per_page", "integer"))
# ActiveRecord::RecordNotFound answers, rescued globally by GitLab's API.
RECORD_NOT_FOUND = "404 Not found"


class GitLabError(Exception):
    """An error answer GitLab itself would give.

    violation=True marks requests only a buggy client sends (GitLab refuses them whatever its
    state); plain errors such as a duplicate merge request are situations a client must handle.
    """

    def __init__(
        self,
        status: int,
        message: Any,
        *,
        key: str = "message",
        violation: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.violation = violation
        self.body: dict[str, Any] = {key: message}
        self.headers = dict(headers or {})


def not_found(what: str | None = None) -> GitLabError:
    """GitLab's `not_found!(what)` helper: "404 <what> Not Found", or "404 Not Found"."""
    return GitLabError(404, f"404 {what} Not Found" if what else "404 Not Found")


def record_not_found() -> GitLabError:
    """ActiveRecord::RecordNotFound, which lib/api/api.rb answers "404 Not found"."""
    return GitLabError(404, RECORD_NOT_FOUND)


@dataclass(frozen=True)
class Violation:
    """A request GitLab would refuse or misread; tests fail on these unless expected."""

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
    raw: bytes | None = None  # answered as-is with content_type
    content_type: str = "application/json"


@dataclass
class ApiRequest:
    """A validated request: decoded path parameters, typed parameters, and who sent it."""

    fake: FakeGitLab
    route: Route
    path: dict[str, str]
    params: dict[str, Any]
    headers: CIMultiDictProxy[str]
    url: URL
    user: User | None = None

    @property
    def state(self) -> GitLabState:
        return self.fake.state

    @property
    def web_url(self) -> str:
        """Where the fake's web UI would be: the base URL (with its path prefix)."""
        return self.fake.url

    @property
    def author(self) -> User:
        assert self.user is not None
        return self.user

    def project(self, access: int | None = GUEST) -> Project:
        """The path's project, for a user with at least `access` (None: no user involved).

        Projects are private (GitLab's default visibility): a non-member gets 404, a member
        below the role the operation needs 403 (doc/user/permissions.md).
        """
        try:
            project = self.state.project(self.path["id"])
        except NotFound:
            raise not_found("Project") from None
        if access is None:
            return project
        level = self.level(project)
        if level == 0:
            raise not_found("Project")
        if level < access:
            raise GitLabError(403, "403 Forbidden")
        return project

    def level(self, project: Project) -> int:
        """The requesting user's role in the project (0: not a member)."""
        return project.members.get(self.author.id, 0)

    def merge_request(self, project: Project) -> MergeRequest:
        try:
            return project.merge_request(self.path_int("merge_request_iid"))
        except NotFound:
            raise record_not_found() from None

    def path_int(self, name: str) -> int:
        """An Integer path parameter; Grape refuses one that is not a number."""
        value = self.path[name]
        if not value.isdigit():
            raise GitLabError(400, f"{name} is invalid", key="error", violation=True)
        return int(value)

    def page(self, items: Sequence[Any]) -> Reply:
        """One page of items with GitLab's pagination headers and Link."""
        per_page = self.params.get("per_page") or DEFAULT_PER_PAGE
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        number = max(1, self.params.get("page") or 1)
        total_pages = max(1, -(-len(items) // per_page))
        start = (number - 1) * per_page
        headers = {
            "X-Page": str(number),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(number + 1) if number < total_pages else "",
            "X-Prev-Page": str(number - 1) if number > 1 else "",
        }
        links = []
        if number > 1:
            links.append(f'<{self._page_url(number - 1, per_page)}>; rel="prev"')
        if number < total_pages:
            links.append(f'<{self._page_url(number + 1, per_page)}>; rel="next"')
        links.append(f'<{self._page_url(1, per_page)}>; rel="first"')
        links.append(f'<{self._page_url(total_pages, per_page)}>; rel="last"')
        headers["Link"] = ", ".join(links)
        return Reply(200, list(items[start : start + per_page]), headers)

    def _page_url(self, number: int, per_page: int) -> str:
        return str(self.url.update_query(page=number, per_page=per_page))


Handler = Callable[[ApiRequest], Reply]


@dataclass(frozen=True)
class Route:
    """One operation: `METHOD /template` with `:name` segments, its parameters and handler."""

    method: str
    template: str
    handler: Handler
    params: tuple[Param, ...]
    paginated: bool
    at_least_one_of: tuple[str, ...]
    auth: str  # "token": a user's token; "trigger": the trigger token parameter instead
    pattern: re.Pattern[str]

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    def match(self, raw_path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(raw_path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


def compile_template(template: str) -> re.Pattern[str]:
    # Each :name is one raw path segment: an unencoded "/" inside a project path or file
    # path makes the request miss every route, as on GitLab.
    # Templates hold only letters, "_", "/" and ":name", so they need no escaping.
    return re.compile(re.sub(r":(\w+)", lambda m: f"(?P<{m.group(1)}>[^/]+)", template))


class RouteTable:
    """Handlers of one area, in the order GitLab's Grape API would try them."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def __call__(
        self,
        method: str,
        template: str,
        params: Sequence[Param] = (),
        *,
        paginated: bool = False,
        at_least_one_of: Sequence[str] = (),
        auth: str = "token",
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            declared = tuple(params) + (PAGINATION if paginated else ())
            self.routes.append(
                Route(
                    method,
                    template,
                    handler,
                    declared,
                    paginated,
                    tuple(at_least_one_of),
                    auth,
                    compile_template(template),
                )
            )
            return handler

        return register
