# Two commands for a newcomer: `make run` and `make test`. Every install step lives here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install db demo fonts browser readers lint format bench clean translations translations-update

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# Compiled catalogues are built here, never committed.
MO := $(patsubst %.po,%.mo,$(wildcard evalsurvey/translations/*/LC_MESSAGES/messages.po))

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(MO)

# After changing messages: extract them and merge into the catalogues, then translate.
translations-update: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k DomainError -k QuestionnaireError \
		-k PublishedError -k problem:3 --no-location --sort-output -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d evalsurvey/translations --no-fuzzy-matching
	rm -f messages.pot

install: $(STAMP) translations

# Bring the embedded SQLite database in instance/ to the newest schema.
db: install
	$(BIN)/evalsurvey db upgrade

# Load the demo district only into an empty database.
demo: db
	$(BIN)/evalsurvey demo --if-empty

run: fonts demo
	@$(BIN)/evalsurvey info
	$(BIN)/evalsurvey run --host 127.0.0.1 --port 5000

# A CJK font so pages, charts and PDFs of Chinese text show characters, not boxes, a colour
# emoji font for a 👍 in a comment or note (without it the emoji is a box and nothing else
# fails), and Pango, which WeasyPrint renders the PDF reports with (Debian's packages).
# Matplotlib keeps a list of the fonts it found: one made before the font came would never
# see it.
fonts:
	@{ fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" && ldconfig -p | grep -q libpangoft2-1.0 \
		&& ldconfig -p | grep -q libharfbuzz-subset && fc-list 2>/dev/null | grep -qi "Noto Color Emoji" ; } || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-wqy-microhei \
		fonts-noto-color-emoji fontconfig libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null && \
		rm -f "$${MPLCONFIGDIR:-$$HOME/.cache/matplotlib}"/fontlist-*.json; }

# Debian's Chromium for the Playwright test (Playwright cannot download a browser here).
browser: fonts
	@command -v chromium >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@command -v chromium

# GNU PSPP (Debian's), an independent reader of the SPSS export in tests/reports/test_spss.py
# (the test is skipped without it).
readers:
	@command -v pspp >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq pspp >/dev/null; }

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format evalsurvey tests benchmarks

test: install browser readers lint
	HYPOTHESIS_STORAGE_DIRECTORY=$(CURDIR)/.pytest_cache/hypothesis $(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/bench_analyze.py

clean:
	rm -rf $(VENV) .pytest_cache
