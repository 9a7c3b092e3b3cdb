# Tremplin. `make run` serves the demo; `make test` runs every check and the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export TREMPLIN_DATA_DIR ?= $(CURDIR)/var

# The local demo: production settings (DEBUG off, gunicorn, whitenoise), minus HTTPS (served
# on 127.0.0.1) and with the demo's explicit relaxations, which `check --deploy` refuses.
RUN_ENV := SECRET_KEY_FILE=$(TREMPLIN_DATA_DIR)/secret_key TREMPLIN_DEMO=true \
	TREMPLIN_RELAX_2FA=true TREMPLIN_HTTPS=false EMAIL_BACKEND=file

.PHONY: run test bench lint install install-test browser pdf messages lock vendor clean

$(BIN)/.installed: pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e '.[test]'
	touch $@

install: $(BIN)/.installed
install-test: $(BIN)/.installed-test

$(TREMPLIN_DATA_DIR)/secret_key:
	mkdir -p $(TREMPLIN_DATA_DIR)
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@

run: install pdf $(TREMPLIN_DATA_DIR)/secret_key
	$(RUN_ENV) $(BIN)/tremplin migrate --noinput -v0
	$(RUN_ENV) $(BIN)/tremplin collectstatic --noinput -v0
	$(RUN_ENV) SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/tremplin demo
	$(RUN_ENV) PORT=$(PORT) BIN=$(BIN) scripts/serve

# Debian's Chromium for the browser tests (required when CI=true).
browser:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed: browser tests will be skipped"; fi; fi

# Debian's libraries for the PDF letters (WeasyPrint): Pango, and HarfBuzz's subsetter, without
# which every letter takes 6-9x longer (`tremplin check` warns, tremplin.W003); poppler-utils
# for the letters' tests (pdftotext) and for looking at PDFs (pdftoppm).
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils
pdf:
	@missing=$$(for p in $(PDF_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing for PDF letters: $$missing (apt-get install them as root)"; fi; fi

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# One test process per core (pytest-xdist), each test file in one process: a file's module
# fixtures (the demo) load once.
PARALLEL = -n auto --dist loadfile

test: install-test browser pdf lint
	DEBUG=true $(BIN)/tremplin makemigrations --check --dry-run
	SECRET_KEY=$$($(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))") \
	  ALLOWED_HOSTS=tremplin.example.org $(BIN)/tremplin check --deploy --fail-level WARNING
	DATABASE_URL= $(BIN)/pytest $(PARALLEL)
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$DATABASE_URL), without the pure engine and browser tests"; \
	  $(BIN)/pytest $(PARALLEL) --ignore=tests/engine -m "not browser"; \
	fi

bench: install-test pdf
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || true
	@$(if $(wildcard bench/bench_*.py),,echo "no benchmark yet in bench/")
	@for b in $(wildcard bench/bench_*.py); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

messages: install
	cd src/tremplin && DEBUG=true ../../$(BIN)/tremplin makemessages -l fr -l ar --no-obsolete -i "static/*"
	cd src/tremplin && DEBUG=true ../../$(BIN)/tremplin compilemessages

lock:
	rm -rf /tmp/tremplin-lock && $(PYTHON) -m venv /tmp/tremplin-lock
	/tmp/tremplin-lock/bin/pip install -q -e '.[test]'
	(echo "# Exact versions of every dependency, transitive included. Regenerate with: make lock"; \
	  /tmp/tremplin-lock/bin/pip freeze --exclude-editable | grep -v '^tremplin' | sort -f) > requirements/constraints.txt

vendor:
	scripts/vendor

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
