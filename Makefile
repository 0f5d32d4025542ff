# Every target builds what it needs: a fresh machine only has python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN    := $(VENV)/.installed-run
DEV    := $(VENV)/.installed-dev

.PHONY: review test bench lint clean

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

test: $(DEV)
	$(BIN)/python -m pytest -q -n auto
	$(BIN)/trainer lint decks

bench: $(DEV)
	$(BIN)/python -m tests.benchmarks

# mypy checks trainer/ and tests/; tests/benchmarks and the fixture maker, imported by their
# full names (tests.benchmarks...), get a run of their own.
lint: $(DEV)
	$(BIN)/ruff check trainer tests migrations
	$(BIN)/ruff format --check trainer tests migrations
	$(BIN)/mypy
	$(BIN)/mypy -m tests.benchmarks.__main__ -m tests.fixtures.anki.make_fixtures

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
