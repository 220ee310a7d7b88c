"""Facts: what one envelope or audit record tells the ledger, with the time the event gives."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.ingress.deployments import repo_of_url
from schemas.audit import AuditRecord
from schemas.envelope import Envelope, Source, payload_dict


class FactKind(StrEnum):
    """What a fact is about."""

    ARTIFACT = "artifact"
    PROMOTION = "promotion"
    GATE = "gate"
    DEPLOYMENT = "deployment"
    RETRAIN = "retrain"


class DeployStatus(StrEnum):
    """A deployment event, whatever the sender calls it."""

    STARTED = "started"
    SUCCEEDED = "succeeded"
    DEGRADED = "degraded"
    FAILED = "failed"


@dataclass(frozen=True)
class Fact:
    """One observation; `key` is its dedupe key (a delivery id or an audit id)."""

    key: str
    kind: FactKind
    at: datetime
    status: str
    source: str
    pipeline: str | None = None
    stage: str | None = None
    repo: str | None = None
    revision: str | None = None
    version: str | None = None
    target: str | None = None
    pull: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


_SHA = re.compile(r"[0-9a-f]{7,64}")
_GITHUB_STATES = {
    "queued": DeployStatus.STARTED,
    "pending": DeployStatus.STARTED,
    "in_progress": DeployStatus.STARTED,
    "success": DeployStatus.SUCCEEDED,
    "failure": DeployStatus.FAILED,
    "error": DeployStatus.FAILED,
}
_ARGOCD_EVENTS = {
    "deployed": DeployStatus.SUCCEEDED,
    "health-degraded": DeployStatus.DEGRADED,
    "sync-failed": DeployStatus.FAILED,
}
# GitLab deployment statuses (Deployment Hook); `canceled` and `blocked` deploy nothing.
_GITLAB_STATES = {
    "created": DeployStatus.STARTED,
    "running": DeployStatus.STARTED,
    "success": DeployStatus.SUCCEEDED,
    "failed": DeployStatus.FAILED,
}
# Flux reasons (fluxcd/pkg/runtime/events and the controllers' condition reasons).
_FLUX_REASONS = {
    "ReconciliationSucceeded": DeployStatus.SUCCEEDED,
    "UpgradeSucceeded": DeployStatus.SUCCEEDED,
    "InstallSucceeded": DeployStatus.SUCCEEDED,
    "Progressing": DeployStatus.STARTED,
    "HealthCheckFailed": DeployStatus.DEGRADED,
}


def utc(value: datetime) -> datetime:
    """Aware UTC (SQLite hands datetimes back naive; they were stored as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_time(value: object, fallback: datetime) -> datetime:
    """An RFC 3339 time from a payload, or `fallback` (the envelope's receipt) when absent."""
    if isinstance(value, str) and value:
        try:
            return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            pass
    return utc(fallback)


def git_sha(revision: object) -> str | None:
    """The commit of `main@sha1:<sha>`, `sha1:<sha>` or a bare SHA; None when none is named."""
    if not isinstance(revision, str):
        return None
    tail = revision.rsplit(":", 1)[-1].rsplit("@", 1)[-1].strip().lower()
    return tail if _SHA.fullmatch(tail) else None


def may_hold_facts(source: str, event: str) -> bool:
    """Whether an envelope of this source and event can hold facts, before its body is read."""
    if source == Source.GITHUB:
        return event in ("deployment", "deployment_status")
    if source == Source.GITLAB:
        return event == "deployment"
    if source == Source.REGISTRY:
        return event == "manifest"
    return source in (Source.ARGOCD, Source.FLUX)


def facts_from_envelope(envelope: Envelope) -> list[Fact]:
    """Deployment events (GitHub, GitLab, Argo CD, Flux) and image pushes; others tell nothing."""
    if not may_hold_facts(envelope.source, envelope.event):
        return []
    payload = payload_dict(envelope)
    if envelope.source is Source.GITHUB and envelope.event in ("deployment", "deployment_status"):
        return _github_deployment(envelope, payload)
    if envelope.source is Source.GITLAB and envelope.event == "deployment":
        return _gitlab_deployment(envelope, payload)
    if envelope.source is Source.ARGOCD:
        return _argocd(envelope, payload)
    if envelope.source is Source.FLUX:
        return _flux(envelope, payload)
    if envelope.source is Source.REGISTRY and envelope.event == "manifest":
        return _image_push(envelope, payload)
    return []


def _github_deployment(envelope: Envelope, payload: dict[str, Any]) -> list[Fact]:
    deployment = payload.get("deployment")
    repository = payload.get("repository")
    if not isinstance(deployment, dict) or not isinstance(repository, dict):
        return []
    if envelope.event == "deployment":
        status: DeployStatus | None = DeployStatus.STARTED
        when = deployment.get("created_at")
    else:
        deployment_status = payload.get("deployment_status")
        if not isinstance(deployment_status, dict):
            return []
        # `inactive` only says a newer deployment replaced this one: nothing to count.
        status = _GITHUB_STATES.get(str(deployment_status.get("state")))
        when = deployment_status.get("updated_at") or deployment_status.get("created_at")
    revision = git_sha(deployment.get("sha"))
    if status is None or revision is None:
        return []
    return [
        Fact(
            key=envelope.id,
            kind=FactKind.DEPLOYMENT,
            at=parse_time(when, envelope.received_at),
            status=status.value,
            source="github",
            repo=str(repository.get("full_name") or "") or None,
            revision=revision,
            target=str(deployment.get("environment") or "") or None,
        )
    ]


def _gitlab_deployment(envelope: Envelope, payload: dict[str, Any]) -> list[Fact]:
    status = _GITLAB_STATES.get(str(payload.get("status")))
    project = payload.get("project")
    commit_url = payload.get("commit_url")
    # The hook names its commit only in `commit_url` (`…/-/commit/<sha>`) and as `short_sha`.
    revision = git_sha(commit_url.rsplit("/", 1)[-1]) if isinstance(commit_url, str) else None
    if status is None or revision is None or not isinstance(project, dict):
        return []
    environment = payload.get("environment")
    return [
        Fact(
            key=envelope.id,
            kind=FactKind.DEPLOYMENT,
            at=_gitlab_time(payload.get("status_changed_at"), envelope.received_at),
            status=status.value,
            source="gitlab",
            repo=str(project.get("path_with_namespace") or "") or None,
            revision=revision,
            target=environment if isinstance(environment, str) else None,
            data={"url": payload.get("deployable_url"), "tier": payload.get("environment_tier")},
        )
    ]


def _gitlab_time(value: object, fallback: datetime) -> datetime:
    """GitLab hooks write times as `2021-04-28 21:50:00 +0200`, not RFC 3339."""
    if isinstance(value, str):
        try:
            return utc(datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z"))
        except ValueError:
            pass
    return parse_time(value, fallback)


def _argocd(envelope: Envelope, payload: dict[str, Any]) -> list[Fact]:
    status = _ARGOCD_EVENTS.get(envelope.action or "")
    revision = git_sha(payload.get("revision"))
    if status is None or revision is None:
        return []
    return [
        Fact(
            key=envelope.id,
            kind=FactKind.DEPLOYMENT,
            at=parse_time(payload.get("timestamp"), envelope.received_at),
            status=status.value,
            source="argocd",
            repo=repo_of_url(payload.get("repoURL")),
            revision=revision,
            target=str(payload.get("app")),
            data={"health": payload.get("healthStatus"), "phase": payload.get("phase")},
        )
    ]


def _flux(envelope: Envelope, payload: dict[str, Any]) -> list[Fact]:
    reason = envelope.action or ""
    status = _FLUX_REASONS.get(reason)
    if status is None and payload.get("severity") == "error":
        status = DeployStatus.FAILED
    metadata = payload.get("metadata")
    obj = payload.get("involvedObject")
    if status is None or not isinstance(metadata, dict) or not isinstance(obj, dict):
        return []
    revision = git_sha(metadata.get("revision"))
    if revision is None:
        return []
    repo = metadata.get("repository")
    return [
        Fact(
            key=envelope.id,
            kind=FactKind.DEPLOYMENT,
            at=parse_time(payload.get("timestamp"), envelope.received_at),
            status=status.value,
            source="flux",
            repo=repo if isinstance(repo, str) else None,
            revision=revision,
            target=f"{obj.get('kind')}/{obj.get('namespace')}/{obj.get('name')}",
            data={"reason": reason},
        )
    ]


def _image_push(envelope: Envelope, payload: dict[str, Any]) -> list[Fact]:
    tag, repository = payload.get("tag"), payload.get("repository")
    if envelope.action != "push" or not isinstance(tag, str) or not isinstance(repository, str):
        return []
    raw = payload.get("raw")
    when = raw.get("timestamp") if isinstance(raw, dict) else None
    return [
        Fact(
            key=envelope.id,
            kind=FactKind.ARTIFACT,
            at=parse_time(when, envelope.received_at),
            status="created",
            source="registry",
            version=tag,
            data={"image": repository, "digest": payload.get("digest")},
        )
    ]


def _time(value: object) -> datetime | None:
    """An RFC 3339 time from audit details, or None when absent or not a time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def facts_from_audit(record: AuditRecord) -> list[Fact]:
    """Promotions (opened, merged, closed), gate verdicts and retraining cycles of a stage."""
    parts = record.subject.split("/")
    if len(parts) != 3 or parts[0] != "pipeline":
        return []
    pipeline, stage = parts[1], parts[2]
    details = record.details
    kind, _, verb = record.action.partition(".")
    base: dict[str, Any] = {
        "key": record.id,
        "at": utc(record.at),
        "source": "audit",
        "pipeline": pipeline,
        "stage": stage,
        "repo": details.get("repo") if isinstance(details.get("repo"), str) else None,
    }
    if kind == "gate" and verb in ("success", "failure"):
        return [
            Fact(
                kind=FactKind.GATE,
                status=verb,
                version=record.to_value,
                revision=git_sha(details.get("head_sha")),
                **base,
            )
        ]
    if kind == "retrain" and verb == "cycle_completed":
        return _retrain_cycle(record, base)
    if kind != "promotion":
        return []
    pull = details.get("pull")
    if verb in ("opened", "updated", "unchanged") and isinstance(pull, int):
        data: dict[str, Any] = {
            key: details[key]
            for key in ("artifact_created_at", "trained_at", "url", "rollback", "head_sha")
            if key in details
        }
        return [
            Fact(
                kind=FactKind.PROMOTION,
                status="opened",
                version=record.to_value,
                pull=pull,
                data=data,
                **base,
            )
        ]
    if verb == "merged" and isinstance(pull, int):
        return [
            Fact(
                kind=FactKind.PROMOTION,
                status="merged",
                version=record.to_value,
                pull=pull,
                revision=git_sha(details.get("merge_commit_sha")),
                data={"url": details.get("url")},
                **base,
            )
        ]
    closed = details.get("closed_pull")
    if verb == "already_deployed" and isinstance(closed, int):
        return [Fact(kind=FactKind.PROMOTION, status="closed", pull=closed, **base)]
    return []


def _retrain_cycle(record: AuditRecord, base: dict[str, Any]) -> list[Fact]:
    """Alert fired → new version promoted: the fact's time is the promotion's, not the audit's."""
    details = record.details
    fired, promoted = _time(details.get("fired_at")), _time(details.get("promoted_at"))
    episode = details.get("episode")
    if fired is None or promoted is None or not isinstance(episode, str) or promoted < fired:
        return []
    fingerprint = details.get("fingerprint")
    return [
        Fact(
            kind=FactKind.RETRAIN,
            status="completed",
            version=record.to_value,
            data={
                "episode": episode,
                "fingerprint": fingerprint if isinstance(fingerprint, str) else None,
                "fired_at": fired.isoformat(),
            },
            **{**base, "at": promoted},
        )
    ]
