# AI Aggregator — the two commands of the README, plus a few helpers.
#   make run    install what is missing, build, start the embedded gateway (SQLite, stub provider)
#   make test   install what is missing, start PostgreSQL and Redis on loopback, run every test
SHELL := /bin/bash

.PHONY: run test build release migrations tools bench clean

# The binary carries its migrations and the dashboard: both are generated into Swift files (committed).
migrations:
	@python3 scripts/embed-migrations.py 2>/dev/null || { scripts/ensure-tools.sh python && python3 scripts/embed-migrations.py; }
	@python3 scripts/embed-dashboard.py

# The build needs hiredis (libhiredis-dev): installed here when missing.
tools:
	@scripts/ensure-tools.sh hiredis

build: migrations tools
	swift build --product aggregator

release: migrations tools
	swift build -c release --product aggregator

run: release
	./.build/release/aggregator serve

test:
	scripts/ensure-tools.sh python hiredis redis chromium
	$(MAKE) migrations
	scripts/test.sh

bench: release
	scripts/bench.sh

clean:
	rm -rf .build .venv
