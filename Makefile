# The two commands a new machine needs: `make demo` and `make test`.
# Both install into .venv/ first when it is missing or out of date.
PYTHON ?= python3.11
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY = $(VENV)/bin/python
PIP = $(PY) -m pip
STAMP = $(VENV)/.installed
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one a core by default.
PYTEST_WORKERS ?= auto

.PHONY: install install-ray install-rl2 demo test test-all lint docs gpu-wheels clean \
	settings defaults

install: $(STAMP)

# Re-installs only when setup.py or this Makefile change (a stamp file).
# The README's "Install with pip" steps, editable: garage goes in through
# tcl_garage.install_garage (its published metadata cannot be installed
# today: tcl_garage/garage_compat.py, item 7).
$(STAMP): setup.py Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet 'pip>=24.2' 'setuptools>=64' wheel
	$(PIP) install --quiet '$(TORCH_SPEC)'
	$(PIP) install --quiet -e '.[test]'
	$(PY) -m tcl_garage.install_garage
	$(PY) -c "import tcl_garage, garage.torch.algos"
	touch $(STAMP)

# Optional: Ray, for --sampler ray and sweep --ray (clusters).
install-ray: install
	$(PIP) install --quiet -e '.[test,ray]'
	$(PY) -c "import tcl_garage, ray, garage.sampler"

# Optional: TensorFlow 2.15 for the RL2-PPO baseline (--algo rl2-ppo).
install-rl2: install
	$(PIP) install --quiet -e '.[test,rl2]'
	$(PY) -c "import tcl_garage, tensorflow, garage.tf.algos"

demo: install
	$(PY) experiments/demo.py

# worksteal: an idle test process takes tests queued for another, so the
# suite's long tests do not end it on one core.
test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Also the opt-in slow tests (longer runs, all 50 Meta-World envs).
test-all: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal --run-slow $(PYTEST_ARGS)

# The linter (ruff, configured in pyproject.toml) on the whole repository.
lint: install
	$(VENV)/bin/ruff check .

# The documentation site (mkdocs.yml, docs/), built strictly into a
# temporary folder: a broken link or anchor, or a page missing from the nav,
# fails. `$(VENV)/bin/mkdocs serve` previews it.
DOCS_STAMP = $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(PIP) install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	site=$$(mktemp -d) && \
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict \
	    --site-dir "$$site"; status=$$?; rm -rf "$$site"; exit $$status

# The wheels the GPU machine lacks, for benchmarks/gpu_check.py (.whl/,
# checked to fit the device tool's 64 MiB with the working tree).
gpu-wheels: install
	$(PY) benchmarks/gpu_wheels.py

# Every experiment setting: type, default, range, readers, documentation.
settings: install
	$(PY) -c 'from tcl_garage.experiment.settings import main; main([])'

# Write configs/defaults.yaml from the settings table
# (tcl_garage/experiment/settings.py).
defaults: install
	$(PY) -c 'from tcl_garage.experiment.settings import main; main(["--write"])'

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
