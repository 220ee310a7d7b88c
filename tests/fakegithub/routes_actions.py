"""Routes that start workflows: workflow_dispatch (inputs checked against the file) and
repository_dispatch; each accepted one is recorded in `state.dispatches`."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tests.fakegithub.queries import resolve_ref
from tests.fakegithub.routing import NOT_FOUND, ApiRequest, GitHubError, Reply, RouteTable
from tests.fakegithub.state import Dispatch

routes = RouteTable()


def _declared_inputs(req: ApiRequest, workflow: str) -> dict[str, Any]:
    """`on.workflow_dispatch.inputs` of the workflow file on the default branch, or 404/422."""
    repo = req.repo()
    head = resolve_ref(req.state, repo, repo.default_branch)
    text = None
    if head is not None:
        git = req.state.git
        entry = git.lookup(git.commits[head].tree, f".github/workflows/{workflow}")
        text = git.blobs[entry.sha].decode() if entry is not None else None
    if text is None:
        raise GitHubError(404, NOT_FOUND)
    try:
        loaded = YAML(typ="safe").load(text) or {}
    except YAMLError:
        raise GitHubError(422, "Workflow does not have 'workflow_dispatch' trigger") from None
    # YAML 1.1 reads the key `on` as True; GitHub reads it as the trigger list.
    triggers = loaded.get("on", loaded.get(True))
    if not isinstance(triggers, dict) or "workflow_dispatch" not in triggers:
        raise GitHubError(422, "Workflow does not have 'workflow_dispatch' trigger")
    declared = (triggers.get("workflow_dispatch") or {}).get("inputs") or {}
    return dict(declared)


@routes("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches")
def create_workflow_dispatch(req: ApiRequest) -> Reply:
    repo = req.repo()
    workflow = str(req.path["workflow_id"])
    declared = _declared_inputs(req, workflow)
    ref = req.body["ref"]
    if resolve_ref(req.state, repo, ref) is None:
        raise GitHubError(422, f"No ref found for: {ref}")
    inputs = dict(req.body.get("inputs") or {})
    unexpected = sorted(set(inputs) - set(declared))
    if unexpected:
        raise GitHubError(422, f"Unexpected inputs provided: {unexpected}")
    missing = sorted(
        name
        for name, spec in declared.items()
        if isinstance(spec, dict) and spec.get("required") and name not in inputs
    )
    if missing:
        raise GitHubError(422, f"Required input '{missing[0]}' not provided")
    for name, value in inputs.items():
        if not isinstance(value, str | int | float | bool):
            raise GitHubError(422, f"Input '{name}' must be a string, number or boolean")
    run_id = req.state.next_id()
    req.state.dispatches.append(
        Dispatch(run_id, repo.full_name, "workflow_dispatch", req.login, workflow, ref, inputs)
    )
    if not req.body.get("return_run_details"):
        return Reply(204, None)
    return Reply(
        200,
        {
            "workflow_run_id": run_id,
            "run_url": f"{req.base_url}/repos/{repo.full_name}/actions/runs/{run_id}",
            "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run_id}",
        },
    )


@routes("POST /repos/{owner}/{repo}/dispatches")
def create_repository_dispatch(req: ApiRequest) -> Reply:
    repo = req.repo()
    dispatch = Dispatch(
        req.state.next_id(),
        repo.full_name,
        "repository_dispatch",
        req.login,
        event_type=req.body["event_type"],
        client_payload=dict(req.body.get("client_payload") or {}),
    )
    req.state.dispatches.append(dispatch)
    return Reply(204, None)
