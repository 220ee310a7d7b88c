"""deploy/compose.yaml: every role, real Kafka, and only settings ferrybot knows, never empty."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot.cli.main import build_parser
from bot.env_names import unknown_variables
from bot.pipeline.bus import MAX_MESSAGE_BYTES
from bot.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE: dict[str, Any] = YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ROLES = {"ingress", "worker", "notifier", "reconciler", "ledger"}
# `${VAR:?message}`: compose stops with the message when VAR is unset or empty.
_REQUIRED = re.compile(r"\$\{(\w+):\?[^}]+\}")


def _ferrybot_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in SERVICES.items() if s.get("image") == "ferrybot:local"}


def test_every_role_runs_from_the_image_with_a_valid_command() -> None:
    """ingress, worker ×2, notifier, reconciler and ledger (one each), commands the CLI takes."""
    services = _ferrybot_services()
    commands = {name: service["command"] for name, service in services.items()}
    assert set(commands) == ROLES
    for name, command in commands.items():
        assert build_parser().parse_args(command).command == name
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "deploy" not in services["reconciler"]  # one poller, never scaled
    assert "deploy" not in services["ledger"]  # one projector
    healthy = {"condition": "service_healthy"}
    for service in services.values():
        assert service["depends_on"] == {"kafka": healthy, "postgres": healthy}
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"


def test_environment_names_only_known_settings_and_none_is_empty() -> None:
    """A misspelt, empty or empty-when-unset (`${X:-}`, `${X}`) variable fails the test."""
    for name, service in _ferrybot_services().items():
        environment: dict[str, Any] = service.get("environment", {})
        assert unknown_variables(Settings, environment) == [], name
        resolved = {}
        for variable, value in environment.items():
            assert isinstance(value, str) and value.strip(), f"{name}: {variable} is empty"
            for referenced in _REQUIRED.findall(value):
                assert unknown_variables(Settings, {referenced: "x"}) == [], referenced
            rest = _REQUIRED.sub("", value)
            assert "$" not in rest, f"{name}: {variable} may be empty when unset: {value}"
            resolved[variable] = _REQUIRED.sub("placeholder-value", value)
        # The values given are valid settings, not just known names.
        Settings(**{k.removeprefix("FERRYBOT_").lower(): v for k, v in resolved.items()})
        assert service["env_file"] == [{"path": "ferrybot.env", "required": False}]


def test_the_env_example_lists_only_known_settings() -> None:
    """Each `# FERRYBOT_NAME=value` line of ferrybot.env.example names a setting, with a value."""
    lines = (DEPLOY / "ferrybot.env.example").read_text().splitlines()
    examples = dict(
        line.removeprefix("# ").split("=", 1) for line in lines if line.startswith("# FERRYBOT_")
    )
    assert examples
    assert unknown_variables(Settings, examples) == []
    assert all(value.strip() for value in examples.values())


def test_kafka_is_a_kraft_node_taking_ferrybots_message_size() -> None:
    """apache/kafka in KRaft mode (broker and controller), 32 MB messages, healthchecked."""
    kafka = SERVICES["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) >= MAX_MESSAGE_BYTES
    assert int(env["KAFKA_REPLICA_FETCH_MAX_BYTES"]) >= MAX_MESSAGE_BYTES
    assert kafka["healthcheck"]["test"]
    bootstrap = {
        s["environment"]["FERRYBOT_KAFKA_BOOTSTRAP_SERVERS"] for s in _ferrybot_services().values()
    }
    assert bootstrap == {env["KAFKA_ADVERTISED_LISTENERS"].removeprefix("PLAINTEXT://")}


def test_monitoring_profile_mounts_files_that_exist() -> None:
    """Prometheus and Grafana only in the `monitoring` profile; each bind mount exists."""
    for name in ("prometheus", "grafana"):
        assert SERVICES[name]["profiles"] == ["monitoring"]
        for volume in SERVICES[name]["volumes"]:
            source = volume.split(":", 1)[0]
            assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is missing"


def test_prometheus_config_is_valid_and_scrapes_every_role() -> None:
    """promtool accepts prometheus.yml; it scrapes each role on the port that serves /metrics."""
    config_path = DEPLOY / "compose-monitoring" / "prometheus.yml"
    config = YAML(typ="safe").load(config_path.read_text())
    http_port = Settings.model_fields["http_port"].default
    scraped = {
        sd["names"][0]: sd["port"]
        for job in config["scrape_configs"]
        for sd in job["dns_sd_configs"]
    }
    assert scraped == {role: http_port if role == "ingress" else 9090 for role in ROLES}
    if shutil.which("promtool") is None:
        pytest.skip("promtool missing: `.ci/run` installs Debian's prometheus package")
    check = subprocess.run(
        ["promtool", "check", "config", "--syntax-only", str(config_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
