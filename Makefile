# Every target sets itself up: a fresh clone needs only `make test` or `make run`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint spec-lint steps diff bench clean conformance conformance-chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/bgfetch demo

# The conformance suite's machinery (not its tests) is typed as strictly as bgfetch.
CONFORMANCE_TYPED := $(filter-out conformance/test_% conformance/chromium/test_%,\
	$(wildcard conformance/*.py conformance/chromium/*.py))

lint: $(STAMP) spec-lint
	$(BIN)/ruff check bgfetch spec_tests conformance scripts
	$(BIN)/mypy
	$(BIN)/mypy --strict $(CONFORMANCE_TYPED)

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

# Anchors, step numbers and SPEC-NOTES pointers in the code, against specs/ (scripts/spec_lint.py);
# part of `make lint`.
spec-lint: $(STAMP)
	$(BIN)/python scripts/spec_lint.py

# Which spec steps the tests pin (@pytest.mark.step), per algorithm and edition.
steps: $(STAMP)
	$(BIN)/python -m pytest --collect-only -q --collect-steps=.steps.json spec_tests conformance > /dev/null && $(BIN)/python scripts/steps_report.py .steps.json

# The spec change from the 2017-10-12 draft to today, module by module
# (scripts/edition_diff.py; `make diff DIFF=--code-only` hides comment-only changes,
# DIFF=--stat counts the changed lines).
diff:
	@$(PYTHON) scripts/edition_diff.py $(DIFF)

# docs/editions.md: the same scenarios under both spec editions, side by side.
.PHONY: docs
docs: $(STAMP)
	$(BIN)/python scripts/editions_report.py

# The conformance suite on every backend (bgfetch, Chromium) and edition: the report on
# stdout, and conformance/DIFFERENCES.md regenerated from it.  Fails only if bgfetch does.
conformance: $(STAMP)
	$(BIN)/bgfetch conformance --backend all --differences conformance/DIFFERENCES.md

# The conformance suite on a real headless Chromium (conformance/chromium/): installs
# Debian's chromium if it is missing (root, apt), checks that the backend runs, then runs
# every test there; a failing test is Chromium's finding. QUICK=--quick leaves out the
# cases that wait on Chromium's 20 s retry timers.
conformance-chromium: $(STAMP)
	scripts/install-chromium
	$(BIN)/python -m conformance.chromium
	$(BIN)/python -m pytest -q conformance --conformance-backend chromium -rfE --tb=line $(QUICK) || [ $$? -eq 1 ]

# bench/results.md and bench/results.json: bgfetch against curl, aria2c, httpx, aiohttp and
# a trio+h11 floor on a loopback nginx (installed with apt-get when missing, as aria2c is).
# Not part of `make test` or CI.  `make bench BENCH=--quick` for a short run.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) build *.egg-info
