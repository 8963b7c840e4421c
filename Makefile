# Every target sets itself up: a fresh clone needs only `make test` or `make run`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/bgfetch demo

lint: $(STAMP)
	$(BIN)/ruff check bgfetch spec_tests conformance scripts
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

# docs/editions.md: the same scenarios under both spec editions, side by side.
.PHONY: docs
docs: $(STAMP)
	$(BIN)/python scripts/editions_report.py

clean:
	rm -rf $(VENV) build *.egg-info
