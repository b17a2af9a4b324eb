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

TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

ITEM_PIPELINES = {
    "cnis_crawler.pipelines.ExtractArticlePipeline": 100,
    "cnis_crawler.pipelines.ValidateArticlePipeline": 200,
    "cnis_crawler.incremental.VersionArticlePipeline": 300,
}
# First of all downloader middlewares: where a request leaves the queue, the page is begun.
DOWNLOADER_MIDDLEWARES = {"cnis_crawler.incremental.InFlightMiddleware": 50}
EXTENSIONS = {
    "cnis_crawler.incremental.IncrementalCrawl": 400,
    "cnis_crawler.extensions.SectionReport": 500,
    "cnis_crawler.extensions.SectionProgress": 510,
}
# Seconds between the per-section progress lines of a crawl (0: none).
CNIS_PROGRESS_INTERVAL = 60

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
