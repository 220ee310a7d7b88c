"""Run the fake GitLab standalone for demos: `python -m tests.fakegitlab --port 8766`."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from tests.fakegitlab.server import FakeGitLab

DEMO_TOKEN = "glpat-ferrybot-demo"
# Used when no --seed is given: ferrybot as a Developer on one project with an open MR.
DEFAULT_SEED: dict[str, Any] = {
    "tokens": [{"token": DEMO_TOKEN, "username": "ferrybot"}],
    "projects": [
        {
            "path": "acme/app",
            "files": {"README.md": "# app\n", "deploy/values.yaml": "image:\n  tag: v1\n"},
        }
    ],
    "members": [
        {"project": "acme/app", "username": "ferrybot", "access_level": 30},
        {"project": "acme/app", "username": "alice", "access_level": 40},
    ],
    "merge_requests": [
        {
            "project": "acme/app",
            "source_branch": "bump-image",
            "author": "alice",
            "title": "Bump image to v2",
            "files": {"deploy/values.yaml": "image:\n  tag: v2\n"},
        }
    ],
}


def apply_seed(fake: FakeGitLab, seed: dict[str, Any]) -> None:
    """Load a JSON seed: tokens, projects, members, merge_requests, trigger_tokens."""
    for token in seed.get("tokens", []):
        fake.add_token(token["token"], token["username"])
    for project in seed.get("projects", []):
        fake.add_project(
            project["path"],
            files=project.get("files"),
            default_branch=project.get("default_branch", "main"),
        )
    for member in seed.get("members", []):
        fake.add_member(member["project"], member["username"], member["access_level"])
    for mr in seed.get("merge_requests", []):
        fields = {k: v for k, v in mr.items() if k != "project"}
        fake.add_merge_request(mr["project"], **fields)
    for trigger in seed.get("trigger_tokens", []):
        fake.add_trigger_token(trigger["project"], trigger["token"])


async def serve(port: int, prefix: str, seed: dict[str, Any]) -> None:
    fake = FakeGitLab(prefix, echo_violations=True)
    apply_seed(fake, seed)
    url = await fake.start(port)
    print(f"fake GitLab at {url} (API under {url}/api/v4)", flush=True)
    for token, username in fake.state.tokens.items():
        print(f"token {token} -> {username}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--prefix", default="", help="a path prefix such as /gitlab")
    parser.add_argument("--seed", type=Path, help="a JSON seed (see DEFAULT_SEED)")
    args = parser.parse_args()
    seed = json.loads(args.seed.read_text()) if args.seed else DEFAULT_SEED
    try:
        asyncio.run(serve(args.port, args.prefix, seed))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
