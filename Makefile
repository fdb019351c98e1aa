# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: run test models lint bench clean gpu-wheels gpu-carry

$(STAMP): requirements.txt requirements-dev.txt requirements-serve.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-serve.txt
	touch $(STAMP)

models: $(STAMP)
	$(PY) main.py models pull

run: models
	$(PY) main.py $(ARGS)

test: models
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -q
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

bench: models
	$(PY) main.py bench --source demo --size 320x180 --frames 300

# The GPU check (docs/gpu-check.md). The wheels the GPU machine's image lacks, for its
# Python 3.12 manylinux x86-64, without dependencies: the pins of requirements.txt, and the
# versions pydantic pins (pydantic-core: its METADATA) or needs (checked by gpu-check).
GPU_WHEELS_DIR := .gpu-wheels
GPU_WHEELS := pygame==2.6.1 pydantic==2.14.3 pydantic-core==2.50.4 annotated-types==0.8.0 \
	typing-inspection==0.4.5 typing-extensions==4.16.0 python-osc==1.10.2
# MiB: with the tree and the models they must travel in the device tool's 64 MiB.
GPU_WHEELS_MIB := 18

gpu-wheels:
	$(PYTHON) -m pip download --quiet --disable-pip-version-check --no-deps \
		--only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
		--platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
		--platform manylinux_2_17_x86_64 --dest $(GPU_WHEELS_DIR) $(GPU_WHEELS)
	$(PYTHON) scripts/gpu-check --check-wheels $(GPU_WHEELS_DIR) --expect "$(GPU_WHEELS)" \
		--budget-mib $(GPU_WHEELS_MIB)

# The device tool's carry list, with sizes; fails above 64 MiB or when a path is missing.
gpu-carry:
	$(PYTHON) scripts/gpu-check --carry

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
