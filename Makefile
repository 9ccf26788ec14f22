# The few commands a newcomer needs. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PGDIR ?= /tmp/ciimap-test-pg
PGPORT ?= 55433
PYTEST_ARGS ?=

.PHONY: run test sysdeps sysdeps-test venv static lint typecheck bench clean

run: sysdeps venv static  ## install everything, migrate, load the demo operator if empty, serve on :8000
	$(BIN)/ciimap serve --demo-if-empty --host 127.0.0.1 --port 8000

test: sysdeps-test venv static lint typecheck  ## lint, types, then the whole suite on SQLite and a throw-away PostgreSQL
	@url=$$(scripts/pg.sh start $(PGDIR) $(PGPORT)) && \
	trap 'scripts/pg.sh stop $(PGDIR)' EXIT && \
	CIIMAP_TEST_PG_URL=$$url $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# System tools, each installed on its own only when missing (scripts/sysdeps.sh says which failed and why):
# nmap for discovery, node/npm for the front-end build, CJK fonts for PDF reports; PostgreSQL and Chromium for the tests.
sysdeps:
	@scripts/sysdeps.sh run

sysdeps-test:
	@scripts/sysdeps.sh test

venv: $(STAMP)
$(STAMP): pyproject.toml constraints.txt
	@test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

static:  ## front-end packages from the npm registry, copied into the package's static folder
	@scripts/build-static.sh

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck:
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var node_modules src/ciimap/web/static/vendor
