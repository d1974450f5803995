# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test bench browser lint clean

# The stamps re-run pip only when the dependency list changes.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-app: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-app

## run: install, migrate the SQLite database, seed demo data, serve on $(HOST):$(PORT)
run: export PORTAL_ENV ?= development
run: export PORTAL_BASE_URL ?= http://$(HOST):$(PORT)
run: $(VENV)/.installed-app
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: install what the tests need (Chromium included where possible) and run them all
test: $(VENV)/.installed-test browser
	$(BIN)/pytest $(PYTEST_ARGS)

## bench: the benchmarks in bench/, each printing medians and ratios measured in one run
bench: $(VENV)/.installed-test
	cd bench && ../$(BIN)/python search.py
	cd bench && ../$(BIN)/python import_centres.py
	cd bench && ../$(BIN)/python import_lock.py
	cd bench && ../$(BIN)/python account_requests.py
	cd bench && ../$(BIN)/python resources.py
	cd bench && ../$(BIN)/python entries.py
	cd bench && ../$(BIN)/python releases.py
	cd bench && ../$(BIN)/python reports.py

browser: $(VENV)/.installed-test
	scripts/ensure-browser $(BIN)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache *.egg-info
