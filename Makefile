# SanctumTools: the two commands a newcomer needs are `make run` and `make test`.
# Every install step lives here, so a fresh Debian/Ubuntu machine (as root) needs
# nothing else; elsewhere the scripts say what to install.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Two install levels: what running the system needs, and what the whole test
# suite needs on top (Pulumi, Ansible).
STAMP_RUN := $(VENV)/.installed-run
STAMP_ALL := $(VENV)/.installed-all
CONFIG := $(CURDIR)/config.yaml

# Debian packages some targets need beside the three servers.
# prometheus: the bench scrapes its stack and draws the run (monitoring/snapshot.py).
BENCH_PACKAGES := wrk prometheus
# pdftoppm renders a page of the clinician report in the export tests.
TEST_PACKAGES := poppler-utils
# The soak's partition: network namespaces and veth links (ip).
SOAK_PACKAGES := iproute2
# The operations suite (restore drills) and the monitoring suite (promtool, amtool).
OPS_PACKAGES := nginx pgbackrest openssl systemd

export PATH := $(BIN):$(PATH)
export SANCTUM_CONFIG := $(CONFIG)

.PHONY: help deps deps-all system secrets migrate downgrade run monitoring test test-app test-infra test-ops test-monitoring test-soak bench soak shell lint clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@scripts/ensure-python.sh "$(PYTHON)" "$(VENV)"

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	@echo "[deps] installing Python dependencies into $(VENV)"
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install -q -e '.[dev]'
	@# eventlet warns on every import in every process; silence it by message, for the venv only.
	@echo "import warnings; warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')" \
		> "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/sanctum_quiet_eventlet.pth"
	@touch $@

$(STAMP_ALL): pyproject.toml $(STAMP_RUN)
	@echo "[deps] installing the infrastructure and operations tooling (Pulumi, Ansible)"
	@$(BIN)/pip install -q -e '.[dev,infra,ops]'
	@touch $@

deps: $(STAMP_RUN) ## create the virtualenv and install pinned dependencies

deps-all: $(STAMP_ALL) ## deps plus Ansible and Pulumi: the tests, the backup runbook's drills, pgBackRest config

system: ## install/start PostgreSQL, Redis, RabbitMQ; create databases
	@scripts/ensure-system.sh

secrets: deps ## generate local development secrets under var/secrets (never committed)
	@$(BIN)/python -m services.ops.secrets ensure

migrate: deps system secrets ## migrate the database to head and declare message queues
	@$(BIN)/alembic -c migrations/alembic.ini upgrade head
	@$(BIN)/python -m services.ops.queues declare

downgrade: deps system ## migrate the database down to base (drops every service schema)
	@$(BIN)/alembic -c migrations/alembic.ini downgrade base

# MONITORING=1: Prometheus and Alertmanager too (monitoring/local.py), from this terminal.
MONITORING ?=
MONITORING_PACKAGES := prometheus prometheus-alertmanager
# The monitoring suite: promtool, amtool, and shellcheck for the workflows' scripts.
MONITORING_TEST_PACKAGES := $(MONITORING_PACKAGES) shellcheck

run: migrate ## start every service and the gateway (Ctrl-C stops them; MONITORING=1 adds Prometheus)
ifeq ($(MONITORING),1)
	@scripts/ensure-system.sh $(MONITORING_PACKAGES)
	@$(BIN)/python -m monitoring.local --with-stack
else
	@$(BIN)/python -m services.ops.stack
endif

monitoring: deps ## Prometheus and Alertmanager for a running `make run` (another terminal)
	@scripts/ensure-system.sh $(MONITORING_PACKAGES)
	@$(BIN)/python -m monitoring.local

shell: deps secrets ## nameko shell with the project's config: n.rpc.<service>.<method>(...)
	@PYTHONSTARTUP=$(CURDIR)/services/ops/shell_startup.py $(BIN)/nameko shell --config $(CONFIG)

test: deps-all secrets system ## run the whole test suite against real PostgreSQL, Redis and RabbitMQ
	@# Every package up front: the suites that run side by side would race for apt's lock.
	@scripts/ensure-system.sh $(TEST_PACKAGES) $(SOAK_PACKAGES) $(OPS_PACKAGES) $(MONITORING_TEST_PACKAGES)
	@$(MAKE) --no-print-directory lint test-app
	@# The short soak starts servers and processes of its own: it runs beside the infra
	@# suite (Pulumi mocks, pyright), which asserts nothing about time; then the
	@# operations and monitoring suites side by side (throwaway databases, no stack).
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-infra test-soak
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-ops test-monitoring

# The three suites run as separate pytest sessions: the app suite monkey-patches
# with eventlet (tests/conftest.py), which Pulumi's asyncio/grpc runtime and the
# backup tooling must not see. The app suite runs in two shards side by side, each
# with its own database, vhost and stack (scripts/test-app.sh).
test-app:
	@BIN=$(BIN) scripts/test-app.sh

test-infra:
	@scripts/test-infra.sh

test-ops:
	@OPS_PACKAGES="$(OPS_PACKAGES)" scripts/test-ops.sh

test-monitoring:
	@MONITORING_TEST_PACKAGES="$(MONITORING_TEST_PACKAGES)" scripts/test-monitoring.sh

# The short soak (tests/soak): about three minutes, every kind of fault once.
test-soak:
	@SANCTUM_TEST_SHARD=3 $(BIN)/python -m tests.soak --short

# `make soak SECONDS=3600`: the fault soak for operators (README, "Soak").
SECONDS ?= 3600
soak: deps secrets system ## fault soak on servers of its own: lost/duplicated/alerts/reminders (SECONDS=3600)
	@scripts/ensure-system.sh $(SOAK_PACKAGES)
	@$(BIN)/python -m tests.soak --seconds $(SECONDS)

bench: deps secrets system ## throughput, latency and memory figures (prints, never fails on speed)
	@scripts/ensure-system.sh $(BENCH_PACKAGES)
	@$(BIN)/python -m tests.bench

# Restore drills (backup/RUNBOOK.md); they print figures, never fail on speed.
.PHONY: drill drill-10m drill-rpo
drill: deps-all system ## the runbook's restore drill, as written (DRILL_ROWS=250000 by default)
	@scripts/runbook-drill.sh

drill-10m: deps-all system ## the restore drill on 10 million app-shaped rows (about 15 minutes here)
	@DRILL_ROWS=10000000 DRILL_YEARS=3 scripts/runbook-drill.sh

drill-rpo: deps-all system ## the data-loss window drill: crash a PostgreSQL of its own, count lost writes
	@scripts/drill-rpo.sh

lint: deps-all ## ruff over the Python code
	@$(BIN)/ruff check services gateway migrations backup infra deploy monitoring tests

clean: ## remove the virtualenv and generated files (keeps var/secrets)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
