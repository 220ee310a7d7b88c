"""Registry triggers: a tag pushed (Distribution, Harbor, Docker Hub, GitHub Packages)."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.pipeline.dispatch import on
from bot.promotion.engine import PromotionRequest, promote, record_skip
from bot.promotion.resolve import image_candidate
from bot.promotion.tagrule import tag_triggers
from schemas.envelope import Source
from schemas.registry import ImageEvent

# GitHub Packages' container registry, as pipelines name it in `image.registry`.
GHCR = "ghcr"


async def promote_image(
    ctx: Context, registry: str, repository: str, tag: str, digest: str | None
) -> None:
    """Promote `repository:tag` in every image pipeline that watches it, once confirmed."""
    for pipeline in ctx.config.pipelines:
        image = pipeline.image
        if image is None or image.registry != registry or image.repository != repository:
            continue
        stage = pipeline.stages[0]
        if not tag_triggers(image, tag):
            why = f"tag {tag} is not selected by the pipeline's semver range or tag pattern"
            await record_skip(ctx, pipeline, stage, "registry", why)
            continue
        if not stage.auto:
            why = f"{repository}:{tag} pushed; `{stage.name}` is promoted by `/promote` only"
            await record_skip(ctx, pipeline, stage, "registry", why)
            continue
        candidate = await image_candidate(ctx, pipeline, tag, digest)
        if candidate is None:
            continue
        reason = f"`{repository}:{tag}` pushed to {registry}"
        await promote(ctx, PromotionRequest(pipeline, stage, candidate, "registry", reason))


@on("manifest.push", source=Source.REGISTRY)
async def promote_pushed_tag(ctx: Context) -> None:
    """A manifest pushed under a tag; blobs, pulls, deletes and untagged pushes do nothing."""
    event = ctx.event(ImageEvent)
    if not event.is_tagged_push or event.tag is None:
        ctx.log.info("promotion.untagged_push", repository=event.repository)
        return
    await promote_image(ctx, event.registry.value, event.repository, event.tag, event.digest)


def _container_tag(payload: dict[str, Any], key: str) -> tuple[str, str, str | None] | None:
    package = payload.get(key) or {}
    version = package.get("package_version") or {}
    tag = ((version.get("container_metadata") or {}).get("tag")) or {}
    owner = (package.get("owner") or {}).get("login")
    name = package.get("name")
    if package.get("package_type", "").lower() != "container" or not tag.get("name"):
        return None
    if not isinstance(owner, str) or not isinstance(name, str) or not isinstance(tag["name"], str):
        return None
    digest = tag.get("digest") if isinstance(tag.get("digest"), str) else None
    return f"{owner.lower()}/{name.lower()}", tag["name"], digest


@on("package.published", "registry_package.published")
async def promote_github_package(ctx: Context) -> None:
    """A container published to GitHub Packages (ghcr.io)."""
    found = _container_tag(ctx.payload, ctx.envelope.event)
    if found is None:
        ctx.log.info("promotion.not_a_container_tag")
        return
    await promote_image(ctx, GHCR, *found)
