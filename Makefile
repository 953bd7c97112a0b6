# xborder — `make run` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTO_STAMP := protos/gen/.generated
PROTO_SOURCES := $(shell find protos/xborder -name '*.proto' 2>/dev/null)

.PHONY: help install protos protos-lint lint fmt typecheck test test-unit run up down bench clean

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 'setuptools<81' wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "xborder-protos.pth").write_text("$(CURDIR)/protos/gen\n$(CURDIR)\n")'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install xborder with its dev tools

$(PROTO_STAMP): $(STAMP) $(PROTO_SOURCES) scripts/protos.py
	$(PY) scripts/protos.py generate
	touch $(PROTO_STAMP)

protos: $(PROTO_STAMP) ## Generate Python code from protos/ into protos/gen/

protos-lint: $(STAMP) ## buf lint the protos (offline, on a protoc-built image)
	$(PY) scripts/protos.py lint

lint: protos ## ruff, mypy, import contracts (.importlinter), buf lint, deploy manifests
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo
	$(PY) scripts/protos.py lint
	$(PY) scripts/validate_deploy.py

fmt: $(STAMP) ## Format and auto-fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: protos ## mypy only
	$(VENV)/bin/mypy

test: protos ## Lint, then every test tier (broker/database tests skip unless reachable or XB_REQUIRE_SERVICES=1)
	$(MAKE) --no-print-directory lint
	$(VENV)/bin/pytest -q

test-unit: protos ## Unit and contract tests only (no network)
	$(VENV)/bin/pytest -q tests/unit tests/contract

run: protos ## Start the whole platform embedded (SQLite under var/, in-process bus), seeded
	$(VENV)/bin/xborder up

up: ## docker compose up (RabbitMQ, PostgreSQL, every service, worker, gateway)
	docker compose -f deploy/compose.yaml up --build -d

down: ## docker compose down
	docker compose -f deploy/compose.yaml down

bench: protos ## Run the benchmarks (figures go to docs/benchmarks.md by hand)
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean: ## Remove generated code, build output and local data (keeps .venv)
	rm -rf protos/gen build var .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
