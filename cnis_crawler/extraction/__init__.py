"""Pure functions from a page's HTML and live URL to fields. Nothing here imports Scrapy."""

from cnis_crawler.extraction.article import RUNGS, ArticleFields, extract_article
from cnis_crawler.extraction.listing import (
    ListingPage,
    extract_article_links,
    extract_article_parts,
    extract_listing,
)

__all__ = [
    "RUNGS",
    "ArticleFields",
    "ListingPage",
    "extract_article",
    "extract_article_links",
    "extract_article_parts",
    "extract_listing",
]
