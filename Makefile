# ferrybot: `make run` starts the bot on an embedded broker, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# MLflow lives in its own virtualenv: the bot talks to it over REST only and never imports it.
MLFLOW_VENV  := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed

.PHONY: run test lint bench lock clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(MLFLOW_STAMP):
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install --quiet 'mlflow>=3,<4'
	touch $(MLFLOW_STAMP)

run: $(STAMP)
	$(BIN)/ferrybot run

test: $(STAMP) $(MLFLOW_STAMP)
	FERRYBOT_TEST_MLFLOW=$(CURDIR)/$(MLFLOW_VENV)/bin/mlflow $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot handlers schemas tests
	$(BIN)/mypy

# deploy/requirements.lock: the image's runtime dependencies at .venv's versions, with hashes.
lock: $(STAMP)
	$(BIN)/python scripts/lock.py

# Every figure of issue 10 in one run (Probot 14 comes from npm into bench/.probot); writes
# bench/results.json, from which scripts/bench_table.py regenerates the README's table.
bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python scripts/bench_table.py

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) .pytest_cache .mypy_cache .ruff_cache
