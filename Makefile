# The two commands: `make run` and `make test`. Everything else is a helper.
#
#   make run    set up .venv, migrate the SQLite database in instance/, load the seed and
#               demo data (demo only into an empty database), print the demo logins, then
#               serve the app with gunicorn on 127.0.0.1:$PORT (5000) with the two huey
#               workers beside it (SLA sweep and relay; Telegram/SMS delivery): honcho runs
#               the Procfile; Ctrl-C stops everything.
#   make dev    the same, but Flask's development server with the reloader and the
#               debugger instead of gunicorn (for working on the code, never for users).
#   make translations   extract every string, update the ru/uz catalogues, compile them.
#   make test   the whole suite (CI=true makes the PostgreSQL, Redis and browser tests
#               mandatory instead of deselected when their service is missing).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Log lines from the web server and the worker show up as they happen under honcho.
export PYTHONUNBUFFERED := 1
# The demo's branches are in Tashkent: `make run` (and its helpers) show their times
# there. An APP_TIMEZONE in the environment wins; the app's own default stays UTC, and
# `make test` never gets this (the tests set their zones themselves).
DEMO_TIMEZONE ?= Asia/Tashkent
run dev seed migrate web worker delivery: export APP_TIMEZONE := $(or $(APP_TIMEZONE),$(DEMO_TIMEZONE))

.PHONY: run dev test venv migrate seed web worker delivery clean translations translations-compile

# Reinstalled whenever pyproject.toml changes (a new dependency).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# The catalogues: app/translations/<lang>/LC_MESSAGES/messages.po are the source (in git);
# the .mo files the app reads are compiled from them (not in git).
LOCALES := ru uz
POS := $(foreach l,$(LOCALES),app/translations/$(l)/LC_MESSAGES/messages.po)
MOS := $(POS:.po=.mo)

%.mo: %.po | $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -i $< -o $@

translations-compile: $(MOS)

translations: venv
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
	    --no-location --sort-output --project "Evercold Service Desk" -o app/translations/messages.pot .
	$(VENV)/bin/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i app/translations/messages.pot -d app/translations
	$(MAKE) -B translations-compile

migrate: venv translations-compile
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed
	$(FLASK) demo

run: seed
	@echo "Serving http://127.0.0.1:$${PORT:-5000}/login with the huey workers (Ctrl-C stops everything)."
	$(VENV)/bin/honcho start

dev: seed
	@echo "Development server with the reloader on http://127.0.0.1:$${PORT:-5000}/login (not for users)."
	$(VENV)/bin/honcho start -f Procfile.dev

web: migrate
	$(VENV)/bin/honcho start web

worker: migrate
	$(VENV)/bin/honcho start worker

delivery: migrate
	$(VENV)/bin/honcho start delivery

test: venv translations-compile
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* instance/uploads artifacts
