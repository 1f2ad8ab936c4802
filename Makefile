# Two entry points for users (see README):
#   make run    set up the environment and run the whole workflow on the default config (two passes:
#               the second builds the leaderboard and reports from what finished)
#   make test   set up the environment and run linters + the test suite (what CI runs)
#   make report Snakemake's report of a finished run (report.html, report.zip)
# Extra Snakemake arguments: make run ARGS="--config mirror=/data/mirror"
# GPU hosts (Linux x86_64, NVIDIA driver): make gpu-venv once, then GPU=1 on any target, e.g.
#   make run GPU=1, make run-slurm GPU=1 (.venv-gpu from requirements-gpu.txt: tensorflow[and-cuda])
# Supported interpreters: Python 3.11-3.13 (.ci/check-python.sh refuses others before making a venv).

PYTHON ?= python3
GPU ?=
ifeq ($(GPU),1)
VENV ?= .venv-gpu
REQUIREMENTS ?= requirements-gpu.txt
SLURM_VENV ?= .venv-slurm-gpu
PYTHON_KIND := gpu
else
VENV ?= .venv
REQUIREMENTS ?= requirements.txt
SLURM_VENV ?= .venv-slurm
PYTHON_KIND := cpu
endif
BIN := $(VENV)/bin
CORES ?= all
ARGS ?=
PYTEST_ARGS ?=
SLURM_PROFILE ?= profiles/slurm

.PHONY: venv gpu-venv run test lint fast-tests dry-run report clean-results slurm-venv run-slurm

$(BIN)/.installed: $(REQUIREMENTS)
	@.ci/check-python.sh $(PYTHON) $(PYTHON_KIND)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r $(REQUIREMENTS)
	touch $@

venv: $(BIN)/.installed

# The GPU build in .venv-gpu (tensorflow[and-cuda]: TensorFlow with CUDA and cuDNN from PyPI; the
# host needs only the NVIDIA driver). Use it with GPU=1: make run GPU=1, make slurm-venv GPU=1.
gpu-venv:
	$(MAKE) venv GPU=1

# Two passes: the first builds everything it can and keeps going past a failed download; the
# second (nothing to do after a complete run) builds the leaderboard and reports from what finished,
# listing datasets whose data could not be fetched as missing, and the results of data that
# arrived in the first pass. Its exit status is the run's.
run: $(BIN)/.installed
	-$(BIN)/snakemake --cores $(CORES) --keep-going --rerun-incomplete $(ARGS)
	$(BIN)/snakemake --cores $(CORES) --keep-going --rerun-incomplete $(ARGS)

# SLURM (README, "Running on a SLURM cluster"): the executor plugin lives in $(SLURM_VENV), a venv
# layered on $(VENV), never in $(VENV) itself (it slows every snakemake call where SLURM is installed).
# With GPU=1 it is .venv-slurm-gpu, layered on the GPU build .venv-gpu.
slurm-venv: $(BIN)/.installed
	.ci/slurm/plugin-venv.sh $(SLURM_VENV) $(BIN)/python

run-slurm: slurm-venv
	$(SLURM_VENV)/bin/python -m snakemake --profile $(SLURM_PROFILE) $(ARGS)

# Snakemake's report of the finished run (every figure by dataset and experiment, the dataset reports
# reports/<dataset>.html and the leaderboard), self-contained, for a browser or as a zip to share.
# After a run that could not fetch some data it reports the datasets that finished.
report: $(BIN)/.installed
	$(BIN)/snakemake --report report.html $(ARGS)
	$(BIN)/snakemake --report report.zip $(ARGS)

dry-run: $(BIN)/.installed
	$(BIN)/snakemake --dry-run --quiet $(ARGS)

# .pre-commit-config.yaml's hooks on every file (ruff check, ruff format --check, snakefmt, codespell),
# then the checks that need the whole workflow (snakemake --lint) or the Dockerfile (hadolint).
lint: $(BIN)/.installed
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pre-commit run --all-files --show-diff-on-failure
	$(BIN)/snakemake --lint
	$(BIN)/hadolint Dockerfile

test: lint
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest $(PYTEST_ARGS)

fast-tests: $(BIN)/.installed
	$(BIN)/pytest -m "not integration and not slurm" $(PYTEST_ARGS)

clean-results:
	rm -rf results logs benchmarks/*/ reports .snakemake/incomplete
