"""Run the fake GitHub standalone for demos: `python -m tests.fakegithub --port 8765`."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from tests.fakegithub.server import FakeGitHub

DEMO_TOKEN_TTL = 24 * 3600.0
# Used when no --seed is given: one app installed on one repository with an open PR.
DEFAULT_SEED: dict[str, Any] = {
    "apps": [{"id": 1, "slug": "ferrybot"}],
    "repos": [
        {
            "owner": "acme",
            "name": "app",
            "files": {"README.md": "# app\n", "deploy/values.yaml": "image:\n  tag: v1\n"},
        }
    ],
    "installations": [{"id": 1, "app_id": 1, "repos": ["acme/app"]}],
    "pulls": [
        {
            "owner": "acme",
            "repo": "app",
            "head": "bump-image",
            "files": {"deploy/values.yaml": "image:\n  tag: v2\n"},
            "title": "Bump image to v2",
        }
    ],
    "permissions": [{"owner": "acme", "repo": "app", "user": "octocat", "permission": "write"}],
}


def apply_seed(fake: FakeGitHub, seed: dict[str, Any]) -> None:
    """Load a JSON seed: apps, repos, installations, pulls, permissions, team_members, tokens."""
    for app in seed.get("apps", []):
        fake.add_app(app["id"], app["slug"])
    for repo in seed.get("repos", []):
        fake.add_repo(
            repo["owner"],
            repo["name"],
            files=repo.get("files"),
            default_branch=repo.get("default_branch", "main"),
            private=repo.get("private", False),
        )
    for installation in seed.get("installations", []):
        fake.add_installation(
            installation["id"],
            installation["app_id"],
            installation.get("repos"),
            account=installation.get("account"),
        )
    for pull in seed.get("pulls", []):
        fields = {k: v for k, v in pull.items() if k not in ("owner", "repo")}
        fake.add_pull(pull["owner"], pull["repo"], **fields)
    for grant in seed.get("permissions", []):
        fake.set_permission(grant["owner"], grant["repo"], grant["user"], grant["permission"])
    for member in seed.get("team_members", []):
        fake.add_team_member(
            member["org"], member["team"], member["user"], member.get("role", "member")
        )
    for token in seed.get("tokens", []):
        fake.add_token(
            token["value"], kind=token.get("kind", "pat"), login=token.get("login", "octocat")
        )


async def serve(port: int, seed: dict[str, Any]) -> None:
    fake = FakeGitHub(token_ttl=DEMO_TOKEN_TTL, echo_violations=True)
    apply_seed(fake, seed)
    url = await fake.start(port)
    print(f"fake GitHub listening on {url}")
    for installation in fake.state.installations.values():
        token = fake.issue_token(installation.id)
        print(f"installation {installation.id} token (24 h): {token.value}")
    for app in fake.state.apps.values():
        if app.private_key_pem:
            key_file = Path(tempfile.gettempdir()) / f"fakegithub-app-{app.id}.pem"
            key_file.write_text(app.private_key_pem)
            print(f"app {app.id} ({app.slug}) private key: {key_file}")
    print(f"try: curl -H 'Authorization: token <token>' {url}/repos/<owner>/<repo>/pulls")
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakegithub", description=__doc__)
    parser.add_argument(
        "--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port)"
    )
    parser.add_argument("--seed", type=Path, help="JSON seed file (see apply_seed for its keys)")
    args = parser.parse_args()
    seed = json.loads(args.seed.read_text()) if args.seed else DEFAULT_SEED
    try:
        asyncio.run(serve(args.port, seed))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
