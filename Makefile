# One task runner: README.md and .ci/run call these targets verbatim.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK := bash deploy/local/stack.sh

.PHONY: setup tools demo test check unit integration faults stack-start stack-stop stack-status schemas clean

# The virtual environment is rebuilt when the dependencies change.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $@

## setup: virtual environment, Python packages, Kafka jars and PostgreSQL (what a fresh machine lacks)
setup: $(VENV)/.installed
	$(STACK) install
	bash deploy/observability/promtool.sh

## tools: helm, pinned in deploy/tools/go.mod (go.sum verifies it), built with Go into .venv/bin
## for the chart test (tests/unit/test_deploy.py); about two minutes of compiling the first time
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
tools: $(BIN)/helm

$(BIN)/helm: deploy/tools/go.mod deploy/tools/go.sum | $(VENV)/.installed
	cd deploy/tools && $(GO) build -o $(abspath $(BIN))/helm helm.sh/helm/v3/cmd/helm

## demo: the whole pipeline on this machine: stack, three services, sample signals, a bundle
demo: setup
	$(BIN)/seinpost demo

## test: static checks, then unit and integration tests against the real Kafka and PostgreSQL
test: setup tools check
	$(STACK) start
	$(BIN)/pytest --durations=10

## check: ruff, mypy, import boundaries, JSON Schemas, intake's OpenAPI and the AsyncAPI document in step with the code
check: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m schemas.export --check
	$(BIN)/python -m services.intake.openapi --check
	$(BIN)/python -m services.asyncapi --check

unit: $(VENV)/.installed tools
	$(BIN)/pytest tests/unit

integration: setup
	$(STACK) start
	$(BIN)/pytest tests/integration

## faults: only the fault tests (they start, kill and stop their own stack in .local/faults)
faults: setup
	$(BIN)/pytest tests/faults -m faults

stack-start:
	$(STACK) start

stack-stop:
	$(STACK) stop

stack-status:
	$(STACK) status

## schemas: regenerate schemas/jsonschema from the models
schemas: $(VENV)/.installed
	$(BIN)/python -m schemas.export

clean:
	$(STACK) stop || true
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
