# make run   — install, start the embedded PostgreSQL, migrate, load data, serve :8000; on exit
#              (Ctrl-C, SIGTERM, an error) stop the embedded PostgreSQL it started
# make stop  — stop an embedded PostgreSQL left running under DATA_DIR (says so if none was)
# make test  — install, lint, type-check, check the contract and a typed client, run the whole
#              suite against real PostgreSQL
# make browser — Debian's chromium and chromium-driver for the /docs browser test, if missing
# make nginx — Debian's nginx for the test of deploy/nginx.conf, if missing
# make compose-check — compose.yaml against the Compose Specification (and `docker compose config`)
# make oidc-provider — the OpenID provider (npm oidc-provider) the sign-in tests run, from its lock
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.9
CHROMIUM     := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
NGINX        := /usr/sbin/nginx
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

CLIENT := clients/typescript
NPM_STAMP := $(CLIENT)/node_modules/.installed-$(shell cat $(CLIENT)/package.json $(CLIENT)/package-lock.json | cksum | cut -d' ' -f1)
OIDC := tests/oidc
OIDC_STAMP := $(OIDC)/node_modules/.installed-$(shell cat $(OIDC)/package.json $(OIDC)/package-lock.json | cksum | cut -d' ' -f1)
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

LOCALES := app/locales

.PHONY: install run stop test lint typecheck client-check clients libreoffice browser nginx compose-check oidc-provider openapi messages lock bench bench-wrk bench-figures bench-sheet bench-writes bench-hostile clean

# Bytecode compiled at install (`--compile-bytecode`): every process the tests and `make run` start
# (servers, the CLI, schemathesis) would otherwise compile the packages it imports again, since
# nothing writes their bytecode on first import where PYTHONDONTWRITEBYTECODE is set.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# Silent when both are there; without apt-get (not Debian), says so and leaves it to you.
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "Installing chromium and chromium-driver (apt-get) for tests/test_docs_browser.py"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null && \
	    test -x $(CHROMIUM) && test -x $(CHROMEDRIVER); \
	  else \
	    echo "No apt-get: install Chromium and ChromeDriver as $(CHROMIUM) and $(CHROMEDRIVER) for the browser test"; \
	  fi; \
	fi

# Debian's nginx runs deploy/nginx.conf in tests/test_proxy.py; as for the browser, silent when
# it is there, and without apt-get says so.
nginx:
	@if [ ! -x $(NGINX) ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "Installing nginx (apt-get) for tests/test_proxy.py"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null && \
	    test -x $(NGINX); \
	  else \
	    echo "No apt-get: install nginx as $(NGINX) for the proxy test"; \
	  fi; \
	fi

# Debian's LibreOffice (Calc, no GUI) for tests/test_printable_exports.py, which renders the XLSX
# exports to PDF and reads them with poppler's pdfinfo and pdftotext; Carlito is the font with
# Calibri's metrics (the exports' font), so that columns print as wide as Excel shows them. Silent
# when all are there, and without apt-get says so.
SOFFICE   := /usr/bin/soffice
PDFTOTEXT := /usr/bin/pdftotext
CARLITO   := /usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf
libreoffice:
	@if [ ! -x $(SOFFICE) ] || [ ! -x $(PDFTOTEXT) ] || [ ! -f $(CARLITO) ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "Installing libreoffice-calc-nogui, poppler-utils and fonts-crosextra-carlito (apt-get) for tests/test_printable_exports.py"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui poppler-utils fonts-crosextra-carlito fonts-dejavu-core >/dev/null && \
	    test -x $(SOFFICE) && test -x $(PDFTOTEXT) && test -f $(CARLITO); \
	  else \
	    echo "No apt-get: install LibreOffice Calc ($(SOFFICE)), poppler-utils ($(PDFTOTEXT)) and the Carlito font for the printable exports test"; \
	  fi; \
	fi

run: install
	$(BIN)/python -m app serve

stop: install
	$(BIN)/python -m app stop

lint: install
	$(BIN)/ruff check app migrations tests bench
	$(BIN)/ruff format --check app migrations tests bench

typecheck: install
	$(BIN)/mypy app

$(NPM_STAMP): $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --silent
	rm -f $(CLIENT)/node_modules/.installed-* && touch $(NPM_STAMP)

# The committed contract: Redocly's recommended rules (warnings are errors), then a TypeScript
# client generated from it and type-checked with tsc --strict.
client-check: $(NPM_STAMP)
	cd $(CLIENT) && npm run --silent lint:spec && npm run --silent check

# Clients from every generator the users have, from the committed contract (`make clients
# CLIENT_SPEC=…` for another document) into clients/generated/ (gitignored): @hey-api/openapi-ts
# under tsc --strict and openapi-python-client under mypy --strict, each with an example program
# (clients/typescript/hey-api, clients/python); openapi-generator's Kotlin and Swift models, which
# no toolchain here compiles, read by tests/test_generated_clients.py (no empty model, no untyped
# field). openapi-generator (the openapi-generator-cli package's jar) runs on Debian's
# default-jre-headless, installed when `java` is missing; without apt-get, says so.
CLIENT_SPEC ?= openapi/openapi.json
GENERATED   := clients/generated
clients: install $(NPM_STAMP)
	@if ! command -v java >/dev/null; then \
	  if command -v apt-get >/dev/null; then \
	    echo "Installing default-jre-headless (apt-get) for openapi-generator"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null && \
	    command -v java >/dev/null; \
	  else \
	    echo "No apt-get: install a Java runtime (17 or later) for openapi-generator"; \
	  fi; \
	fi
	rm -rf $(GENERATED)/hey-api $(GENERATED)/python && mkdir -p $(GENERATED)
	cd $(CLIENT) && node_modules/.bin/openapi-ts --silent --no-log-file --client @hey-api/client-fetch \
		--input $(abspath $(CLIENT_SPEC)) --output ../generated/hey-api
	cd $(CLIENT) && node_modules/.bin/tsc --project hey-api/tsconfig.json
	@$(BIN)/openapi-python-client generate --path $(CLIENT_SPEC) --config clients/python/config.yaml --meta none \
		--output-path $(GENERATED)/python/thidua_client > $(GENERATED)/python.log 2>&1 \
		|| { cat $(GENERATED)/python.log; exit 1; }
	MYPYPATH=$(GENERATED)/python $(BIN)/mypy --strict --cache-dir $(GENERATED)/.mypy_cache \
		clients/python/example.py $(GENERATED)/python/thidua_client
	OPENAPI_SPEC=$(abspath $(CLIENT_SPEC)) $(BIN)/pytest -q -p no:cacheprovider --noconftest tests/test_generated_clients.py

# A real OpenID provider for the sign-in tests (tests/oidc_provider.py starts tests/oidc/provider.mjs
# once per pytest worker): oidc-provider and its dependencies, from the lock file as the client
# check's packages are (versions and integrity hashes; no download addresses).
$(OIDC_STAMP): $(OIDC)/package.json $(OIDC)/package-lock.json
	cd $(OIDC) && npm ci --silent --no-audit --no-fund
	rm -f $(OIDC)/node_modules/.installed-* && touch $(OIDC_STAMP)

oidc-provider: $(OIDC_STAMP)

# One pytest worker per core (xdist), each with a database of its own; the modules that share a
# private PostgreSQL or an nginx take turns on one worker (their xdist_group).
PYTEST_WORKERS ?= auto
# The checks that need nothing from each other run side by side (`-j`, their output kept apart
# per check); the apt-get installs (browser, nginx, libreoffice) first, one after the other (one dpkg lock).
test: install browser nginx libreoffice
	$(MAKE) --no-print-directory -j 4 --output-sync=target lint typecheck client-check clients compose-check oidc-provider
	$(BIN)/python -m compileall -q -j 0 app tests  # once, not in each server a test starts at once
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

# compose.yaml against the Compose Specification's JSON schema (tests/test_compose.py checks that
# too, and how the services are wired); `docker compose config` as well where Docker's compose
# plugin is installed. Never fails for want of Docker.
compose-check: install
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
	@if docker compose version >/dev/null 2>&1; then \
	  docker compose -f compose.yaml config --quiet && echo "docker compose config: ok"; \
	else \
	  echo "No docker compose plugin: compose.yaml validated with the Compose Specification schema only"; \
	fi

openapi: install
	$(BIN)/python -m app openapi > openapi/openapi.json

# Extract every text marked _() / N_() from app/ and merge it into each catalog; then translate
# the new (empty) entries of $(LOCALES)/vi/LC_MESSAGES/messages.po (English: empty = as written).
messages: install
	$(BIN)/pybabel extract -F babel.cfg --project=thidua --version=$$($(BIN)/python -c "from importlib.metadata import version; print(version('thidua'))") --sort-by-file \
		--add-location=file --no-wrap --add-comments=Translators: -o $(LOCALES)/messages.pot app
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching \
		--ignore-obsolete --no-wrap

# requirements.txt: everything, dev tools included (make install, CI). requirements-runtime.txt:
# what the service needs to run (the Docker image), constrained by the first so both pin the same
# versions: one resolution.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra embedded --no-emit-index-url --python-version 3.11 -o requirements.txt
	$(BIN)/uv pip compile pyproject.toml --constraints requirements.txt --no-emit-index-url --python-version 3.11 -o requirements-runtime.txt

# wrk (Debian's) drives `make bench`: a client in C, so the server's CPU per request is measured
# under a load the client does not limit. As for the browser, silent when it is there; without
# apt-get says so, and the bench falls back to a Python client.
bench-wrk:
	@if ! command -v wrk >/dev/null; then \
	  if command -v apt-get >/dev/null; then \
	    echo "Installing wrk (apt-get) for make bench"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null && \
	    command -v wrk >/dev/null; \
	  else \
	    echo "No apt-get: install wrk for make bench (without it, a Python client drives it)"; \
	  fi; \
	fi

# The read paths beside hello-world, the sheet under writes, the limiter, and each goal of issue 23
# beside its figure (bench/run.py); the sheet while the largest figures batch is pushed (item 5);
# the hostile batches.
bench: install bench-wrk
	$(BIN)/python bench/run.py
	$(BIN)/python bench/sheet_under_push.py
	$(BIN)/python bench/hostile_batch.py

# A 10,000-row CSV batch through HTTP beside a raw COPY + upsert of the same rows.
bench-figures: install
	$(BIN)/python bench/figures_batch.py

# Hostile batches (the worst bodies the limits allow): answer time and size, RSS growth, read p99.
bench-hostile: install
	$(BIN)/python bench/hostile_batch.py

# The year sheet's read p50/p99 idle, then while the 10,000-row batch is pushed back to back.
bench-sheet: install
	$(BIN)/python bench/sheet_under_push.py

# The year sheet's read p50/p99 idle, then while its cluster's reported figures are replaced every
# 100 ms, and the renders per write (issue 23, item 1).
bench-writes: install
	$(BIN)/python bench/sheet_under_writes.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(CLIENT)/node_modules $(OIDC)/node_modules clients/generated
