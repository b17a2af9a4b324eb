# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
PYTHON3 ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MIRROR := tests/fixtures/site

.PHONY: demo test install browser lint mirror fixtures bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON3) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Serve the offline mirror on loopback and crawl it into output/: everything the first time,
# only what is new after that (the log's "Incremental accounting" line says what was done);
# then the dataset (output/export/) and the report (output/report.html).
demo: $(STAMP)
	$(BIN)/cnis-crawler mirror $(MIRROR) -- $(BIN)/scrapy crawl cnis -a mirror={url}
	@latest=$$(ls -t output/cnis-*.jsonl | head -n 1); \
	  echo "Newest output file: $$latest ($$(wc -l < $$latest) records); a record with pictures, standards and committees:"; \
	  grep -m 1 '"images": \[{.*"committees": \["' $$latest || head -c 600 $$latest; echo
	$(BIN)/cnis-crawler export --format jsonl --format csv --format parquet
	$(BIN)/cnis-crawler report

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The report's test opens it in a real browser: Debian's Chromium, installed once if missing.
browser:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the report's browser test"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check cnis_crawler tests

# Serve the mirror until Ctrl-C (prints its base URL).
mirror: $(STAMP)
	$(BIN)/cnis-crawler mirror $(MIRROR)

# Regenerate the mirror and its four drift variants from tests/fixtures/source/*.json.
fixtures: $(STAMP)
	$(BIN)/python tests/fixtures/build_mirror.py
	$(BIN)/python tests/fixtures/build_drift.py

# Extraction quality against trafilatura on every fixture and drift page, then the requests an
# incremental crawl saves on a generated 5,000-article mirror, then crawl throughput and memory
# against a plain Scrapy spider on 1,000 and 10,000 articles, and what -a files=1 adds (benchmarks/).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.extraction_quality
	$(BIN)/python -m benchmarks.incremental --articles 5000
	$(BIN)/python -m benchmarks.throughput
	$(BIN)/python -m benchmarks.files
	$(BIN)/python -m benchmarks.reextract --crawl-rounds 2

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
