# Two entry points for a fresh machine: `make chat` and `make test` (see README).
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/tnl-bot chat

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/tnl-bot check
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_faq.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
