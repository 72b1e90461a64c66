# Dashboards and alerting as code for LLM inference.
# `make generate` writes dashboards/ and alerts/ from inventory.yaml; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INVENTORY ?= inventory.yaml
# Parallel test processes, one per core: pytest workers (pytest-xdist) for all but the end-to-end tests, which
# share one simulated fleet and run beside them in one process; promtool test files at a time (largest first).
TEST_WORKERS ?= $(shell nproc)
# promtool is a Go program: its garbage collector runs once the heap has grown by ten times what the last collection
# left (GOGC=1000), not Go's default of once it has doubled. At the default, collecting took 15 % of its CPU on the
# example's test files, CPU the rest of `make test` waits for; its heap stays near 300 MB.
# tests/conftest.py runs promtool likewise.
PROMTOOL_ENV := GOGC=1000

.PHONY: setup generate check validate lint test test-offline test-fast golden publish demo clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

generate: setup
	$(PY) -m generator generate --inventory $(INVENTORY)

# Regenerate in memory and fail, showing the diff, when the committed output is stale.
check: setup
	$(PY) -m generator check --inventory $(INVENTORY)

# Check the committed output offline: queries, metric names, rules, alerts, dashboards.
validate: setup
	$(PY) -m generator validate --inventory $(INVENTORY)

# ruff (pyflakes, pycodestyle, bugbear, import order, py311 syntax) and mypy: pyproject.toml [tool.ruff], [tool.mypy].
lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

# The end-to-end suite's length is set by real time (scrapes, `for` durations, the 2-minute stall window), not by
# CPU: it starts first and runs beside the rest, which is niced so that its Prometheus, Alertmanager and simulator
# keep their timing. Its output is printed when it ends; `make test` fails if either part does.
test: setup
	@command -v promtool >/dev/null || { echo "promtool not found: install Debian's prometheus package (apt-get install prometheus)"; exit 1; }
	@command -v prometheus-alertmanager >/dev/null || { echo "prometheus-alertmanager not found: apt-get install prometheus-alertmanager"; exit 1; }
	@log=$$(mktemp); $(PY) -m pytest -m e2e >"$$log" 2>&1 & e2e=$$!; \
	nice -n 10 $(MAKE) --no-print-directory test-offline; offline=$$?; \
	wait $$e2e; online=$$?; echo "== end-to-end suite (ran alongside the above)"; cat "$$log"; rm -f "$$log"; \
	[ $$offline -eq 0 ] && [ $$online -eq 0 ]

# Everything but the end-to-end suite: lint, validate, the generated rules through promtool, the unit tests.
test-offline: setup lint validate
	$(PROMTOOL_ENV) promtool check rules alerts/*.rules.yaml
	ls -S alerts/tests/*.test.yaml | $(PROMTOOL_ENV) xargs -P $(TEST_WORKERS) -n 1 promtool test rules
	$(PY) -m pytest -n $(TEST_WORKERS) -m "not e2e"

# The pytest suite alone, without the end-to-end tests (which start Prometheus and Alertmanager).
test-fast: setup
	$(PY) -m pytest -n $(TEST_WORKERS) -m "not e2e"

# The simulator, Prometheus and Alertmanager on 127.0.0.1 for the example inventory; Ctrl-C stops them.
demo: setup
	$(PY) demo/run.py --inventory $(INVENTORY)

# Rewrite the golden tree under tests/golden/ from tests/golden/inventory.yaml.
golden: setup
	rm -rf tests/golden/dashboards tests/golden/alerts tests/golden/kubernetes
	$(PY) -m generator generate --inventory tests/golden/inventory.yaml --output tests/golden

# Push the generated dashboards to Grafana; configuration from GRAFANA_* environment variables.
# PUBLISH_FLAGS: --dry-run (plan and diffs), --prune (delete managed dashboards no longer generated).
publish: generate validate
	$(PY) -m generator publish --inventory $(INVENTORY) $(PUBLISH_FLAGS)

clean:
	rm -rf $(VENV) .pytest_cache
