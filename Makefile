# The two commands of the README: `make demo` (the main job on the synthetic corpus) and `make test`.
# Each creates the virtual environment on first use. GPU users: make demo TORCH_SPEC="torch==2.x.y".
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
SIZE ?= default
OUT ?= runs/demo
STAMP := $(VENV)/.lslm-installed

.PHONY: demo test install bench clean

install: $(STAMP)

$(STAMP): setup.py Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	# deepspeed's sdist imports torch while it builds: build it against the torch above.
	$(PY) -m pip install -q --no-build-isolation "deepspeed>=0.15"
	$(PY) -m pip install -q -e ".[all,app,dev,video]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m lslm.demo --size $(SIZE) --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
