# The targets behind the README's two commands. Everything installs into ./.venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint typecheck pytest openapi clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml tools/ts/package-lock.json scripts/install-test-deps.sh | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	bash scripts/install-test-deps.sh
	touch $@

## run: set up and start the service on the embedded SQLite store (http://127.0.0.1:8000, docs at /docs)
run: $(STAMP)
	$(BIN)/ldn-kb serve --host 127.0.0.1 --port 8000

## test: set up and run every check: ruff, mypy strict, pytest (SQLite, and PostgreSQL when configured)
test: $(TEST_STAMP) lint typecheck pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check app tests migrations $(wildcard bench)
	$(BIN)/ruff format --check app tests migrations $(wildcard bench)

typecheck: $(TEST_STAMP)
	$(BIN)/mypy app

pytest: $(TEST_STAMP)
	$(BIN)/pytest -n 2 --dist loadfile -q

openapi: $(STAMP)
	$(BIN)/ldn-kb export-openapi --output openapi.yaml

clean:
	rm -rf $(VENV) data test-output
