# make run   — install, start the embedded PostgreSQL, migrate, load data, serve :8000
# make test  — install, lint, type-check, run the whole suite against real PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.9

LOCALES := app/locales

.PHONY: install run test lint typecheck openapi messages lock bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m app serve

lint: install
	$(BIN)/ruff check app migrations tests bench
	$(BIN)/ruff format --check app migrations tests bench

typecheck: install
	$(BIN)/mypy app

test: lint typecheck
	$(BIN)/pytest

openapi: install
	$(BIN)/python -m app openapi > openapi/openapi.json

# Extract every text marked _() / N_() from app/ and merge it into each catalog; then translate
# the new (empty) entries of $(LOCALES)/vi/LC_MESSAGES/messages.po (English: empty = as written).
messages: install
	$(BIN)/pybabel extract -F babel.cfg --project=thidua --version=1.0.0 --sort-by-file \
		--add-location=file --no-wrap --add-comments=Translators: -o $(LOCALES)/messages.pot app
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching \
		--ignore-obsolete --no-wrap

lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --no-emit-index-url --python-version 3.11 -o requirements.txt

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
