# Two commands for a new user: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test setup db seed translations benchmark benchmark-load clean

$(BIN)/activate: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

setup: $(BIN)/activate

# Creates and migrates the database (SQLite in instance/ unless DATABASE_URL says otherwise).
db: setup
	$(BIN)/flask db upgrade

seed: db
	$(BIN)/flask seed --demo --if-empty

run: seed
	@$(BIN)/flask demo-logins
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl+C to stop)"
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) wsgi:app

test: db
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-extract the UI strings after changing them, then translate the new ones in messages.po.
translations: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o admin_app/translations/messages.pot .
	$(BIN)/pybabel update -i admin_app/translations/messages.pot -d admin_app/translations -l id --no-fuzzy-matching
	$(BIN)/pybabel compile -d admin_app/translations -D messages
	$(BIN)/pybabel compile -d admin_app/translations -D wtforms
	$(BIN)/pybabel compile -d admin_app/translations -D admin

# Builds realistic data (kept in instance/benchmark/) and prints each page beside its raw SQL;
# BENCH_SIZES, BENCH_REPEAT, BENCH_PAGES; BENCH_DATABASE_URL adds 1M cases on PostgreSQL (long).
benchmark: setup
	$(BIN)/python benchmarks/run.py

# The case list under load through gunicorn.conf.py and Debian's wrk, over the builds of `make benchmark`;
# then each worker's peak RSS through the dashboard and both exports (LOAD_SECONDS, LOAD_CLIENTS, LOAD_USERS).
benchmark-load: setup
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) .pytest_cache
