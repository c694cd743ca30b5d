# The two commands a newcomer needs: `make install` (then `kfinstall ...`) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test test-compat lint format bench clean

install:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[test]'
	@echo "Installed. Run: . $(VENV)/bin/activate && kfinstall --help"

# Three workers on two cores, each test file on one of them (its module fixtures built once), costliest files first
# (tests/scheduling.py); `pytest` alone runs serially. Three, because the tests wait on the double's simulated delays:
# with two the suite kept 1.3-1.7 cores busy (2026-12-03, 2 cores: 1408 s with -n 2, 1254 s with -n 3, measured with
# /usr/bin/time). The 25 slowest tests are listed at the end: where the time goes.
test:
	$(BIN)/python -m pytest -n 3 --dist loadfile --durations=25

# The oldest Python with the lowest allowed dependencies, and the newest Python with the newest (.ci/compat).
test-compat:
	bash .ci/compat

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Not a test: a first install modelled (one shared link, image bytes, minikube start) on the cluster double, kfinstall
# up vs the README's loop vs the tutorial, 3 seeds at 100 Mbit/s and 1 Gbit/s (bench/README.md, bench/RESULTS.md).
bench:
	$(BIN)/python bench/run.py

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .venv-compat-* build dist .pytest_cache .ruff_cache
