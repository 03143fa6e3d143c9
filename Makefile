# omni_payment_methods: run the demo and the tests (see README.md).
#
#   make run            demo on http://127.0.0.1:8069 (Ctrl-C stops everything)
#   make test           the linters, then every test: the tests that need no Odoo, each
#                       addon's Odoo suites (pytest-odoo), Odoo's own payment,
#                       payment_stripe and account_payment suites with our addons installed,
#                       and each addon installed alone;
#                       pytest arguments: make test ARGS="-k expiry -x" (then Odoo's own
#                       suites are left out when ARGS names test paths)
#   make test-quick     the linters and the tests that need no Odoo (no install)
#   make test-dates     the tests with the clock moved (libfaketime) to 2027-01-31 23:30,
#                       2028-02-29 and 2028-03-15: no test depends on the day it runs
#   make odoo-suites    Odoo's own payment / payment_stripe / account_payment suites
#   make uninstall-check  upgrade keeps every stored value; after uninstalling our addons,
#                       Odoo's payment suites pass (about 5 minutes)
#   make upgrade-check FROM=REF  a database of the addons of git commit REF (default
#                       d28a3cd, the single module before the split), upgraded to the
#                       working tree's addons, keeps every stored value
#   make deps           pip install -r requirements-test.txt into $(PYTHON), npm ci
#   make lint           ruff check, ruff format --check, pylint-odoo, prettier --check
#   make format         ruff format, ruff check --fix, prettier --write (our addons' XML)
#   make i18n           regenerate each addon's .pot (throwaway install), merge it into its .po
#
# Which Odoo (tools/odoo_source.py):
#   ODOO_SOURCE=/path/to/odoo-18.0.tar.gz make test   an Odoo source archive, a checkout, a
#                       URL of an archive, or a directory of archives (ODOO_VERSION=18.0
#                       picks one): unpacked with its own interpreter and Odoo's
#                       requirements into .omni/odoo/, reused while the source is the same
#   ODOO_HOME=/path/to/odoo PYTHON=/path/to/python-with-its-requirements make test
#   or an `odoo` importable by $(PYTHON).

PYTHON ?= python3
ODOO_HOME ?=
ODOO_SOURCE ?=
ODOO_VERSION ?=
ARGS ?=
TAGS ?=
FROM ?=
# our addons: the folders holding a __manifest__.py
ADDONS := $(patsubst %/__manifest__.py,%,$(wildcard */__manifest__.py))

export ODOO_HOME ODOO_SOURCE ODOO_VERSION

OMNICTL := $(PYTHON) tools/omnictl.py

.PHONY: help run test test-quick odoo-suites uninstall-check upgrade-check deps lint format i18n \
	stop-leftovers

help:
	@sed -n '1,30p' Makefile

run:
	$(OMNICTL) run

test:
	$(OMNICTL) test -- $(ARGS)

test-quick:
	$(OMNICTL) test --no-odoo -- $(ARGS)

odoo-suites:
	$(OMNICTL) odoo-suites $(if $(TAGS),--tags $(TAGS))

uninstall-check:
	$(OMNICTL) uninstall-check $(if $(TAGS),--tags $(TAGS))

upgrade-check:
	$(OMNICTL) upgrade-check $(if $(FROM),--from $(FROM))

deps:
	$(OMNICTL) deps

stop-leftovers:
	$(OMNICTL) stop-leftovers

lint:
	$(OMNICTL) lint

format: deps
	$(PYTHON) -m ruff format .
	$(PYTHON) -m ruff check --fix .
	node_modules/.bin/prettier --write --no-error-on-unmatched-pattern \
		$(foreach addon,$(ADDONS),"$(addon)/**/*.xml")

i18n:
	$(OMNICTL) i18n

# Benchmarks (bench/README.md): about 11 minutes, rewrites bench/results/;
# make bench ARGS=--quick for a 4-minute run with small sizes.
.PHONY: bench
bench:
	$(PYTHON) bench/run_all.py $(ARGS)

# make test-dates: no test may depend on the day it runs. The tests (not the linters) on a
# moved clock, seen alike by Odoo, PostgreSQL and localstripe (libfaketime: apt-get install
# faketime): a month's last evening, 29 February, more than a year ahead (UTC; ARGS as for
# test). The clock is moved by an offset: it keeps running (timeouts work) and every process
# reads the same time whenever it starts; test_clock.py checks that PostgreSQL does.
TEST_DATES ?= 2027-01-31T23:30 2028-02-29T10:00 2028-03-15T10:00
.PHONY: test-dates
test-dates:
	@command -v faketime >/dev/null || { echo "test-dates needs faketime (apt-get install faketime)"; exit 1; }
	@failed=; for when in $(TEST_DATES); do \
		echo "== make test on $$when UTC"; \
		offset=$$(( $$(date -u -d $$when +%s) - $$(date +%s) )); \
		faketime -f "$$(printf %+d $$offset)" $(OMNICTL) test --no-lint -- $(ARGS) || failed="$$failed $$when"; \
	done; test -z "$$failed" || { echo "test-dates FAILED on:$$failed"; exit 1; }
