# ferrybot: `make run` starts the bot on an embedded broker, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ferrybot run

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot handlers schemas tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.ingress

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
