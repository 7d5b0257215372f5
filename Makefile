# Two commands set everything up on a fresh machine with Python 3.11+:
#   make book   builds the site into _build/html
#   make test   runs the whole test suite (library, data, book, Binder, browser)
# Both create the virtual environment .venv from the project's files first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The oldest Python the project runs on (pyproject.toml's requires-python).
MIN_PYTHON_MAJOR := 3
MIN_PYTHON_MINOR := 11
# Prints "MAJOR MINOR" of the Python it runs in.
PRINT_VERSION := import sys; print(*sys.version_info[:2])

.PHONY: book test student notebooks serve clean clean-venv check-venv

# Runs before every target that uses the environment: an existing .venv must
# hold a working Python new enough (a venv outlives the Python it was made
# from: an upgrade or removal leaves it broken); a new one is made from
# $(PYTHON), which must be new enough too.
check-venv:
	@if [ -e "$(VENV)" ]; then \
	  version=$$("$(BIN)/python" -c "$(PRINT_VERSION)" 2>/dev/null) || { \
	    echo "make: the virtual environment $(VENV) is broken: $(BIN)/python does not run" \
	         "(was the Python it was made from upgraded or removed?)." >&2; \
	    echo "      Recreate it: make clean-venv, then run make again" \
	         "(choose the Python with PYTHON=python3.11 if needed)." >&2; \
	    exit 1; }; \
	  where="the virtual environment $(VENV) was made with"; \
	  fix="Recreate it with a newer Python: make clean-venv, then e.g. make PYTHON=python$(MIN_PYTHON_MAJOR).$(MIN_PYTHON_MINOR) $(or $(MAKECMDGOALS),book)"; \
	else \
	  version=$$("$(PYTHON)" -c "$(PRINT_VERSION)" 2>/dev/null) || { \
	    echo "make: cannot run $(PYTHON) to create $(VENV); install Python" \
	         "$(MIN_PYTHON_MAJOR).$(MIN_PYTHON_MINOR) or newer, or name it: make PYTHON=/path/to/python3" >&2; \
	    exit 1; }; \
	  where="$(PYTHON), which would create $(VENV), is"; \
	  fix="Name a newer one, e.g. make PYTHON=python$(MIN_PYTHON_MAJOR).$(MIN_PYTHON_MINOR) $(or $(MAKECMDGOALS),book)"; \
	fi; \
	set -- $$version; \
	if [ "$$1" -lt $(MIN_PYTHON_MAJOR) ] || { [ "$$1" -eq $(MIN_PYTHON_MAJOR) ] && [ "$$2" -lt $(MIN_PYTHON_MINOR) ]; }; then \
	  echo "make: $$where Python $$1.$$2; this project needs Python $(MIN_PYTHON_MAJOR).$(MIN_PYTHON_MINOR) or newer." >&2; \
	  echo "      $$fix" >&2; \
	  exit 1; \
	fi

$(STAMP): requirements.txt binder/requirements.txt requirements-dev.txt pyproject.toml | check-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The site is in _build/html: open _build/html/index.html, or run 'make serve'."

test: $(STAMP)
	$(BIN)/python -m pytest

# The student and instructor editions, and the nbgrader course folder
# (_build/editions/nbgrader: source/<chapter>/ per assignment, with the
# solutions; see the book's page "For instructors").
student: $(STAMP)
	$(BIN)/python tools/make_editions.py --out _build/editions
	@echo "Student and instructor editions are in _build/editions, the nbgrader source edition in _build/editions/nbgrader."

# Every chapter as a classic .ipynb (no outputs), in _build/notebooks: never
# beside the chapters, where the site build would find two files per page.
# (jupytext's "../_build/notebooks//ipynb": that folder, relative to book/)
notebooks: $(STAMP)
	$(BIN)/jupytext --quiet --to ../_build/notebooks//ipynb $$(grep -l '^kernelspec:' book/*.md)
	@echo "The chapters as .ipynb notebooks are in _build/notebooks."

serve:
	$(PYTHON) -m http.server --directory _build/html --bind 127.0.0.1 8000

clean:
	rm -rf _build

clean-venv:
	rm -rf $(VENV)
