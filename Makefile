# Two commands set everything up on a fresh machine (see README.md):
#   make demo   predict on examples/ with the shipped model -> runs/demo/
#   make test   run the test suite
# Both create or reuse the virtual environment in .venv.

PY := .venv/bin/python

.venv/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: the CPU build lies on local disk; unpinned pulls CUDA.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: .venv/.installed

demo: .venv/.installed
	$(PY) predict.py examples/ --out runs/demo/predictions.jsonl
	@echo "predictions: runs/demo/predictions.jsonl (an HTML view: predict.py examples/ --format html --out FILE.html)"

test: .venv/.installed
	HF_HUB_OFFLINE=1 $(PY) -m pytest

.PHONY: venv demo test
