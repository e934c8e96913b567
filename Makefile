# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ENABLEY_DATABASE_URL ?= sqlite:///./enabley.db
## PORT: where make run serves (make run PORT=8080); the demo's links and ./demo.env follow it
PORT ?= 8000

.PHONY: run test lint bench bench-quick bench-upload clean fuzz screenshots

$(BIN)/enabley: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(BIN)/enabley $@

## run: install, migrate the SQLite database, create the demo account, serve on 127.0.0.1:$(PORT)
run: export ENABLEY_PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: $(BIN)/enabley
	$(BIN)/enabley db upgrade
	$(BIN)/enabley demo
	$(BIN)/enabley serve --host 127.0.0.1 --port $(PORT)

## test: install with the dev extras, Debian's chromium and axe-core (for the console's browser
## tests), and run the whole test suite: on TEST_WORKERS processes, then the process-level
## scenarios of tests/hardening (servers, clusters, kills, bounds on answers) alone, one at a time
TEST_WORKERS ?= 2
test: $(VENV)/.dev node_modules/axe-core/axe.min.js
	@command -v chromium >/dev/null || apt-get install -y chromium
	@status=0; \
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --ignore=tests/hardening || status=1; \
	$(BIN)/pytest tests/hardening || status=1; \
	exit $$status

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## screenshots: the console's browser tests, rewriting docs/console/*.png as they go
screenshots: $(VENV)/.dev node_modules/axe-core/axe.min.js
	@command -v chromium >/dev/null || apt-get install -y chromium
	ENABLEY_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q -p no:cacheprovider tests/console/test_browser.py

## fuzz: the contract fuzz in depth: FUZZ_EXAMPLES per operation, every check, a summary; PostgreSQL
## too when ENABLEY_TEST_POSTGRES_URL is set. Repeat a run with ENABLEY_FUZZ_SEED=<seed it printed>.
FUZZ_EXAMPLES ?= 100
fuzz: $(VENV)/.dev
	ENABLEY_FUZZ_DEEP=1 ENABLEY_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/pytest -q -p no:cacheprovider tests/security/test_contract.py -k test_operation_keeps_its_contract

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) node_modules enabley.db enabley.db-wal enabley.db-shm demo.env .pytest_cache \
		certificate.pdf groups.csv users.csv bad groups.jsonl

## bench: every hot path against its ceiling at 10k, 100k and 1M users, SQLite and PostgreSQL, the
## lookup beside a raw ASGI + sqlite3 ceiling, lookups beside a slow client (stall), PostgreSQL behind
## a 1 ms latency proxy (remote), then the bulk upload (wrk from Debian's packages; the data is built
## once, then cached in bench/.cache), the compliance API's summary and pages (bench/compliance.py),
## SCIM's lookups, pages and creations (bench/scim.py).
## One scenario alone: python bench/run.py --scenario stall
## bench-quick: the two-minute subset (SQLite, 10,000 users)
ENABLEY_BENCH_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
bench: $(VENV)/.dev
	@command -v wrk >/dev/null || apt-get install -y wrk
	ENABLEY_BENCH_POSTGRES_URL=$(ENABLEY_BENCH_POSTGRES_URL) $(BIN)/python bench/run.py
	-ENABLEY_BENCH_POSTGRES_URL=$(ENABLEY_BENCH_POSTGRES_URL) $(BIN)/python bench/upload.py
	-ENABLEY_BENCH_POSTGRES_URL=$(ENABLEY_BENCH_POSTGRES_URL) $(BIN)/python bench/events.py
	ENABLEY_BENCH_POSTGRES_URL=$(ENABLEY_BENCH_POSTGRES_URL) $(BIN)/python bench/compliance.py --users 100000 --users 1000000
	ENABLEY_BENCH_POSTGRES_URL=$(ENABLEY_BENCH_POSTGRES_URL) $(BIN)/python bench/webhooks.py
	$(BIN)/python bench/scim.py

bench-quick: $(VENV)/.dev
	@command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python bench/run.py --quick

## bench-upload: one bulk upload of 100,000 users and 1,000 groups, then again, timed end to end
## (SQLite; PostgreSQL too when ENABLEY_BENCH_POSTGRES_URL names a server)
bench-upload: $(VENV)/.dev
	$(BIN)/python bench/upload.py
