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
    "cnis_crawler.pipelines.DeduplicateArticlePipeline": 300,
}
EXTENSIONS = {"cnis_crawler.extensions.SectionReport": 500}

FEEDS = {
    "output/%(name)s-%(time)s.jsonl": {
        "format": "jsonlines",
        "item_classes": ["cnis_crawler.items.Article"],
    }
}
FEED_EXPORT_ENCODING = "utf-8"
# Local feed files are written aside and renamed into place when complete: never half a line.
FEED_STORAGES = {
    "": "cnis_crawler.feedstorage.AtomicFileFeedStorage",
    "file": "cnis_crawler.feedstorage.AtomicFileFeedStorage",
}
CNIS_SUMMARY_PATH = "output/%(name)s-%(time)s.summary.json"

LOG_LEVEL = "INFO"
