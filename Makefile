# Two commands matter: `make run` serves the hub, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint wsdl soak bench bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[postgres]'
	touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[postgres,test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/lienthong-gateway migrate
	$(BIN)/lienthong-gateway serve

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check gateway client tests

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.figures $(if $(LIENTHONG_TEST_PG_URL),--postgres $(LIENTHONG_TEST_PG_URL))

bench-smoke: $(VENV)/.installed-test
	$(BIN)/python -m bench.figures --smoke

soak: $(VENV)/.installed-test
	$(BIN)/python -m bench.soak --seconds 120

wsdl: $(VENV)/.installed
	$(BIN)/lienthong-gateway export-wsdl wsdl

clean:
	rm -rf $(VENV) .venv-* var build *.egg-info
