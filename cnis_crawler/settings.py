"""Scrapy settings for cnis-crawler: polite on the live site, JSON lines under output/."""

from cnis_crawler.crawling import items

BOT_NAME = "cnis_crawler"
SPIDER_MODULES = ["cnis_crawler.crawling.spider"]
NEWSPIDER_MODULE = "cnis_crawler.crawling.spider"

USER_AGENT = "cnis-crawler/0.1 (research crawler of CNIS news; set USER_AGENT to add a contact)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# An article page is a few kB: one that has sent nothing for 30 s will not, and with Scrapy's
# 180 s a page timing out on every try would hold a slot for 12 minutes.
DOWNLOAD_TIMEOUT = 30
# Up to 3 retries of a page failing for a reason that may pass (4 tries), then a FetchFailed
# drop that the next run fetches again.
RETRY_TIMES = 3
# Scrapy's list: what an overloaded or restarting server (or its proxy) answers. Cloudflare's
# other 52x (520, 521, 523) are left out: nothing shows the CNIS sites behind Cloudflare.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Retries wait (cnis_crawler.crawling.retry): 2, 4, 8 s ±25 % (varied, so that pages failing together do
# not return together), or a 429/503's Retry-After if longer; never more than 60 s.
CNIS_RETRY_BACKOFF_BASE = 2.0
CNIS_RETRY_BACKOFF_MAX = 60.0
CNIS_RETRY_BACKOFF_JITTER = 0.25

# Scrapy hands a callback's output to this many asyncio tasks, created anew for every response
# (default 100): concurrency only pipelines that wait on something would use. Ours compute, and
# an article page gives one item. A 10,000-article crawl on loopback: 38.5-41.9 s with 100,
# 29.1-31.0 s with 16, 32.8-33.6 s with 1.
CONCURRENT_ITEMS = 16

TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

ITEM_PIPELINES = {
    "cnis_crawler.crawling.pipelines.ExtractArticlePipeline": 100,
    "cnis_crawler.crawling.pipelines.ValidateArticlePipeline": 200,
    "cnis_crawler.crawling.versions.VersionArticlePipeline": 300,
    # Off unless asked (-a files=1 or CNIS_FILES = True): attachments and pictures into FILES_STORE.
    "cnis_crawler.crawling.files.ArticleFilesPipeline": 400,
}
CNIS_FILES = False
FILES_STORE = "output/files"
# Scrapy's: a file stored this many days ago is fetched again when a record links it.
FILES_EXPIRES = 90
# A file moved on the server is still the file; where it leads to a web page, that page is
# dropped as FileServedAsHtml (cnis_crawler.crawling.files).
MEDIA_ALLOW_REDIRECTS = True
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's retries, waiting with backoff (cnis_crawler.crawling.retry), in its place in the chain.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "cnis_crawler.crawling.retry.BackoffRetryMiddleware": 550,
}
EXTENSIONS = {
    # The crawl state: what to fetch, what a stopped run left, what became of each page.
    "cnis_crawler.crawling.memory.CrawlMemory": 400,
    # Worker processes reading pages (CNIS_EXTRACTION_WORKERS, default: all cores but one).
    "cnis_crawler.crawling.readers.PageReaders": 450,
    "cnis_crawler.crawling.extensions.SectionReport": 500,
    "cnis_crawler.crawling.extensions.SectionProgress": 510,
    # After SectionReport: its table is logged first, then why the crawl is judged unhealthy.
    "cnis_crawler.crawling.health.CrawlHealth": 520,
    # Last: runs CNIS_NOTIFY_COMMAND with the run summary when a run ends unhealthy.
    "cnis_crawler.crawling.notify.NotifyUnhealthy": 530,
    "cnis_crawler.crawling.extensions.FreezeStartupObjects": 900,
    # Every response kept as fetched, in WARC files under output/warc/.
    "cnis_crawler.crawling.archive.WarcArchive": 600,
}
# The archive (cnis_crawler.crawling.archive): on unless turned off; a new file after this many bytes.
CNIS_WARC_ENABLED = True
CNIS_WARC_DIR = "output/warc"
CNIS_WARC_MAX_BYTES = 100_000_000
# Seconds between the per-section progress lines of a crawl (0: none).
CNIS_PROGRESS_INTERVAL = 60
# A crawl dropping more than this share of the articles it fetched closes as too_many_drops and
# exits 3 (cnis_crawler.crawling.health; 0: no limit): a changed site shows as drops.
CNIS_MAX_DROP_SHARE = 0.2
# A command run with the run summary's path when a run ends unhealthy, unreachable or with its
# output not stored (exit 3, 4, 5): e.g. "mail -s 'CNIS crawl' you@example.org -A" (empty: none).
CNIS_NOTIFY_COMMAND = ""
# `scrapy crawl` exits 3 when a crawl closes unhealthy (section_empty, too_many_drops).
COMMANDS_MODULE = "cnis_crawler.crawling.commands"

# One set of files per run (run_id: its start time, to the microsecond). A record counts as
# known to the crawl state once its batch file is stored, so a run killed mid-way keeps every
# completed batch and the next run fetches only the rest again.
FEEDS = {
    "output/%(name)s-%(run_id)s-%(batch_id)03d.jsonl": {
        "format": "jsonlines",
        "item_classes": ["cnis_crawler.crawling.items.Article"],
        "batch_item_count": 100,
    }
}
FEED_EXPORT_ENCODING = "utf-8"
# Nested fields (attachments, extracted_by) as JSON text in CSV, as cnis-crawler export writes them.
FEED_EXPORTERS = {"csv": "cnis_crawler.crawling.exporters.JsonCellCsvItemExporter"}
# A record's fields, in order, for every feed (-o and -O too): the item also carries what the
# crawl state keeps of its fetch, which is no part of the record.
FEED_EXPORT_FIELDS = list(items.RECORD_FIELDS)
# A run that finds nothing new leaves its summary, not an empty file.
FEED_STORE_EMPTY = False
# Local feed files are written aside and renamed into place when complete: never half a line.
FEED_STORAGES = {
    "": "cnis_crawler.crawling.feedstorage.AtomicFileFeedStorage",
    "file": "cnis_crawler.crawling.feedstorage.AtomicFileFeedStorage",
}
CNIS_SUMMARY_PATH = "output/%(name)s-%(run_id)s.summary.json"

# Incremental crawls (cnis_crawler.crawling.memory): what earlier runs learnt, in one SQLite file
# that also lets the next run finish what a stopped or killed one left (no JOBDIR: refused).
CNIS_STATE_PATH = "output/state.sqlite"
CNIS_RECHECK_PAGES = 1
# A folder the menus link whose first page lists no article under it (a landing page, a missing
# page) is read again after this many days, not in every run (0: every run).
CNIS_FOLDER_RECHECK_DAYS = 7
# Folders a run reads at most to find sections (site.py's and those found before aside): a bound on
# a site whose every page links new folders.
CNIS_MAX_FOLDERS = 500
# Observations (unchanged, failed …) committed together, at the latest with each stored feed batch:
# a kill loses at most these, which the next run fetches again.
CNIS_STATE_COMMIT_EVERY = 100

LOG_LEVEL = "INFO"
# Scrapy checks every callback, at every response, for a generator returning a value (its source
# read and parsed again whenever a weak cache misses): a check that concerns the spider's code
# only, made once by tests/test_crawl_speed.py instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
