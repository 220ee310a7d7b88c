"""Chat messages link to their subject: the PR or MR, the MLflow model, the image repository."""

from __future__ import annotations

import pytest

from bot.notify.links import subject_links
from bot.settings import load_settings
from schemas.envelope import Envelope, Source


def _envelope(source: Source, event: str, subject: str) -> Envelope:
    return Envelope(id="d1", source=source, event=event, subject=subject, payload={})


@pytest.mark.parametrize(
    ("settings", "subject", "source", "event", "expected"),
    [
        ({}, "github/acme/app#42", Source.GITHUB, "pull_request",
         {"Pull request": "https://github.com/acme/app/pull/42"}),
        ({"github_api_url": "https://ghe.example.com/api/v3"}, "github/acme/app",
         Source.GITHUB, "push", {"Repository": "https://ghe.example.com/acme/app"}),
        ({"mlflow_tracking_url": "https://mlflow.example.com"}, "model/churn", Source.MLFLOW,
         "model_version", {"Model": "https://mlflow.example.com/#/models/churn"}),
        ({}, "model/churn", Source.MLFLOW, "model_version", {}),
        ({"registry_urls": {"distribution": "https://registry.example.com"}}, "image/team/api",
         Source.REGISTRY, "distribution",
         {"Image repository": "https://registry.example.com/v2/team/api/tags/list"}),
        ({}, "image/team/api", Source.REGISTRY, "docker-hub",
         {"Image repository": "https://hub.docker.com/r/team/api"}),
        ({}, "image/acme/api", Source.GITHUB, "package",
         {"Image repository": "https://github.com/acme?tab=packages"}),
        ({}, "image/team/api", Source.REGISTRY, "harbor", {}),
        ({}, "gitlab/acme/platform/app!7", Source.GITLAB, "merge_request",
         {"Merge request": "https://gitlab.com/acme/platform/app/-/merge_requests/7"}),
        ({"gitlab_url": "https://example.com/gitlab/"}, "gitlab/acme/app", Source.GITLAB, "push",
         {"Project": "https://example.com/gitlab/acme/app"}),
    ],
    ids=["pr", "ghe-repo", "mlflow-model", "mlflow-unknown", "registry", "docker-hub",
         "github-packages", "registry-unknown", "gitlab-mr", "self-managed-gitlab-project"],
)  # fmt: skip
def test_subject_links(
    settings: dict[str, object], subject: str, source: Source, event: str, expected: object
) -> None:
    """Each subject kind links to its page, and to nothing when its address is unknown."""
    values = load_settings(**settings)
    assert subject_links(values, subject, _envelope(source, event, subject)) == expected
