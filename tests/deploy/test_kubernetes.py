"""deploy/kubernetes: both overlays render, validate strictly, and every pod is "restricted"."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version
from ruamel.yaml import YAML

from bot.cli.main import build_parser
from bot.env_names import unknown_variables
from bot.pipeline.bus import MAX_MESSAGE_BYTES
from bot.settings import Settings

KUSTOMIZE = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
OVERLAYS = ["dev", "prod"]
ROLES = {"ingress", "worker", "notifier", "reconciler", "ledger"}
CRDS = {"ServiceMonitor", "KafkaTopic"}


def _render(overlay: str) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl missing: `kubectl kustomize` renders the overlays")
    done = subprocess.run(
        ["kubectl", "kustomize", str(KUSTOMIZE / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in YAML(typ="safe").load_all(done.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """The rendered objects of one overlay."""
    return _render(request.param)


def _of(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_every_builtin_object_validates_strictly(objects: list[dict[str, Any]]) -> None:
    """kubernetes-validate --strict against the newest Kubernetes it knows, CRDs aside."""
    version = latest_version()
    for obj in objects:
        if obj["kind"] in CRDS:
            continue
        kubernetes_validate.validate(obj, version, strict=True)
    assert {o["kind"] for o in objects} >= {
        "Deployment",
        "Service",
        "ConfigMap",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        *CRDS,
    }


def test_every_role_is_a_restricted_deployment_with_probes(objects: list[dict[str, Any]]) -> None:
    """Each role: own Deployment, CLI-valid args, probes, resources, pinned image, restricted."""
    deployments = _of(objects, "Deployment")
    assert {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        for d in deployments.values()
    } == ROLES
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        mounts_by_volume = {v["name"]: v for v in pod["volumes"]}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["runAsNonRoot"] is True, name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            for path in ("/var/lib/ferrybot", "/tmp"):
                assert "emptyDir" in mounts_by_volume[mounts[path]], (name, path)
            image, _, tag = container["image"].rpartition(":")
            assert image and tag and tag != "latest" and "@" not in image, container["image"]
            assert build_parser().parse_args(container["args"]).command in ROLES
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                assert container[probe]["httpGet"]["path"] == path, (name, probe)
                assert container[probe]["httpGet"]["port"] in ports, (name, probe)
            role = container["args"][0]
            assert set(ports.values()) == {8080 if role == "ingress" else 9090}, name
            assert container["resources"]["requests"]["cpu"], name
            assert container["resources"]["limits"]["memory"], name


def test_settings_in_the_configmap_are_known_and_valid(objects: list[dict[str, Any]]) -> None:
    """The ConfigMap names only FERRYBOT_* settings ferrybot knows, each with a valid value."""
    [config] = _of(objects, "ConfigMap").values()
    data: dict[str, str] = config["data"]
    assert unknown_variables(Settings, data) == []
    Settings(**{k.removeprefix("FERRYBOT_").lower(): v for k, v in data.items()})


def test_budgets_autoscaler_and_topics_fit_together(objects: list[dict[str, Any]]) -> None:
    """A PDB per role; worker HPA ≤ partitions; four KafkaTopics with ferrybot's limits."""
    deployments = _of(objects, "Deployment")
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments.values()]
    budgets = _of(objects, "PodDisruptionBudget").values()
    covered = {
        labels["app.kubernetes.io/component"]
        for budget in budgets
        for labels in pod_labels
        if _matches(budget["spec"]["selector"]["matchLabels"], labels)
    }
    assert covered == ROLES
    [config] = _of(objects, "ConfigMap").values()
    partitions = int(config["data"]["FERRYBOT_KAFKA_PARTITIONS"])
    [hpa] = _of(objects, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "ferrybot-worker"
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= partitions
    topics = {t["spec"]["topicName"]: t for t in _of(objects, "KafkaTopic").values()}
    defaults = {
        name: Settings.model_fields[f"topic_{name}"].default
        for name in ("events", "dlq", "notifications", "audit")
    }
    assert set(topics) == set(defaults.values())
    for topic in topics.values():
        assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"]
        assert topic["spec"]["partitions"] == partitions
        assert 1 <= topic["spec"]["replicas"]
        assert topic["spec"]["config"]["max.message.bytes"] == MAX_MESSAGE_BYTES
        assert int(topic["spec"]["config"]["retention.ms"]) != 0
        assert topic["spec"]["config"]["min.insync.replicas"] <= topic["spec"]["replicas"]


def test_servicemonitor_and_networkpolicy_reach_every_metrics_port(
    objects: list[dict[str, Any]],
) -> None:
    """The ServiceMonitor's Services and ports cover every pod; the policy lets scrapes in."""
    services = _of(objects, "Service")
    [monitor] = _of(objects, "ServiceMonitor").values()
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    selected = [
        s
        for s in services.values()
        if _matches(monitor["spec"]["selector"]["matchLabels"], s["metadata"].get("labels", {}))
    ]
    endpoint_ports = {e["port"] for e in monitor["spec"]["endpoints"]}
    assert all(e["path"] == "/metrics" for e in monitor["spec"]["endpoints"])
    scraped = set()
    for deployment in _of(objects, "Deployment").values():
        template = deployment["spec"]["template"]
        [container] = template["spec"]["containers"]
        for service in selected:
            if not _matches(service["spec"]["selector"], template["metadata"]["labels"]):
                continue
            for port in service["spec"]["ports"]:
                names = {p["name"] for p in container["ports"]}
                if port["name"] in endpoint_ports and port["targetPort"] in names:
                    scraped.add(container["args"][0])
    assert scraped == ROLES
    policies = _of(objects, "NetworkPolicy")
    everyone = policies["ferrybot"]
    for labels in (
        d["spec"]["template"]["metadata"]["labels"] for d in _of(objects, "Deployment").values()
    ):
        assert _matches(everyone["spec"]["podSelector"]["matchLabels"], labels)
    assert set(everyone["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    allowed = {p["port"] for rule in everyone["spec"]["ingress"] for p in rule["ports"]}
    assert allowed >= endpoint_ports
    egress_ports = {p["port"] for rule in everyone["spec"]["egress"] for p in rule["ports"]}
    assert {53, 9092, 443} <= egress_ports
