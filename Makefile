# Two entry points: `make demo` and `make test`. Both work on a fresh Debian
# machine with Python 3.11: they install the system tools that are missing,
# create .venv, install wccgen into it, then run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_TOOLS := iverilog yosys verilator
# Parallel test workers; CI machines have 2 cores.
JOBS ?= auto

.PHONY: demo test bench system venv clean

demo: system $(STAMP)
	$(BIN)/wccgen demo --force

test: system $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) $(PYTEST_ARGS)

venv: $(STAMP)

# apt-get only for what is missing, with sudo only when not already root.
system:
	@missing=""; \
	for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	$(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wccgen needs Python >= 3.11, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info

# Benchmarks (synthesis, place and route, simulation speed, the soak): results in bench/results/.
bench: system $(STAMP)
	$(BIN)/python bench/haar.py
	$(BIN)/python bench/selection.py
	$(BIN)/python bench/mac.py
	$(BIN)/python bench/codecs.py
	$(BIN)/python bench/layer.py
	$(BIN)/python bench/sim.py
	$(BIN)/python bench/soak.py
