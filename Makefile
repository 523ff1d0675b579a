# genmetrics-nb: `make reports` runs every notebook into reports/; `make test` runs the tests.
# Both create .venv on first use and fetch the offline data; no other step is needed.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= offline
OUT ?= reports
PYTEST_ARGS ?=
STAMP := $(VENV)/.genmetrics-installed
FASHION_MNIST := /usr/share/datasets/fashion-mnist

.PHONY: all setup data reports test test-fast lab bench clean-reports help

help:
	@echo "make reports   run every notebook (PROFILE=$(PROFILE)) into $(OUT)/index.html"
	@echo "make test      run the whole test suite"
	@echo "make lab       open JupyterLab on the project's kernel"
	@echo "make setup     create $(VENV) only;  make data  fetch the offline data only"
	@echo "make bench     run the benchmark scripts (tables in bench/results/)"

all: reports

# The venv is rebuilt when pyproject.toml changes. torch and torchvision are
# pinned in pyproject.toml; pip takes them from this machine's wheel store.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name genmetrics-nb --display-name "genmetrics-nb (.venv)" >/dev/null
	@touch $@

setup: $(STAMP)

# Fashion-MNIST: use a copy if one exists, else Debian's dataset-fashion-mnist package.
data: $(STAMP)
	@if $(PY) -c "import genmetrics_nb as gm; gm.datasets.fashion_mnist('test')" 2>/dev/null; then \
	  echo "Fashion-MNIST: found"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "Fashion-MNIST: installing Debian's dataset-fashion-mnist into $(FASHION_MNIST)"; \
	  $$SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
	    { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null; }; \
	  $(PY) -c "import genmetrics_nb as gm; gm.datasets.fashion_mnist('test')"; \
	else \
	  $(PY) -c "import genmetrics_nb as gm; gm.datasets.fashion_mnist('test')"; \
	fi

reports: data
	$(PY) -m genmetrics_nb report --profile $(PROFILE) --out $(OUT)

# Two workers, a test file each at a time (module fixtures built once); much of
# the suite waits on notebook kernels, subprocesses and Python, not on the cores.
# Each worker runs torch on one thread (tests/conftest.py). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: data
	$(PY) -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

test-fast: data
	$(PY) -m pytest -m "not slow and not notebook" $(PYTEST_ARGS)

lab: data
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: data
	$(PY) bench/extraction.py
	$(PY) bench/frechet.py
	$(PY) bench/knn.py

clean-reports:
	find $(OUT) -mindepth 1 ! -name README.md ! -name .gitignore -exec rm -rf {} +
