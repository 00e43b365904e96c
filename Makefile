# Two entry points (see README): `make book` builds the site, `make test` runs every test.
# Both set up everything they need first, on a fresh machine included.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup browser-setup book test clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

# Debian's chromium for the browser tests, and local copies (npm) of the CDN assets the pages load.
browser-setup:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	npm ci --no-audit --no-fund --loglevel=error

book: setup
	$(BIN)/jupyter-book build . -W -n --keep-going

test: setup browser-setup
	$(BIN)/python -m pytest

clean:
	rm -rf _build
