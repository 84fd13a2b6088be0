# Kontor: every target bootstraps .venv from nothing (only python3 needed).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)/.dagster
# pytest-xdist workers for `make test` (whole test files; a dbt target folder each, tests/conftest.py);
# TEST_WORKERS=0 runs the suite in this one process
TEST_WORKERS ?= 2

.PHONY: setup browser test lint typecheck docs demo demo-ui sandbox ui sync sql report bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

lint: setup  ## ruff, sqlfluff on the dbt models (jinja templater: no database needed), mypy
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/sqlfluff lint transforms/models transforms/tests --disable-progress-bar --nocolor
	$(PY) -m mypy

typecheck: setup  ## mypy on core/, pipelines/, assets/, transforms/ (configuration in pyproject.toml; part of lint)
	$(PY) -m mypy

docs: setup  ## regenerate docs/data-dictionary.md from the dbt YAML beside the models
	$(PY) -m transforms.dictionary

# The browser check of the Dagster UI (tests/test_browser_check.py) needs a Chromium: Debian's package where
# this runs as root with apt (CI, fresh machines); elsewhere the test skips with one loud line.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 && \
	  echo "installed Debian's chromium for the browser check"; } || \
	  echo "no chromium: the browser check of the Dagster UI will skip (apt-get install chromium)"

test: setup lint browser
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

sandbox: setup
	$(PY) -m sandbox serve --host 127.0.0.1 --port 8765

# The sandbox's demo key (not a secret); real tenants set their own variables named in kontor.yaml.
sync ui: export KONTOR_DEMO_API_KEY ?= sandbox-demo-key

sync: setup  ## headless incremental sync of every tenant in kontor.yaml (ARGS="--mode full" etc.), then the models
	@$(PY) -m pipelines.cli sync $(ARGS) || { echo "make sync: the sync failed (see the lines above); models not rebuilt" >&2; exit 1; }
	$(VENV)/bin/dagster job execute -j kontor_transform -m assets.definitions -d $(CURDIR)

ui: setup  ## Dagster UI + daemon on http://127.0.0.1:3000 (HOST=, PORT=) and the webhook receiver on :8766 (RECEIVER_PORT=)
	$(PY) -m pipelines.lexware.receiver --host $(or $(HOST),127.0.0.1) --port $(or $(RECEIVER_PORT),8766) & \
	receiver=$$!; trap 'kill $$receiver' EXIT INT TERM; \
	$(VENV)/bin/dagster dev -w workspace.yaml --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),3000)

bench: setup  ## every benchmark in bench/ (prints figures; bench_sync runs at the real 2 req/s)
	@for f in bench/bench_*.py; do echo "### $$f"; $(PY) $$f || exit 1; done

demo: setup  ## the whole chain against the sandbox, through Dagster, with a summary (python -m demo --help)
	$(PY) -m demo $(ARGS)

sql: setup  ## SQL console (Harlequin), read-only: the analysts' snapshot, or the PostgreSQL warehouse (ARGS="--warehouse FILE")
	$(PY) -m kontor sql $(ARGS)

demo-ui: setup  ## after `make demo`: Dagster UI with the demo's sandbox back (same books, port) and keys set
	$(PY) -m demo.ui $(ARGS)

report: setup  ## PNG charts + HTML page from the marts (python -m report --help)
	$(PY) -m report $(ARGS)

clean:
	rm -rf data .dagster/storage .dagster/history .dagster/logs .dagster/schedules transforms/target
