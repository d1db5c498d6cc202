# Provisioner — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests and benchmarks drive (servers are started by the tests themselves).
SYSTEM_PACKAGES := chromium bind9 bind9-utils bind9-dnsutils nginx php-fpm php-mysql \
	mariadb-server mariadb-client wordpress wordpress-theme-twentytwentythree \
	pure-ftpd btrfs-progs openssh-server xfsprogs quota curl
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install system-packages services lint test test-sqlite test-postgresql run bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv and install the project (quick when nothing changed)

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	@touch $@

system-packages: ## Install the Debian packages the tests need (as root; skips what is there)
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

services: ## Make sure the machine's PostgreSQL and Redis are up (they usually are)
	@bash .ci/ensure-services

lint: install ## ruff and the import-linter contracts
	$(BIN)/ruff check provisioner tests bench
	$(BIN)/lint-imports

test: install system-packages services lint ## Run the whole suite on SQLite, then on PostgreSQL
	$(MAKE) test-sqlite
	$(MAKE) test-postgresql

test-sqlite: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q -p no:randomly

test-postgresql: install
	PROVISIONER_TEST_DB=postgresql $(BIN)/pytest -n $(PYTEST_WORKERS) -q

run: install ## Migrate, load demo data if empty, serve on http://127.0.0.1:5000
	$(BIN)/provisioner db upgrade
	$(BIN)/provisioner demo load --if-empty
	$(BIN)/provisioner serve --host 127.0.0.1 --port 5000

bench: install system-packages services ## Run every benchmark, each beside its peer
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean: ## Remove the virtualenv and local state
	rm -rf $(VENV) instance test-output
