"""Pure functions from a page's HTML and live URL to fields. Nothing here imports Scrapy."""

from cnis_crawler.extraction.article import RUNGS, ArticleFields, extract_article
from cnis_crawler.extraction.listing import (
    ArticlePageLinks,
    Listed,
    ListingPage,
    extract_article_page_links,
    extract_listing,
)

__all__ = [
    "RUNGS",
    "ArticleFields",
    "ArticlePageLinks",
    "Listed",
    "ListingPage",
    "extract_article",
    "extract_article_page_links",
    "extract_listing",
]
