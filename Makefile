# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install, run every bundled scenario on the bundled data
#   make test   same set-up, then the whole test suite
#   make bench  speed and memory benchmarks, written to bench/results.md (never part of the tests)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: demo test bench venv clean lint browser

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,fast,bench,sweep,web]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@mkdir -p $(OUT)
	$(BIN)/drawdown data validate
	$(BIN)/drawdown validate scenarios/*.yaml
	$(BIN)/drawdown run scenarios/*.yaml --store $(OUT)/results.duckdb
	$(BIN)/drawdown run scenarios/*.yaml --no-store --json > $(OUT)/demo.json
	$(BIN)/drawdown campaign scenarios/rand-2016-baltic.yaml --samples 20000 --store $(OUT)/results.duckdb
	$(BIN)/drawdown move scenarios/reinforce-2022.yaml --store $(OUT)/results.duckdb
	$(BIN)/drawdown move scenarios/move-abct-by-sea.yaml --samples 200 --store $(OUT)/results.duckdb
	$(BIN)/drawdown roadmap scenarios/germany-roadmap.yaml --store $(OUT)/results.duckdb
	$(BIN)/drawdown roadmap scenarios/post-1990-exit.yaml --store $(OUT)/results.duckdb
	$(BIN)/drawdown cost scenarios/iiss-2025-cost.yaml --store $(OUT)/results.duckdb
	$(BIN)/drawdown cost scenarios/bruegel-2025-cost.yaml --store $(OUT)/results.duckdb
	$(BIN)/drawdown sweep sweeps/baltic-drivers.yaml --store $(OUT)/results.duckdb
	$(BIN)/drawdown sensitivity sweeps/baltic-drivers.yaml --store $(OUT)/results.duckdb
	$(BIN)/drawdown report scenarios/germany-roadmap.yaml -o $(OUT)/report.html --store $(OUT)/results.duckdb
	$(BIN)/drawdown evidence check tests/evidence/articles --store $(OUT)/results.duckdb
	$(BIN)/drawdown evidence to-scenario tests/evidence/articles/own_04_alert.txt tests/evidence/articles/own_05_keep.txt \
	  --date 2026-03-01 -o $(OUT)/evidence-draft.yaml --store $(OUT)/results.duckdb
	$(BIN)/drawdown run $(OUT)/evidence-draft.yaml --store $(OUT)/results.duckdb
	@echo "demo: JSON written to $(OUT)/demo.json; runs stored in $(OUT)/results.duckdb; report in $(OUT)/report.html; scenario drafted from news in $(OUT)/evidence-draft.yaml"

# The browser tests use Debian's Chromium (never a downloaded browser); without it they are skipped, and say so.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)) \
	    && echo "make: installed Debian's chromium for the browser tests" \
	    || echo "make: chromium could not be installed here: the browser tests will be skipped"; }

test: $(STAMP) browser
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run
	@echo "bench: results written to bench/results.md"

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis
