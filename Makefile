# Two entry points, both self-installing into .venv (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lowbit demo

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=15 -n auto --dist loadgroup

# The documentation site (Sphinx + furo, pages from docs/) into build/docs/html; make test
# builds it again with warnings as errors (tests/test_docs.py).
docs: $(STAMP)
	$(BIN)/python -m sphinx -b html -q docs build/docs/html
	@echo "documentation: build/docs/html/index.html"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_formats.py
	$(BIN)/python benchmarks/bench_gemm.py
	$(BIN)/python benchmarks/bench_rtl_sim.py
	$(BIN)/python benchmarks/bench_sim.py
	$(BIN)/python benchmarks/bench_prefix_dot.py
	$(BIN)/python benchmarks/bench_timing.py
	$(BIN)/python benchmarks/bench_activity.py

clean:
	rm -rf build
