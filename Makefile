# Swin Explorer — two commands do all the setup: `make run` and `make test`.
# Both create/refresh .venv in the repo root. torch is pinned first so pip never pulls a
# multi-GB CUDA build (on this project's machines torch==2.13.0 is a local CPU wheel).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TORCH  ?= torch==2.13.0

.PHONY: run test lint bench screenshot demo-train demo-eval clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "$(TORCH)"
	$(PY) -m pip install -q --disable-pip-version-check -e ".[test]" "$(TORCH)"
	touch $(STAMP)

run: $(STAMP)            ## open the GUI on the bundled demo model and a sample image
	$(VENV)/bin/swin-gui $(ARGS)

test: $(STAMP)           ## the whole test suite (headless)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)           ## ruff, then the import contracts in pyproject.toml (layers, no cycles)
	$(VENV)/bin/ruff check swin_gui tests docs benchmarks
	$(VENV)/bin/ruff format --check swin_gui tests docs benchmarks
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)          ## speed ratios: capture vs plain, ours vs timm, UI latency, scaling
	$(VENV)/bin/swin-gui bench $(ARGS)

screenshot: $(STAMP)     ## headless check of `make run`: writes docs/screenshots/startup.png
	rm -f docs/screenshots/startup.png
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/swin-gui --screenshot docs/screenshots/startup.png

demo-train: $(STAMP)
	$(PY) -m swin_gui.demo train --resume

demo-eval: $(STAMP)
	$(PY) -m swin_gui.demo evaluate

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
