# Samphan — two commands on a fresh machine:
#   make demo   install, migrate, load demo data, start web server + worker
#   make test   install and run the whole suite on SQLite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/samphan
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: install assets demo test test-pg test-browser lint typecheck messages bench clean

$(STAMP): pyproject.toml package.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	$(MAKE) --no-print-directory assets
	touch $(STAMP)

install: $(STAMP)

# Front-end assets come from the npm registry and are served by the app itself.
assets:
	npm install --no-audit --no-fund --loglevel=error
	mkdir -p samphan/web/static/vendor/fonts
	cp node_modules/htmx.org/dist/htmx.min.js samphan/web/static/vendor/
	# Variable fonts, only the subsets the UI uses; @font-face rules are in web/samphan.css.
	cp node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2 \
	   node_modules/@fontsource-variable/inter/files/inter-latin-ext-wght-normal.woff2 \
	   node_modules/@fontsource-variable/noto-sans-thai/files/noto-sans-thai-thai-wght-normal.woff2 \
	   samphan/web/static/vendor/fonts/
	cp node_modules/@fontsource-variable/inter/LICENSE samphan/web/static/vendor/fonts/LICENSE-inter.txt
	cp node_modules/@fontsource-variable/noto-sans-thai/LICENSE samphan/web/static/vendor/fonts/LICENSE-noto-sans-thai.txt

demo: install
	$(BIN)/samphan demo --port $(PORT)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

test-pg: install
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432"; exit 1; }
	DATABASE_URL=$(PG_URL) SAMPHAN_REQUIRE_WORKER=1 $(BIN)/pytest $(PYTEST_ARGS)

test-browser: install
	SAMPHAN_REQUIRE_BROWSER=1 $(BIN)/pytest -m browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

typecheck: install
	$(BIN)/mypy samphan config

messages: install
	cd samphan && ../$(BIN)/samphan makemessages -l th --ignore 'static/*' && ../$(BIN)/samphan compilemessages

clean:
	rm -rf $(VENV) node_modules var samphan/web/static/vendor
