# Two commands on a fresh machine: `make train` (the main job) and `make test` (every test).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
BIN := $(VENV)/bin
export WANDB_MODE ?= offline
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
export PYTHONHASHSEED ?= 0

.PHONY: venv test train export clean-check nbtest firmware-deps firmware-test bench bench-twin learning-curves

# Idempotent: the stamp records the exact settings and constraints it was installed from.
$(VENV)/.stamp: settings.ini constraints.txt setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	$(PIP) check
	$(PY) -m ipykernel install --user --name python3 >/dev/null
	touch $@

venv: $(VENV)/.stamp

export: venv
	$(BIN)/nbdev_export

# CI gate: notebooks are the source of truth, so exporting and cleaning must change nothing.
clean-check: venv
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(PY) .ci/readme.py
	git diff --exit-code --stat -- nbs bitgen README.md || (echo "nbdev_export/nbdev_clean changed tracked files: run them and commit." && exit 1)
	test -z "$$(git status --porcelain -- nbs bitgen)" || (git status --porcelain -- nbs bitgen; echo "untracked files after nbdev_export: commit them." && exit 1)

# deploy.ipynb builds and runs the firmware under QEMU, so the toolchain comes before the notebooks.
nbtest: venv firmware-deps
	$(BIN)/nbdev_test --n_workers 2 --timing

firmware-deps:
	$(MAKE) -C firmware deps

firmware-test: firmware-deps
	$(MAKE) -C firmware test

test: clean-check nbtest firmware-test

# The recipe is counted in steps (bitgen.learner.recipe), so every machine trains the same schedule; papermill's
# --log-output streams the phase / step / loss / ETA lines to the terminal, and the results table comes last.
PM := $(BIN)/papermill -k python3 --cwd nbs --log-output --no-progress-bar
train: venv
	mkdir -p runs/default
	$(PM) nbs/train.ipynb runs/default/train.ipynb -p out_dir ../runs/default -p budget full
	$(MAKE) -C firmware deps
	$(PM) nbs/deploy.ipynb runs/default/deploy.ipynb -p checkpoint ../runs/default/model -p model_size tiny \
	    -p out_dir ../firmware/include -p measure True

# Benchmarks: measurements written to nbs/_results/, never asserted by tests.
bench: venv
	$(PY) nbs/benchmarks/train_step.py

# The ternary / fp32 perplexity ratio of runs/default/model: the fp32 twin by the same recipe (after make train).
bench-twin: venv
	$(PY) nbs/benchmarks/quant_ratio.py --model runs/default/model

learning-curves: venv
	$(PY) nbs/benchmarks/learning_curves.py
