# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint coverage clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m wzmedins demo
	$(BIN)/python -m wzmedins demo drg
	$(BIN)/python -m wzmedins year --scale 1e5 --seed 0 --out out/year

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/capacity.py

# the kernels also run once as plain Python (tests/*/test_nojit.py) so their lines count
coverage: $(STAMP)
	WZMEDINS_COVERAGE=1 $(BIN)/python -m coverage run --parallel-mode --source=wzmedins -m pytest -q
	$(BIN)/python -m coverage combine -q
	$(BIN)/python -m coverage report --skip-covered

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
