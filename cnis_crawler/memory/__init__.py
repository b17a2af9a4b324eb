"""The crawl's memory, without Scrapy: the crawl state (one SQLite file), the ledger that holds
a run's observations until they are safe to believe, the state's reader and the run files."""
