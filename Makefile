# One virtual environment for everything; `make test` and `make demo` create it on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tumorcot-installed
DEMO_DIR ?= build/demo

# Offline settings: no telemetry, no model-cost or tokenizer downloads.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export LITELLM_LOCAL_MODEL_COST_MAP := True
export LITELLM_OFFLINE_MODE := true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOTALSEG_HOME_DIR ?= $(CURDIR)/.totalseg
export PREFECT_HOME ?= $(CURDIR)/.prefect

.PHONY: install test demo lint kg-lint bench clean

install: $(STAMP)

# The lock pins every package, torch 2.13.0+cpu included, so --no-deps cannot pull
# a CUDA build; torchvision and the PyPI argparse are left out on purpose.
$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	# pip freeze leaves setuptools out of the lock; the editable install needs >= 70.1.
	$(PY) -m pip install --quiet "setuptools==84.2.1"
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) -m flows.demo --out $(DEMO_DIR)

lint: $(STAMP)
	$(PY) -m ruff check data_contracts kg engine flows trainer tests

kg-lint: $(STAMP)
	$(VENV)/bin/tumorcot kg lint

bench: $(STAMP)
	$(PY) -m benchmarks.run --out docs/benchmarks.md

clean:
	rm -rf build .prefect .prefect-test .tumorcot-cache
