# The two commands: `make run` and `make test`. Everything else is a helper.
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test venv migrate seed demo worker web bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed
	$(FLASK) demo

## make run: set up, migrate, seed demo data, then serve the web app and the huey worker.
run: seed
	$(VENV)/bin/honcho start

## make test: the whole suite (CI=true makes PostgreSQL, Redis and browser tests mandatory).
test: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* instance/uploads artifacts
