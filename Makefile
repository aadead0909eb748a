# The targets behind the README's two commands. Everything installs into ./.venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint typecheck pytest openapi examples check-content clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# System tools for the browser, image and TypeScript tests: installed when root (apt-get), else their tests
# skip saying why; with CI=true a missing tool fails the run instead.
$(TEST_STAMP): pyproject.toml setup.py tools/ts/package-lock.json scripts/install-test-deps.sh | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	bash scripts/install-test-deps.sh
	touch $@

## run: set up and start the service on the embedded SQLite store (http://127.0.0.1:8000, docs at /docs)
run: $(STAMP)
	$(BIN)/ldn-kb serve --host 127.0.0.1 --port 8000

## test: set up and run every check: ruff, mypy strict (app and tests), the content checks, pytest
## (SQLite, and PostgreSQL when LDNKB_TEST_DATABASE_URL is set)
test: $(TEST_STAMP) lint typecheck check-content pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check app tests migrations $(wildcard bench)
	$(BIN)/ruff format --check app tests migrations $(wildcard bench)

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# Four workers on CI's two cores: a third of the suite's time is spent waiting (the container image build,
# servers starting, outage and timeout tests), which two more workers fill: 3 min 39-51 s against 4 min 41 s
# with two, on the same machine.
pytest: $(TEST_STAMP)
	$(BIN)/pytest -n 4 --dist loadfile -q

## check-content: the dataset as an editor's change leaves it (file:line slug field: message)
check-content: $(TEST_STAMP)
	$(BIN)/ldn-kb check-content
	@if [ -f ../shared/tools/check_identifiers.py ]; then $(PYTHON) ../shared/tools/check_identifiers.py app/content; fi

openapi: $(STAMP)
	$(BIN)/ldn-kb export-openapi --output openapi.yaml

## examples: record the OpenAPI examples from real answers, then the OpenAPI document that shows them
examples: $(STAMP)
	$(BIN)/ldn-kb build-examples
	$(BIN)/ldn-kb export-openapi --output openapi.yaml

clean:
	rm -rf $(VENV) data test-output
