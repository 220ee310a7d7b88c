"""The web page of an event's subject, for chat messages that point somewhere."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from bot.settings import Settings
from schemas.envelope import Envelope, Source


def github_web_url(api_url: str) -> str:
    """github.com for api.github.com, https://HOST for GitHub Enterprise's https://HOST/api/v3."""
    parts = urlsplit(api_url)
    if parts.netloc == "api.github.com":
        return "https://github.com"
    return api_url.rstrip("/").removesuffix("/api/v3")


def subject_links(settings: Settings, subject: str, envelope: Envelope | None) -> dict[str, str]:
    """A link to what the subject names: the pull or merge request (or project), the MLflow model
    page when the tracking URL is known, the image repository; empty when nothing fits."""
    kind, _, rest = subject.partition("/")
    if not rest:
        return {}
    if kind == "github":
        repository, _, number = rest.partition("#")
        base = f"{github_web_url(settings.github_api_url)}/{quote(repository, safe='/')}"
        if number.isdigit():
            return {"Pull request": f"{base}/pull/{number}"}
        return {"Repository": base}
    if kind == "gitlab":
        project, _, iid = rest.rpartition("!") if "!" in rest else (rest, "", "")
        base = f"{settings.gitlab_url}/{quote(project, safe='/')}"
        if iid.isdigit():
            return {"Merge request": f"{base}/-/merge_requests/{iid}"}
        return {"Project": base}
    if kind == "model" and settings.mlflow_tracking_url:
        return {"Model": f"{settings.mlflow_tracking_url.rstrip('/')}/#/models/{quote(rest)}"}
    if kind == "image":
        return _image_link(settings, quote(rest, safe="/"), envelope)
    return {}


def _image_link(settings: Settings, repository: str, envelope: Envelope | None) -> dict[str, str]:
    registry = envelope.event if envelope and envelope.source is Source.REGISTRY else None
    base = settings.registry_urls.get(registry) if registry else None
    if base:
        return {"Image repository": f"{base.rstrip('/')}/v2/{repository}/tags/list"}
    if registry == "docker-hub":
        return {"Image repository": f"https://hub.docker.com/r/{repository}"}
    if envelope is not None and envelope.source is Source.GITHUB:
        owner = repository.split("/")[0]
        return {
            "Image repository": f"{github_web_url(settings.github_api_url)}/{owner}?tab=packages"
        }
    return {}
