# GASCAR: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
DEMO_TARGET := targets/cello_c3.wav
DEMO_OUT    := demo-out
# The benchmark's real suite: the shared instrument notes beside the project when present, else targets/.
REAL_DIR    ?= $(if $(wildcard ../shared/targets/*.wav),../shared/targets,targets)

.PHONY: install test test-browser demo bench bench-quick lint clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,dx7,vital]'
	@touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q

test-browser: install
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/python -m pytest -q -rs -m browser tests/test_browser.py

demo: install
	$(BIN)/gascar match $(DEMO_TARGET) --seed 1 --top 3 --report -o $(DEMO_OUT)/cello.preset.json
	@echo "demo: presets, renders and the report ($(DEMO_OUT)/cello.report.html) are in $(DEMO_OUT)/"

# The benchmark also compares nevergrad's NGOpt (the bench extra).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,dx7,vital,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/gascar bench all --real-dir $(REAL_DIR) -o bench-out

bench-quick: $(BENCH_STAMP)
	$(BIN)/gascar bench all --quick --real-dir $(REAL_DIR) -o bench-out

lint: install
	$(BIN)/ruff check gascar tests

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache $(DEMO_OUT) bench-out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
