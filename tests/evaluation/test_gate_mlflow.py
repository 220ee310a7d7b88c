"""Gate rules over params and tags read from a real MLflow: what the engine passes to CEL."""

from __future__ import annotations

import aiohttp

from bot.mlflow.client import MlflowClient
from bot.promotion.gate import VersionFacts, gate_rows
from schemas.pipelines import GateConfig
from tests.support.mlflow import MlflowServer

MODEL = "gate_params"


async def test_rules_read_params_and_tags_from_mlflow(mlflow_server: MlflowServer) -> None:
    """A run's params and a version's tags, as MLflow's REST API has them, decide the rules."""
    mlflow_server.create_model(MODEL)
    version = mlflow_server.create_version(MODEL, {"accuracy": 0.9})
    found = mlflow_server.call("GET", f"model-versions/get?name={MODEL}&version={version}")
    run_id = found["model_version"]["run_id"]
    mlflow_server.call(
        "POST", "runs/log-parameter", {"run_id": run_id, "key": "optimizer", "value": "adam"}
    )
    mlflow_server.call(
        "POST",
        "model-versions/set-tag",
        {"name": MODEL, "version": version, "key": "validation", "value": "passed"},
    )
    gate = GateConfig.model_validate(
        {
            "rules": [
                {"name": "adam", "expr": 'candidate.params.optimizer == "adam"'},
                {"name": "validated", "expr": 'candidate.tags.validation == "passed"'},
                {"name": "sgd", "expr": 'candidate.params.optimizer == "sgd"'},
            ]
        }
    )
    async with aiohttp.ClientSession() as session:
        mlflow = MlflowClient(session, mlflow_server.url)
        model = await mlflow.model_version(MODEL, version)
        assert model is not None
        facts = VersionFacts(
            version,
            await mlflow.run_metrics(run_id),
            await mlflow.run_params(run_id),
            model.tag_map,
        )
    rows = gate_rows(gate, facts, None, "prod", "p")
    assert [(row.metric, row.passed) for row in rows] == [
        ("adam", True),
        ("validated", True),
        ("sgd", False),
    ]
