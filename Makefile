# Kontor: every target bootstraps .venv from nothing (only python3 needed).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)/.dagster

.PHONY: setup test lint demo sandbox ui sync report bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(PY) -m ruff check .

test: setup lint
	$(PY) -m pytest

sandbox: setup
	$(PY) -m sandbox serve --host 127.0.0.1 --port 8765

clean:
	rm -rf data .dagster/storage .dagster/history .dagster/logs .dagster/schedules
