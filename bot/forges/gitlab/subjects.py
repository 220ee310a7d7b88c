"""The Kafka key of GitLab events: one merge request, or one project."""

from __future__ import annotations

from urllib.parse import quote

PREFIX = "gitlab/"


def project_subject(path: str, iid: int | None) -> str:
    """The key for an event of `path`, about merge request `iid` when there is one."""
    return f"{PREFIX}{path}!{iid}" if iid is not None else f"{PREFIX}{path}"


def merge_request_in_subject(subject: str) -> tuple[str, int] | None:
    """(project path, iid) from a merge request's key; None for a project's own events."""
    if not subject.startswith(PREFIX):
        return None
    path, bang, iid = subject.removeprefix(PREFIX).rpartition("!")
    if not bang or not path or not iid.isdigit():
        return None
    return path, int(iid)


def project_path(project: str) -> str:
    """A project's path as GitLab's API takes it in a URL: every `/` encoded."""
    return quote(project, safe="")
