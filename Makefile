# Gongzhi — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
export DJANGO_SETTINGS_MODULE := gongzhi.settings

.PHONY: install run test lint typecheck pytest bench browser clean messages

$(STAMP): pyproject.toml scripts/bootstrap.sh
	PYTHON=$(PYTHON) VENV=$(VENV) sh scripts/bootstrap.sh
	@touch $(STAMP)

install: $(STAMP) messages

messages: $(STAMP)
	@$(BIN)/gongzhi compile_translations

## Start Gongzhi on http://$(HOST):$(PORT) with the Shenzhen demo data (SQLite, no services).
run: install
	$(BIN)/gongzhi run --host $(HOST) --port $(PORT)

## The whole suite: lint, types, tests (unit, API property tests, browser tests).
test: install browser lint typecheck pytest

browser:
	@sh scripts/ensure-chromium.sh

lint: $(STAMP)
	$(BIN)/ruff check src bench
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

# After the tests: nothing personal in clear — the pii_check plugin scans the test database
# before it is dropped, the script scans var/ (uploads, logs, the SQLite file, the run's log).
pytest: $(STAMP)
	$(BIN)/pytest -p gongzhi.core.pii_check $(PYTEST_ARGS)
	$(BIN)/python scripts/scan_personal_numbers.py

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var/test.sqlite3 .pytest_cache .mypy_cache .ruff_cache
