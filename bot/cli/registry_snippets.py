"""`ferrybot setup registry`: what to paste into Distribution, Harbor and Docker Hub."""

from __future__ import annotations

import io
import json
from typing import Any

from ruamel.yaml import YAML

from bot.settings import Settings
from schemas.registry import RegistryKind


def endpoint(public_url: str, kind: RegistryKind) -> str:
    """The ingress URL a registry posts to (Docker Hub's without its path token)."""
    return f"{public_url.rstrip('/')}/webhooks/registry/{kind.value}"


def distribution_notifications(public_url: str, token: str) -> dict[str, Any]:
    """The `notifications:` section of a CNCF Distribution (registry:2) config."""
    return {
        "notifications": {
            "endpoints": [
                {
                    "name": "ferrybot",
                    "url": endpoint(public_url, RegistryKind.DISTRIBUTION),
                    "headers": {"Authorization": [f"Bearer {token}"]},
                    "timeout": "5s",
                    "threshold": 5,
                    "backoff": "10s",
                    # Blob uploads are not images; only manifest events matter.
                    "ignoredmediatypes": ["application/octet-stream"],
                    # ferrybot reads manifests to confirm a tag: without this, its own HEAD
                    # requests come back as `pull` events.
                    "ignore": {"actions": ["pull"]},
                }
            ]
        }
    }


def harbor_policy(public_url: str, token: str) -> dict[str, Any]:
    """A Harbor webhook policy, the body of POST /api/v2.0/projects/{project}/webhook/policies."""
    return {
        "name": "ferrybot",
        "enabled": True,
        "event_types": ["PUSH_ARTIFACT"],
        "targets": [
            {
                "type": "http",
                "address": endpoint(public_url, RegistryKind.HARBOR),
                "auth_header": f"Bearer {token}",
                "skip_cert_verify": False,
                "payload_format": "Default",
            }
        ],
    }


def _yaml(data: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def registry_instructions(settings: Settings, public_url: str) -> str:
    """Every registry's setup text; one not configured says which setting enables it."""
    tokens = {
        name: value.get_secret_value() for name, value in settings.registry_webhook_tokens.items()
    }
    parts = []
    token = tokens.get(RegistryKind.DISTRIBUTION.value)
    if token:
        parts.append(
            "# CNCF Distribution (registry:2): add to the registry's config.yml\n"
            + _yaml(distribution_notifications(public_url, token))
        )
    else:
        parts.append(
            '# Distribution: not enabled; set FERRYBOT_REGISTRY_WEBHOOK_TOKENS={"distribution": '
            '"<token>"}\n'
        )
    token = tokens.get(RegistryKind.HARBOR.value)
    if token:
        parts.append(
            "# Harbor: Project → Webhooks → New webhook (HTTP, Default payload, event "
            "'Artifact pushed'), or POST this to /api/v2.0/projects/<project>/webhook/policies\n"
            + json.dumps(harbor_policy(public_url, token), indent=2)
            + "\n"
        )
    else:
        parts.append(
            '# Harbor: not enabled; set FERRYBOT_REGISTRY_WEBHOOK_TOKENS={"harbor": "<token>"}\n'
        )
    if settings.dockerhub_url_token is not None:
        url = endpoint(public_url, RegistryKind.DOCKER_HUB)
        parts.append(
            "# Docker Hub: Repository → Webhooks → name `ferrybot`, URL:\n"
            f"{url}/{settings.dockerhub_url_token.get_secret_value()}\n"
        )
    else:
        parts.append("# Docker Hub: not enabled; set FERRYBOT_DOCKERHUB_URL_TOKEN\n")
    return "\n".join(parts)
