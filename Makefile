# Two entry points for a fresh machine: `make demo` (the main job) and `make test`.
# Both create .venv with python3.12 when it is missing and install the project into it.

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
# python3.12 may be a pyenv shim that fails when another version is global: take the first that runs.
PYTHON312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
                 if $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; then command -v $$p || echo $$p; break; fi; done)

.PHONY: demo test lint typecheck unit bench bench-smoke clean-venv services chain-artifacts

$(STAMP): pyproject.toml testkit/pyproject.toml
	@test -n "$(PYTHON312)" || { echo "python3.12 not found" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' -e ./testkit
	@touch $(STAMP)

demo: $(STAMP) chain-artifacts
	@# the DEX leg: a Uniswap V3 pool traded on Anvil (real bytecode) and recorded; without it the demo runs CEX-only
	@if $(PY) -m nautilus_ext_testkit.chain.demo_dex demo_output/dex_recording.json; then \
		$(VENV)/bin/nautilus-ext demo --dex-recording demo_output/dex_recording.json; \
	else echo "DEX leg skipped: the local chain could not record the pool" >&2; $(VENV)/bin/nautilus-ext demo; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# PostgreSQL binaries for the store's tests and Prometheus for the dashboards' tests (the tests
# start throwaway servers on 127.0.0.1).
services:
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql for the store's tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }
	@command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || { \
	  echo "installing Debian's prometheus for the dashboard tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the web console's browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Anvil and the protocols' published bytecode from the npm registry (pinned by dist.integrity),
# into ~/.cache/nautilus-ext/npm (outside git; NAUTILUS_EXT_CACHE moves it). Needs node + npm.
chain-artifacts: $(STAMP)
	$(PY) -m nautilus_ext_testkit.chain.artifacts

unit: $(STAMP) services chain-artifacts
	$(PY) -m pytest -q

test: lint typecheck unit bench-smoke

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# every benchmark at its --smoke size (seconds each): a benchmark that breaks fails `make test`
bench-smoke: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f --smoke"; $(PY) $$f --smoke || exit 1; done

clean-venv:
	rm -rf $(VENV)
