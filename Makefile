# souk — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test bench lint locales docs clean chromium

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) locales ## Install souk and its dependencies into .venv

locales: $(STAMP) ## Compile the gettext catalogs (.po -> .mo)
	$(BIN)/python -m souk.i18n compile

run: install ## Start Postgres, Redis, web, worker and beat on http://127.0.0.1:8080
	$(BIN)/souk up

# Two workers, each with its own Postgres and Redis, a test file per worker at a time:
# most tests wait on subprocesses and HTTP, so two share the two cores well (8 min
# instead of 16). `make test PYTEST_ARGS=tests/unit` runs a part in one process.
PYTEST_ARGS ?= -n 2 --dist loadfile

test: install chromium ## Run the whole test suite against throwaway Postgres and Redis
	@# Bytecode for the processes the tests start (PYTHONDONTWRITEBYTECODE may be set):
	@# compiling souk anew cost each of them two seconds.
	$(BIN)/python -m compileall -q souk bench tests >/dev/null
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The web chat is tested in a real headless browser: Debian's chromium (as root, e.g. in
# CI, it is installed here; otherwise install the package once yourself).
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium is not installed: the browser test will fail (apt-get install chromium)"

bench: install ## Run the benchmarks (prints figures; slow)
	$(BIN)/python bench/webhook_throughput.py
	$(BIN)/python bench/whatsapp_intake.py
	$(BIN)/python bench/outbox_push.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/checkout_race.py
	$(BIN)/python bench/search_quality.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/feed.py
	$(BIN)/python bench/monitor.py
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/assistant.py

lint: install ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy souk bot.py bench

docs: install ## Regenerate the configuration table in README.md and docs/configuration.md
	$(BIN)/python -m souk.config_docs write

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) .data
