"""Pytest plugin: one real Docker registry per session; images built by umoci, pushed by skopeo."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.pipeline.broker import free_port

REGISTRY_TOKEN = "registry-token-for-tests"


@dataclass
class DockerRegistry:
    """A running `docker-registry` whose notifications go to the bot's ingress on `notify_port`.

    The notification URL is fixed when the registry starts, so every test that wants its
    deliveries runs its bot with `http_port=notify_port`; events queue while no bot listens.
    """

    port: int
    notify_port: int
    home: Path
    process: subprocess.Popen[bytes]

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the prefix of image names in this registry."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The registry API base URL."""
        return f"http://{self.host}"

    def _skopeo(self, *args: str) -> str:
        policy = self.home / "policy.json"
        done = subprocess.run(
            ["skopeo", "--policy", str(policy), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(f"skopeo {' '.join(args)}: {done.stderr}")
        return done.stdout

    def push(self, repository: str, tag: str, content: str = "hi") -> None:
        """Build a one-file image with umoci (no daemon) and push it as `repository:tag`."""
        layout = self.home / f"img-{content}"
        if not layout.exists():
            bundle = self.home / f"bundle-{content}"
            for args in (
                ["init", "--layout", str(layout)],
                ["new", "--image", f"{layout}:v"],
                ["unpack", "--rootless", "--image", f"{layout}:v", str(bundle)],
            ):
                subprocess.run(["umoci", *args], check=True, capture_output=True, timeout=60)
            (bundle / "rootfs" / "hello.txt").write_text(content + "\n")
            subprocess.run(
                ["umoci", "repack", "--image", f"{layout}:v", str(bundle)],
                check=True,
                capture_output=True,
                timeout=60,
            )
            shutil.rmtree(bundle, ignore_errors=True)
        self._skopeo(
            "copy",
            f"oci:{layout}:v",
            f"docker://{self.host}/{repository}:{tag}",
            "--dest-tls-verify=false",
        )

    def pull(self, repository: str, tag: str) -> None:
        """Copy `repository:tag` out of the registry (manifest and blob pull events)."""
        target = self.home / f"pulled-{repository.replace('/', '-')}-{tag}"
        shutil.rmtree(target, ignore_errors=True)
        self._skopeo(
            "copy",
            f"docker://{self.host}/{repository}:{tag}",
            f"oci:{target}:x",
            "--src-tls-verify=false",
        )

    def digest(self, repository: str, tag: str) -> str:
        """The manifest digest the registry serves for the tag."""
        out = self._skopeo(
            "inspect", "--tls-verify=false", f"docker://{self.host}/{repository}:{tag}"
        )
        digest: str = json.loads(out)["Digest"]
        return digest


def _config(home: Path, port: int, notify_port: int) -> Path:
    config = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(home / "data")}},
        "http": {"addr": f"127.0.0.1:{port}"},
        "notifications": {
            "endpoints": [
                {
                    "name": "ferrybot",
                    "url": f"http://127.0.0.1:{notify_port}/webhooks/registry/distribution",
                    "headers": {"Authorization": [f"Bearer {REGISTRY_TOKEN}"]},
                    "timeout": "2s",
                    "threshold": 3,
                    "backoff": "1s",
                }
            ]
        },
    }
    path = home / "config.yml"
    # JSON is YAML: no YAML writer needed for the registry's config.
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="session")
def docker_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerRegistry]:
    """One registry for the session; skipped when docker-registry, skopeo or umoci is missing."""
    skip_without_registry_tools()
    home = tmp_path_factory.mktemp("registry")
    port, notify_port = free_port(), free_port()
    with running_registry(home, _config(home, port, notify_port), port, notify_port) as registry:
        yield registry


def skip_without_registry_tools() -> None:
    """Skip the test when docker-registry, skopeo or umoci is not installed."""
    missing = [tool for tool in ("docker-registry", "skopeo", "umoci") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: `.ci/run` installs them (apt)")


@contextlib.contextmanager
def running_registry(
    home: Path, config: Path, port: int, notify_port: int
) -> Iterator[DockerRegistry]:
    """`docker-registry serve config` (listening on port) until the block ends."""
    (home / "policy.json").write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    log = (home / "registry.log").open("wb")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    registry = DockerRegistry(port, notify_port, home, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError((home / "registry.log").read_text()[-3000:]) from None
                time.sleep(0.05)
        yield registry
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
