"""Scrapy settings for cnis-crawler: polite on the live site, JSON lines under output/."""

BOT_NAME = "cnis_crawler"
SPIDER_MODULES = ["cnis_crawler.spiders"]
NEWSPIDER_MODULE = "cnis_crawler.spiders"

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
# Retries wait (cnis_crawler.retry): 2, 4, 8 s ±25 % (varied, so that pages failing together do
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
    "cnis_crawler.pipelines.ExtractArticlePipeline": 100,
    "cnis_crawler.pipelines.ValidateArticlePipeline": 200,
    "cnis_crawler.incremental.VersionArticlePipeline": 300,
}
# First of all downloader middlewares: where a request leaves the queue, the page is begun.
DOWNLOADER_MIDDLEWARES = {
    "cnis_crawler.incremental.InFlightMiddleware": 50,
    # Scrapy's retries, waiting with backoff (cnis_crawler.retry), in its place in the chain.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "cnis_crawler.retry.BackoffRetryMiddleware": 550,
}
EXTENSIONS = {
    "cnis_crawler.incremental.IncrementalCrawl": 400,
    "cnis_crawler.extensions.SectionReport": 500,
    "cnis_crawler.extensions.SectionProgress": 510,
    # After SectionReport: its table is logged first, then why the crawl is judged unhealthy.
    "cnis_crawler.health.CrawlHealth": 520,
    "cnis_crawler.extensions.FreezeStartupObjects": 900,
}
# Seconds between the per-section progress lines of a crawl (0: none).
CNIS_PROGRESS_INTERVAL = 60
# A crawl dropping more than this share of the articles it fetched closes as too_many_drops and
# exits 3 (cnis_crawler.health; 0: no limit): a changed site shows as drops.
CNIS_MAX_DROP_SHARE = 0.2
# `scrapy crawl` exits 3 when a crawl closes unhealthy (section_empty, too_many_drops).
COMMANDS_MODULE = "cnis_crawler.commands"

# One set of files per run (run_id: its start time, to the microsecond). A record counts as
# known to the crawl state once its batch file is stored, so a run killed mid-way keeps every
# completed batch and the next run fetches only the rest again.
FEEDS = {
    "output/%(name)s-%(run_id)s-%(batch_id)03d.jsonl": {
        "format": "jsonlines",
        "item_classes": ["cnis_crawler.items.Article"],
        "batch_item_count": 100,
    }
}
FEED_EXPORT_ENCODING = "utf-8"
# A run that finds nothing new leaves its summary, not an empty file.
FEED_STORE_EMPTY = False
# Local feed files are written aside and renamed into place when complete: never half a line.
FEED_STORAGES = {
    "": "cnis_crawler.feedstorage.AtomicFileFeedStorage",
    "file": "cnis_crawler.feedstorage.AtomicFileFeedStorage",
}
CNIS_SUMMARY_PATH = "output/%(name)s-%(run_id)s.summary.json"

# Incremental crawls (cnis_crawler.incremental): what earlier runs learnt, and where a killed
# run's request queue waits (JOBDIR = <CNIS_JOBS_DIR>/<spider>, unless -s JOBDIR= is given).
CNIS_STATE_PATH = "output/state.sqlite"
CNIS_RECHECK_PAGES = 1
CNIS_JOBS_DIR = "output/jobs"
# SQLite disk queues survive a kill; the flat priority queue keeps one file per priority, which
# lets cnis_crawler.jobdir reopen the queues of a killed job.
SCHEDULER_DISK_QUEUE = "cnis_crawler.jobdir.WalSQLiteQueue"
# Start requests (thousands when revalidating) share those queues by priority: a queue of their
# own is emptied by every pop and reopened by every push, a new SQLite file each time.
SCHEDULER_START_DISK_QUEUE = None
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.ScrapyPriorityQueue"
DUPEFILTER_CLASS = "cnis_crawler.jobdir.FlushingDupeFilter"

LOG_LEVEL = "INFO"
# Scrapy checks every callback, at every response, for a generator returning a value (source read
# and parsed again whenever its weak cache misses, which is per request for requests read back
# from the disk queue): 2.5 % of a crawl's time for a check that concerns the spider's code only.
WARN_ON_GENERATOR_RETURN_VALUE = False
