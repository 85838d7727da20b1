# The hub's two everyday commands: `make run` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

# Where `make run` serves the hub and the sandbox: `make run PORT=8080 SANDBOX_PORT=8081`.
PORT ?= 8000
SANDBOX_PORT ?= 8001
# The hub's local data, keys and queue (settings read HUB_VAR_DIR too).
VAR_DIR := $(or $(HUB_VAR_DIR),var)

# Tests run against PostgreSQL and Redis on this machine unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/hub
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-lite fuzz lint bench clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(VAR_DIR)/hub.env:
	$(PY) -m hub.envfile $@

run: $(VENV)/.runtime $(VAR_DIR)/hub.env
	$(PY) manage.py run_hub --port $(PORT) --sandbox-port $(SANDBOX_PORT)

test: $(VENV)/.dev
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_REDIS_URL)} \
	$(PY) -m pytest $(ARGS)

# The same suite on the embedded defaults (SQLite, filesystem queue), no services needed.
test-lite: $(VENV)/.dev
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL $(PY) -m pytest $(ARGS)

# A longer fuzz of every API operation than the suite's: more examples per operation and
# the coverage phase (every boundary of every parameter). FUZZ_EXAMPLES=N to change.
FUZZ_EXAMPLES ?= 200
fuzz: $(VENV)/.dev
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_COVERAGE=1 \
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_REDIS_URL)} \
	$(PY) -m pytest tests/hub/test_schema_fuzz.py $(ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

# The bench's sandboxes take free loopback ports.
bench: $(VENV)/.runtime $(VAR_DIR)/hub.env
	OUTBOUND_ALLOWED_HOSTS="127.0.0.1:*" $(PY) manage.py bench $(ARGS)

clean:
	rm -rf $(VAR_DIR)/queue $(VAR_DIR)/cache $(VAR_DIR)/static
