# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

## make run: migrate, seed the demo and serve http://127.0.0.1:8000 (development settings)
run: $(VENV)/.installed
	KLUIS_ENV=$${KLUIS_ENV:-development} $(BIN)/kluis dev

## make test: system packages, a throwaway PostgreSQL, the whole suite on SQLite and PostgreSQL
test: $(VENV)/.installed-test
	scripts/test-suite.sh

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: $(VENV)/.installed-test
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

## make messages: extract translatable strings and update the nl/fr/en/de catalogues
messages: $(VENV)/.installed-test
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg --no-location -o var/messages.pot \
	  -k _ -k gettext -k ngettext:1,2 -k N_ \
	  -k Invalid -k NotFound -k Conflict -k Forbidden -k Unavailable -k Unauthenticated .
	$(BIN)/pybabel update -i var/messages.pot -d src/kluis/web/locale --no-fuzzy-matching

clean:
	rm -rf var .pytest_cache
