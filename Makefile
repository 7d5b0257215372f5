# Two commands set everything up on a fresh machine with Python 3.11+:
#   make book   builds the site into _build/html
#   make test   runs the whole test suite (library, data, book, Binder, browser)
# Both create the virtual environment .venv from the project's files first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: book test student serve clean clean-venv

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The site is in _build/html: open _build/html/index.html, or run 'make serve'."

test: $(STAMP)
	$(BIN)/python -m pytest

student: $(STAMP)
	$(BIN)/python tools/make_editions.py --out _build/editions
	@echo "Student and instructor editions are in _build/editions."

serve:
	$(PYTHON) -m http.server --directory _build/html --bind 127.0.0.1 8000

clean:
	rm -rf _build

clean-venv:
	rm -rf $(VENV)
