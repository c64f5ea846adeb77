# GASCAR: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_TARGET := targets/cello_c3.wav
DEMO_OUT    := demo-out

.PHONY: install test test-browser demo bench bench-quick lint clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q

test-browser: install
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/python -m pytest -q -m browser --run-browser

demo: install
	$(BIN)/gascar render presets/*.json -o $(DEMO_OUT)/presets
	@echo "demo: renders of every shipped preset are in $(DEMO_OUT)/presets"

bench: install
	$(BIN)/gascar bench all -o bench-out

bench-quick: install
	$(BIN)/gascar bench all --quick -o bench-out

lint: install
	$(BIN)/ruff check gascar tests

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache $(DEMO_OUT) bench-out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
