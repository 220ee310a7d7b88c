"""A stage's edits for a candidate, and what its files say is deployed now."""

from __future__ import annotations

from dataclasses import dataclass

from bot.gitops.edits import Change, EditError, EditResult
from bot.gitops.helm import set_helm_value
from bot.gitops.kustomize import set_kustomize_image
from bot.gitops.templates import TemplateValues, extract, render, template_placeholders
from bot.gitops.yamledit import get_path, set_path
from bot.promotion.candidate import Candidate
from schemas.pipelines import (
    IMAGE_PLACEHOLDERS,
    MODEL_PLACEHOLDERS,
    HelmWrite,
    KustomizeImageWrite,
    Pipeline,
    Stage,
    YamlWrite,
)


@dataclass(frozen=True)
class FileEdit:
    """One file of the stage after every write to it."""

    path: str
    old_text: str
    new_text: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Deployed:
    """The artifact versions a stage's files name now (git is the source of truth)."""

    version: str | None = None
    run_id: str | None = None
    tag: str | None = None
    digest: str | None = None

    @property
    def label(self) -> str:
        """`7`, `1.4.0`, `7+1.4.0`, or `none` for a stage never promoted."""
        return "+".join(part for part in (self.version, self.tag) if part) or "none"


def _applies(write: YamlWrite | KustomizeImageWrite, candidate: Candidate) -> bool:
    if isinstance(write, KustomizeImageWrite):
        return candidate.image is not None
    used = template_placeholders(write.value)
    # A bundle promoted by one of its parts leaves the other part's values alone.
    if used & MODEL_PLACEHOLDERS - {"name"} and candidate.model is None:
        return False
    return not (used & IMAGE_PLACEHOLDERS - {"repository"} and candidate.image is None)


def plan_edits(
    pipeline: Pipeline, stage: Stage, candidate: Candidate, files: dict[str, str]
) -> list[FileEdit]:
    """Apply every write of the stage that the candidate has values for; changed files only.

    Raises EditError or TemplateError (a file that cannot take the change) and
    InvalidIdentifier (a value that is not a valid identifier).
    """
    values = candidate.values(pipeline, stage)
    texts = dict(files)
    changes: dict[str, list[Change]] = {path: [] for path in files}
    for write in stage.writes:
        if not _applies(write, candidate):
            continue
        result = _apply(write, texts[write.file], values, candidate, pipeline)
        texts[write.file] = result.text
        changes[write.file] += result.changes
    return [
        FileEdit(path, files[path], texts[path], tuple(changes[path]))
        for path in files
        if texts[path] != files[path]
    ]


def _apply(
    write: YamlWrite | KustomizeImageWrite,
    text: str,
    values: TemplateValues,
    candidate: Candidate,
    pipeline: Pipeline,
) -> EditResult:
    if isinstance(write, KustomizeImageWrite):
        assert candidate.image is not None
        pin = pipeline.image is not None and pipeline.image.pin_digest
        return set_kustomize_image(
            text,
            write.image,
            new_tag=candidate.image.tag,
            digest=candidate.image.digest if pin else None,
            source=write.file,
        )
    rendered = render(write.value, values)
    if isinstance(write, HelmWrite):
        return set_helm_value(text, write.path, rendered, source=write.file)
    return set_path(text, write.path, rendered, source=write.file)


def read_deployed(stage: Stage, files: dict[str, str]) -> Deployed:
    """Read the version, tag and digest back out of the stage's files; missing parts are None."""
    found: dict[str, str] = {}
    for write in stage.writes:
        text = files[write.file]
        if isinstance(write, KustomizeImageWrite):
            entry = f"images[name={write.image}]"
            for field, name in (("newTag", "tag"), ("digest", "digest")):
                value = _read(text, f"{entry}.{field}", write.file)
                if value is not None:
                    found.setdefault(name, value)
            continue
        current = _read(text, write.path, write.file)
        read_back = extract(write.value, current) if current is not None else None
        for name, value in (read_back or {}).items():
            found.setdefault(name, value)
    return Deployed(
        version=found.get("version"),
        run_id=found.get("run_id"),
        tag=found.get("tag"),
        digest=found.get("digest"),
    )


def _read(text: str, path: str, source: str) -> str | None:
    try:
        return get_path(text, path, source=source)
    except EditError:
        return None
