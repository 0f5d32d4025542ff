# Every target builds what it needs: a fresh machine only has python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN    := $(VENV)/.installed-run
DEV    := $(VENV)/.installed-dev

.PHONY: review test test-pg bench bench-anki bench-pg lint clean

$(BIN)/python:
	@echo "Making a virtual environment in $(VENV)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make review` installs only what trainer needs to run; the test and lint tools come with
# the first `make test` (which satisfies `make review` too).
$(RUN): pyproject.toml | $(BIN)/python
	@echo "Installing trainer and what it needs into $(VENV) (a minute the first time)..."
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN)

$(DEV): pyproject.toml | $(BIN)/python
	@echo "Installing trainer with its test and lint tools into $(VENV)..."
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(RUN) $(DEV)

review: $(RUN)
	$(BIN)/trainer review

# The output cards run on every Python the project supports: the venv's (3.11 here) and each of
# CARD_VERSIONS, found as pyenv's build (even with pyenv off PATH) or as pythonX.Y on PATH; a
# version not found stops the run. `make test CARD_VERSIONS=` runs them on the venv's Python only.
CARD_VERSIONS ?= 3.12 3.13
PYENV_ROOT ?= $(HOME)/.pyenv
card_python = $(or $(lastword $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1))),$\
	$(shell python$(1) -c 'import sys; print(sys.executable)' 2>/dev/null))
CARD_PYTHONS = $(foreach version,$(CARD_VERSIONS),$(call card_python,$(version)))

# The whole suite runs twice: on SQLite files, then on a throwaway PostgreSQL server that
# .ci/postgres starts and removes (each test a schema of its own; tests of SQLite's files are
# skipped there). `make test-pg` runs only the server half.
test: $(DEV)
	@for version in $(CARD_VERSIONS); do case " $(CARD_PYTHONS) " in *python$$version" "*) ;; *)\
	  echo "make test: no Python $$version found to run the output cards on: install it"\
	    "(pyenv install $$version) or run make test CARD_VERSIONS=" >&2; exit 1;; esac; done
	TRAINER_CARD_PYTHONS="$(CARD_PYTHONS)" $(BIN)/python -m pytest -q -n auto
	$(MAKE) --no-print-directory test-pg
	$(BIN)/trainer lint decks

test-pg: $(DEV)
	.ci/postgres $(BIN)/python -m pytest -q -n auto

bench: $(DEV)
	$(BIN)/python -m tests.benchmarks

# trainer beside Anki's Rust core (tests/benchmarks/versus_anki.py): Anki's Python package lives
# in a virtual environment of its own, never in trainer's; the figures go to bench-anki.json.
ANKI_VENV := .venv-anki
ANKI := $(ANKI_VENV)/.installed
$(ANKI):
	@echo "Making a virtual environment with Anki in $(ANKI_VENV) (a minute the first time)..."
	$(PYTHON) -m venv $(ANKI_VENV)
	$(ANKI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(ANKI_VENV)/bin/python -m pip install --quiet 'anki==26.9.3'
	touch $(ANKI)

bench-anki: $(DEV) $(ANKI)
	TRAINER_BENCH_ANKI_PYTHON=$(ANKI_VENV)/bin/python $(BIN)/python -m tests.benchmarks.versus_anki

# 50 learners rating at once against a durable PostgreSQL server, then with kills and a restart.
bench-pg: $(DEV)
	TRAINER_TEST_PG_DURABLE=1 .ci/postgres $(BIN)/python -m tests.benchmarks.load_pg

# mypy checks trainer/ and tests/; tests/benchmarks and the fixture maker, imported by their
# full names (tests.benchmarks...), get a run of their own.
lint: $(DEV)
	$(BIN)/ruff check trainer tests migrations
	$(BIN)/ruff format --check trainer tests migrations
	$(BIN)/mypy
	$(BIN)/mypy -m tests.benchmarks.__main__ -m tests.benchmarks.load_pg -m tests.benchmarks.versus_anki \
		-m tests.benchmarks.anki_side -m tests.benchmarks.learning_quality \
		-m tests.fixtures.anki.make_fixtures

clean:
	rm -rf $(VENV) $(ANKI_VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
