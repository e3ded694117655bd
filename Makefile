# SchoolPlan: `make run` sets everything up and plans the sample county; `make test` sets up and runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# QtWebEngine refuses to start as root without this (containers, CI).
export QTWEBENGINE_DISABLE_SANDBOX ?= 1
export QTWEBENGINE_CHROMIUM_FLAGS ?= --disable-gpu

.PHONY: run test test-fast setup system-deps lint typecheck bench gui clean

# With a display: the desktop window on the sample county; without one: the headless plan.
run: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ "$$QT_QPA_PLATFORM" != offscreen ]; then \
		$(BIN)/schoolplan gui sample_maps/daoxian; \
	else \
		$(BIN)/schoolplan plan sample_maps/daoxian --out out/daoxian; \
	fi

gui: setup
	$(BIN)/schoolplan gui sample_maps/daoxian

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy  # the packages in pyproject [tool.mypy] files, strict
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q --durations=15

# The inner loop: lint, the layers contract and every test but the GUI and slow ones.
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m "not gui and not slow"

typecheck: setup
	$(BIN)/mypy  # the packages in pyproject [tool.mypy] files, strict

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/run_all.py

setup: $(STAMP)

# Qt's wheels need a few system libraries and a CJK font that a bare Debian lacks.
system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml scripts/system-deps.sh
	@bash scripts/system-deps.sh
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) out
