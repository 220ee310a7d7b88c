"""Pipeline config, edits, deployed-version read-back, gate table, tag rules and refusals."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.gitops.identifiers import InvalidIdentifier
from bot.promotion.branches import parse_promotion_branch, promotion_branch
from bot.promotion.candidate import Candidate
from bot.promotion.gate import gate_result, gate_rows
from bot.promotion.markdown import cell
from bot.promotion.plan import plan_edits, read_deployed
from bot.promotion.tagrule import in_range, tag_triggers
from bot.registry.client import ImageRef
from handlers.promotion_mlflow import trigger_reason
from schemas.config import BotConfig
from schemas.mlflow import ModelVersion, VersionEventData
from schemas.pipelines import GateConfig, ImageArtifact, ModelArtifact, Pipeline
from tests.promotion.setup import DATA, gitops_text

DIGEST = "sha256:" + "b" * 64
RUN = "a" * 32


def _bundle() -> Pipeline:
    return Pipeline.model_validate(
        {
            "name": "churn",
            "model": {"name": "churn"},
            "image": {"repository": "team/app", "pin_digest": True},
            "stages": [
                {
                    "name": "staging",
                    "repo": "acme/gitops",
                    "writes": [
                        {
                            "kind": "yaml",
                            "file": "isvc.yaml",
                            "path": "spec.predictor.model.storageUri",
                            "value": "models:/{name}/{version}",
                        },
                        {
                            "kind": "kustomize",
                            "file": "kustomization.yaml",
                            "image": "reg.io/team/app",
                        },
                    ],
                }
            ],
        }
    )


def _files() -> dict[str, str]:
    return {
        "isvc.yaml": gitops_text("kserve-isvc.yaml"),
        "kustomization.yaml": gitops_text("kustomization.yaml", REGISTRY="reg.io"),
    }


def _model(version: str = "7") -> ModelVersion:
    return ModelVersion(name="churn", version=version, run_id=RUN)


def test_bundle_moves_both_parts_in_one_plan_and_reads_back() -> None:
    """A bundle candidate edits both files; the edited files read back as the new versions."""
    pipeline = _bundle()
    stage = pipeline.stages[0]
    files = _files()
    assert read_deployed(stage, files).label == "1+1.3.0"
    candidate = Candidate(model=_model(), image=ImageRef("team/app", "1.4.0", DIGEST))
    edits = plan_edits(pipeline, stage, candidate, files)
    assert [edit.path for edit in edits] == ["isvc.yaml", "kustomization.yaml"]
    after = {**files, **{edit.path: edit.new_text for edit in edits}}
    deployed = read_deployed(stage, after)
    assert (deployed.version, deployed.tag, deployed.digest) == ("7", "1.4.0", DIGEST)
    assert edits[0].new_text == files["isvc.yaml"].replace("models:/churn/1", "models:/churn/7")


def test_bundle_promoted_by_one_part_leaves_the_other_alone() -> None:
    """An image-only candidate in a bundle leaves the model's file untouched."""
    pipeline = _bundle()
    candidate = Candidate(image=ImageRef("team/app", "1.4.0", DIGEST))
    edits = plan_edits(pipeline, pipeline.stages[0], candidate, _files())
    assert [edit.path for edit in edits] == ["kustomization.yaml"]


def test_same_version_again_plans_nothing() -> None:
    """Promoting what the files already say is a no-op (no commit will be made)."""
    pipeline = _bundle()
    candidate = Candidate(model=_model("1"))
    assert plan_edits(pipeline, pipeline.stages[0], candidate, _files()) == []


@pytest.mark.parametrize(
    "version",
    ["7\nmalicious: true", "7]", "{a: b}", "1e3", "007", "-1", "７", "7\u200b", "../7"],
    ids=[
        "newline",
        "bracket",
        "flow-map",
        "float",
        "leading-zero",
        "negative",
        "fullwidth",
        "zero-width",
        "traversal",
    ],
)
def test_hostile_versions_never_reach_a_file(version: str) -> None:
    """A version from a payload that is not a plain integer is refused before any edit."""
    pipeline = _bundle()
    with pytest.raises(InvalidIdentifier):
        plan_edits(pipeline, pipeline.stages[0], Candidate(model=_model(version)), _files())


@pytest.mark.parametrize(
    "tag",
    ["1.4.0\n", "1.4.0 # x", "[1.4.0]", "1.4.0:latest", ".hidden", "1.4.0\u0430"],
    ids=["newline", "comment", "flow-seq", "colon", "dot-first", "cyrillic"],
)
def test_hostile_tags_never_reach_a_file(tag: str) -> None:
    """An image tag that is not a plain tag is refused."""
    pipeline = _bundle()
    candidate = Candidate(image=ImageRef("team/app", tag, DIGEST))
    with pytest.raises(InvalidIdentifier):
        plan_edits(pipeline, pipeline.stages[0], candidate, _files())


def _pipeline_with(**stage: Any) -> dict[str, Any]:
    write = {"kind": "yaml", "file": "a.yaml", "path": "x", "value": "models:/{name}/{version}"}
    base = {"name": "staging", "repo": "acme/gitops", "writes": [write]}
    return {"name": "p", "model": {"name": "m"}, "stages": [{**base, **stage}]}


@pytest.mark.parametrize(
    ("stage", "words"),
    [
        (
            {
                "writes": [
                    {"kind": "yaml", "file": "../secrets.yaml", "path": "x", "value": "{version}"}
                ]
            },
            "..",
        ),
        (
            {
                "writes": [
                    {"kind": "yaml", "file": "/etc/passwd", "path": "x", "value": "{version}"}
                ]
            },
            "absolute",
        ),
        (
            {
                "writes": [
                    {"kind": "yaml", "file": ".git/config", "path": "x", "value": "{version}"}
                ]
            },
            ".git",
        ),
        (
            {"writes": [{"kind": "yaml", "file": "a.yaml", "path": "x", "value": "{version}\n"}]},
            "template",
        ),
        (
            {"writes": [{"kind": "yaml", "file": "a.yaml", "path": "x", "value": "fixed"}]},
            "placeholder",
        ),
        ({"writes": [{"kind": "yaml", "file": "a.yaml", "path": "x", "value": "{tag}"}]}, "image"),
        ({"writes": [{"kind": "kustomize", "file": "k.yaml", "image": "team/app"}]}, "image"),
        ({"name": "Prod"}, "stage name"),
        ({"name": "prod\n"}, "line break"),
        ({"repo": "acme/../x"}, "owner/name"),
        ({"branch": "main\n"}, "branch"),
        ({"reviewers": ["al ice"]}, "login"),
    ],
    ids=[
        "traversal",
        "absolute",
        "dot-git",
        "newline-template",
        "no-placeholder",
        "tag-without-image",
        "kustomize-without-image",
        "capital-stage",
        "newline-stage",
        "repo-traversal",
        "branch-newline",
        "bad-login",
    ],
)
def test_config_refuses_unsafe_pipelines(stage: dict[str, Any], words: str) -> None:
    """Paths, names and templates in the config are validated when the config loads."""
    with pytest.raises(ValidationError) as refused:
        BotConfig.model_validate({"pipelines": [_pipeline_with(**stage)]})
    assert words in str(refused.value)


def test_config_refuses_repeated_names() -> None:
    """Pipeline names and stage names are unique."""
    one = _pipeline_with()
    with pytest.raises(ValidationError):
        BotConfig.model_validate({"pipelines": [one, one]})
    two_stages = {**one, "stages": one["stages"] * 2}
    with pytest.raises(ValidationError):
        BotConfig.model_validate({"pipelines": [two_stages]})


@pytest.mark.parametrize(
    "ref",
    [
        "ferrybot/promote/churn/staging/extra",
        "ferrybot/promote/Churn/staging",
        "ferrybot/promote/churn",
        "feature/x",
        "ferrybot/promote/churn/stag\u0456ng",
    ],
)
def test_only_exact_promotion_branches_parse(ref: str) -> None:
    """A branch that only looks like a promotion branch names no pipeline."""
    assert parse_promotion_branch(ref) is None


def test_promotion_branch_round_trips() -> None:
    """The branch names the pipeline and stage and parses back."""
    assert parse_promotion_branch(promotion_branch("churn", "prod")) == ("churn", "prod")


GATE = GateConfig.model_validate(
    {
        "thresholds": {"accuracy": {"min": 0.85}, "latency_ms": {"max": 50}},
        "not_worse_than_current": [
            {"metric": "accuracy", "margin": 0.01},
            {"metric": "latency_ms", "higher_is_better": False, "margin": 5},
        ],
    }
)


@pytest.mark.parametrize(
    ("candidate", "current", "failing"),
    [
        ({"accuracy": 0.9, "latency_ms": 40}, {"accuracy": 0.9, "latency_ms": 40}, []),
        ({"accuracy": 0.895, "latency_ms": 44}, {"accuracy": 0.9, "latency_ms": 40}, []),
        ({"accuracy": 0.88, "latency_ms": 40}, {"accuracy": 0.9, "latency_ms": 40}, ["accuracy"]),
        ({"accuracy": 0.8, "latency_ms": 60}, None, ["accuracy", "latency_ms"]),
        ({"accuracy": 0.9, "latency_ms": 46}, {"accuracy": 0.9, "latency_ms": 40}, ["latency_ms"]),
        ({"latency_ms": 40}, {"accuracy": 0.9, "latency_ms": 40}, ["accuracy", "accuracy"]),
        ({"accuracy": 0.9, "latency_ms": 40}, None, []),
    ],
    ids=[
        "equal",
        "within-margin",
        "worse-than-current",
        "below-thresholds",
        "slower",
        "metric-not-logged",
        "nothing-deployed",
    ],
)
def test_gate_rows(
    candidate: dict[str, float], current: dict[str, float] | None, failing: list[str]
) -> None:
    """Thresholds and not-worse-than-current, with margins, in both directions."""
    rows = gate_rows(GATE, candidate, current)
    assert [row.metric for row in rows if not row.passed] == failing


def test_gate_result_is_a_table_that_fails() -> None:
    """A failing gate is a check failure whose summary is a Markdown table."""
    rows = gate_rows(GATE, {"accuracy": 0.8, "latency_ms": 40}, {"accuracy": 0.9, "latency_ms": 40})
    result = gate_result(rows, "7", "3")
    assert result.conclusion.value == "failure"
    assert result.summary.startswith("| metric | candidate (v7) | rule | current (v3) | result |")
    assert "| accuracy | 0.8 | ≥ 0.85 | — | ❌ fail |" in result.summary


@pytest.mark.parametrize(
    ("tag", "constraint", "expected"),
    [
        ("1.4.0", ">=1.0.0", True),
        ("v1.4.0", ">=1.0.0", True),
        ("0.9.9", ">=1.0.0", False),
        ("2.0.0", ">=1.0.0,<2", False),
        ("1.10.0", ">1.9", True),
        ("1.4.0-rc1", ">=1.0.0", False),
        ("latest", ">=1.0.0", False),
        ("1.4", ">=1.0.0", False),
    ],
)
def test_semver_ranges(tag: str, constraint: str, expected: bool) -> None:
    """Numeric, not lexical, comparison; pre-releases and non-semver tags never match."""
    assert in_range(tag, constraint) is expected


def test_tag_pattern() -> None:
    """A regular expression selects tags too (fully matched)."""
    image = ImageArtifact(repository="team/app", tag_pattern=r"main-[0-9a-f]{7}")
    assert tag_triggers(image, "main-abc1234") and not tag_triggers(image, "main-abc1234-dirty")


@pytest.mark.parametrize(
    "text",
    ["a|b", "`rm`", "<script>", "@admins", "line\nbreak", "\u202eevil"],
)
def test_markdown_cell_shows_text_without_interpreting_it(text: str) -> None:
    """MLflow tags in a PR body cannot break the table, inject HTML or mention people."""
    shown = cell(text)
    assert "\n" not in shown and "<" not in shown and "`" not in shown and "\u202e" not in shown
    assert "|" not in shown.replace("\\|", "") and "@a" not in shown


MANIFESTS = DATA / "manifests"


@pytest.mark.parametrize(
    ("manifest", "write", "candidate", "old", "new"),
    [
        (
            "seldon-deployment.yaml",
            {
                "path": "spec.predictors[name=canary].graph.modelUri",
                "value": "s3://ml-models/{name}/{version}",
            },
            Candidate(model=_model("9")),
            "'s3://ml-models/churn/8'",
            "'s3://ml-models/churn/9'",
        ),
        (
            "deployment.yaml",
            {
                "path": "spec.template.spec.containers[name=api].image",
                "value": "ghcr.io/{repository}:{tag}",
            },
            Candidate(image=ImageRef("acme/api", "1.5.0", DIGEST)),
            "image: ghcr.io/acme/api:1.4.0\n          ports",
            "image: ghcr.io/acme/api:1.5.0\n          ports",
        ),
    ],
    ids=["seldon-canary", "deployment-container"],
)
def test_real_manifest_shapes_change_only_the_value(
    manifest: str, write: dict[str, str], candidate: Candidate, old: str, new: str
) -> None:
    """Through the pipeline config, only the targeted value changes; comments and anchors stay."""
    text = (MANIFESTS / manifest).read_text(encoding="utf-8")
    kind = "model" if candidate.model is not None else "image"
    artifact = {"name": "churn"} if kind == "model" else {"repository": "acme/api"}
    pipeline = Pipeline.model_validate(
        {
            "name": "p",
            kind: artifact,
            "stages": [
                {
                    "name": "s",
                    "repo": "acme/gitops",
                    "writes": [{"kind": "yaml", "file": manifest, **write}],
                }
            ],
        }
    )
    edits = plan_edits(pipeline, pipeline.stages[0], candidate, {manifest: text})
    assert [e.new_text for e in edits] == [text.replace(old, new, 1)]


@pytest.mark.parametrize(
    ("event", "data", "triggers"),
    [
        ("model_version_alias.created", {"alias": "champion"}, True),
        ("model_version_alias.created", {"alias": "challenger"}, False),
        ("model_version_tag.set", {"key": "validation", "value": "passed"}, True),
        ("model_version_tag.set", {"key": "validation", "value": "failed"}, False),
        ("model_version.created", {}, False),
    ],
    ids=["alias", "other-alias", "tag", "tag-other-value", "created-not-configured"],
)
def test_mlflow_trigger_rules(event: str, data: dict[str, str], triggers: bool) -> None:
    """Only the configured alias or tag (key and value) triggers; new versions only when asked."""
    model = ModelArtifact(name="churn", alias="champion", tag={"validation": "passed"})
    parsed = VersionEventData.model_validate({"name": "churn", "version": "7", **data})
    assert (trigger_reason(model, event, parsed) is not None) is triggers
