# Beacon — the two front-door commands are `make run` and `make test`; everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV   := .venv
PY     := $(VENV)/bin/python
RASA   := $(VENV)/bin/rasa
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock.txt requirements.txt 2>/dev/null | sha1sum | cut -c1-12)
export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Python 3.10 is required by Rasa 3.6: python3.10 on PATH, else a pyenv-installed 3.10.
PYTHON310 := $(shell for c in python3.10 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10*/bin/python3.10 2>/dev/null) /usr/bin/python3.10 /usr/local/bin/python3.10; do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then command -v $$c; break; fi; done)

.PHONY: help run test venv train check-content report purge bench load shell validate lint audit clean

help:
	@echo "make run    - set up (first time), train if data changed, start Beacon on 127.0.0.1"
	@echo "make test   - set up, validate data, check content, run the whole test suite"
	@echo "others: train, check-content, report, purge, bench, shell, lint"

$(STAMP): requirements.lock.txt requirements.txt
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "ERROR: Python 3.10 not found. Rasa 3.6 needs exactly Python 3.10."; \
	  echo "Install it (e.g. 'apt install python3.10 python3.10-venv', 'pyenv install 3.10', or python.org) and retry."; \
	  exit 1; fi
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON310)"; $(PYTHON310) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==24.2
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock.txt
	$(PY) -m tools.stack install-defaults >/dev/null
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP)

train: venv
	$(PY) -m tools.stack train

run: venv
	$(PY) -m tools.stack run

validate: venv
	$(RASA) data validate --fail-on-warnings

check-content: venv
	$(PY) -m tools.check_content

test: venv
	$(PY) -m tools.stack train
	$(RASA) data validate --fail-on-warnings
	$(PY) -m tools.check_content
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -c bandit.yml -r actions channels components tools
	$(PY) -m pytest
	$(RASA) test core --stories tests/stories --model $$($(PY) -m tools.stack model) --fail-on-prediction-errors --out results/core

report: venv
	$(PY) -m tools.report

purge: venv
	$(PY) -m tools.purge

bench: venv
	$(PY) -m bench.latency

load: venv
	BEACON_LOAD_TURNS=20 $(PY) -m pytest tests/integration/test_load_ordering.py -s

shell: venv train
	$(RASA) shell --model $$($(PY) -m tools.stack model)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -c bandit.yml -r actions channels components tools

# pip-audit needs a newer `packaging` than Rasa 3.6 allows, so it lives in its own venv.
audit:
	@test -x .venv-audit/bin/pip-audit || { python3 -m venv .venv-audit && .venv-audit/bin/pip install --quiet pip-audit==2.7.3; }
	.venv-audit/bin/pip-audit -r requirements.lock.txt --no-deps --disable-pip

clean:
	rm -rf models results .pytest_cache
