"""The Scrapy side: the spider, its pipelines, extensions and middlewares, and the bridge that
tells the crawl's memory (:mod:`cnis_crawler.memory`) what each page became."""
