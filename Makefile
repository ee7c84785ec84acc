# Two commands matter: `make run` (install + start the suite) and `make test` (install + test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install test lint format run openapi bench browser wrk clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Debian's Chromium for the browser tests (no browser download is possible or wanted).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

# wrk for the HTTP benchmarks, from Debian like Chromium.
wrk:
	@test -x /usr/bin/wrk || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install browser lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

run: install
	$(BIN)/python scripts/run_suite.py

openapi: install
	$(BIN)/python scripts/generate_openapi.py

bench: install wrk
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/geocode.py
	$(BIN)/python bench/calendar_scale.py
	$(BIN)/python bench/http_auth.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
