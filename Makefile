# dagrad: `make test` and `make demo` set everything up on a fresh clone (Python 3.11 + pip).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench lint fuzz-long clean install

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2

demo: $(STAMP)
	$(PY) -m demos main

bench: $(STAMP)
	$(PY) -m bench

fuzz-long: $(STAMP)
	DAGRAD_FUZZ_LONG=1 $(PY) -m pytest tests -k fuzz -n 2

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
