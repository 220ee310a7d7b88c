"""Retraining on GitLab: markers as annotated tags, training as a pipeline with variables."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from gidgetlab.abc import GitLabAPI
from gidgetlab.exceptions import BadRequest

from bot.evaluation.dispatch import TrainingRequest
from bot.evaluation.markers import MARKER_HEADER, Marker, parse_marker
from bot.forges.gitlab.subjects import project_path
from bot.pipeline.retry import PermanentError
from schemas.evaluation import RetrainConfig


def pipeline_variables(request: TrainingRequest) -> list[dict[str, str]]:
    """What the training pipeline is told, as CI/CD variables (values are data, never YAML)."""
    values = {
        "FERRYBOT_MODEL": request.model,
        "FERRYBOT_VERSION": request.version,
        "FERRYBOT_ALERT": request.alert,
        "FERRYBOT_LINK": request.link,
        "FERRYBOT_PIPELINE": request.pipeline,
        "FERRYBOT_STAGE": request.stage,
        "FERRYBOT_EPISODE": request.episode,
    }
    return [{"key": k, "value": v, "variable_type": "env_var"} for k, v in values.items()]


class GitLabTraining:
    """The training project on GitLab, through ferrybot's token.

    A marker is an annotated tag whose message holds the JSON: tags live in GitLab, not in
    this process, so a restart or a second worker sees what was dispatched and when.
    """

    def __init__(self, gl: GitLabAPI, config: RetrainConfig) -> None:
        self._gl = gl
        self._config = config
        self._api = f"/projects/{project_path(config.repo)}"

    async def read_marker(self, name: str) -> Marker | None:
        """The marker in the tag `name`, or None when there is no such tag."""
        try:
            tag = await self._gl.getitem(f"{self._api}/repository/tags/{quote(name, safe='')}")
        except BadRequest as exc:
            if int(exc.status_code) == 404:
                return None
            raise
        return parse_marker(str(tag.get("message") or ""), f"{self._config.repo}: the tag {name}")

    async def write_marker(self, names: list[str], marker: Marker) -> None:
        """Each tag replaced by one on the head of `ref` carrying the marker.

        GitLab cannot move a tag: it is deleted and created again, so a crash in between loses
        that marker, which at worst lets one more training start (never none).
        """
        head = await self._head()
        message = f"{MARKER_HEADER}: {marker.pipeline} {marker.episode}\n\n"
        message += json.dumps(asdict(marker))
        for name in names:
            try:
                await self._gl.delete(f"{self._api}/repository/tags/{quote(name, safe='')}")
            except BadRequest as exc:
                if int(exc.status_code) != 404:
                    raise
            await self._gl.post(
                f"{self._api}/repository/tags",
                data={"tag_name": name, "ref": head, "message": message},
            )

    async def dispatch(self, request: TrainingRequest) -> str:
        """A pipeline on `ref` with the FERRYBOT_* variables; its web URL."""
        created: Any = await self._gl.post(
            f"{self._api}/pipeline",
            data={"ref": self._config.ref, "variables": pipeline_variables(request)},
        )
        return str(created.get("web_url", "")) if isinstance(created, dict) else ""

    async def _head(self) -> str:
        branch = quote(self._config.ref, safe="")
        try:
            found = await self._gl.getitem(f"{self._api}/repository/branches/{branch}")
        except BadRequest as exc:
            if int(exc.status_code) == 404:
                raise PermanentError(
                    f"{self._config.repo} has no branch {self._config.ref}; fix `retrain.ref`"
                ) from None
            raise
        return str(found["commit"]["id"])
