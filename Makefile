# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install run test test-e2e test-load lint format worker sandbox clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	PORT=$(PORT) $(BIN)/relay run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The fast suite: lint, import contracts, unit/integration/security/fuzz/sandbox/upstream.
test: lint
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

# The slow suites: real gunicorn, worker, sandbox, nginx and browser processes (CI runs all
# three), split so that each stays under 12 minutes on 2 cores.
test-e2e: install
	$(BIN)/python -m pytest -m "e2e and not load" $(PYTEST_ARGS)

# Many runs under faults, across workers, web instances and accounts.
test-load: install
	$(BIN)/python -m pytest -m "e2e and load" $(PYTEST_ARGS)

# Figures into docs/benchmarks.md (about 30 min; BENCH_QUICK=1 for a smoke run of a few).
bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| echo "bench: wrk is not installed (apt-get install wrk): using the Python load generator"
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/python -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
