"""What the crawl does to be fast: each shortcut checked for what it could break."""

from __future__ import annotations

import gc
import inspect

import pytest
from scrapy import Spider, signals
from scrapy.utils.misc import is_generator_with_return_value
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from cnis_crawler.crawling.extensions import FreezeStartupObjects
from cnis_crawler.crawling.spider import CnisSpider


def test_objects_alive_at_spider_open_are_frozen_for_the_crawl_only() -> None:
    extensions = get_project_settings().getwithbase("EXTENSIONS")
    assert "cnis_crawler.crawling.extensions.FreezeStartupObjects" in extensions
    crawler = get_crawler(Spider)
    extension = FreezeStartupObjects.from_crawler(crawler)  # noqa: F841 (signals hold it weakly)
    spider = Spider("s")
    alive_at_open = [object()]  # a container the collector tracks
    try:
        crawler.signals.send_catch_log(signals.spider_opened, spider=spider)
        # Frozen objects are no longer the collector's to walk: everything alive then (the
        # test run's modules: tens of thousands of objects), this list too.
        assert gc.get_freeze_count() > 10_000
        assert not any(tracked is alive_at_open for tracked in gc.get_objects())
        crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="finished")
        assert gc.get_freeze_count() == 0
        assert any(tracked is alive_at_open for tracked in gc.get_objects())
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(
    "callback",
    [
        getattr(CnisSpider, name)
        for name in dir(CnisSpider)
        if name.startswith("parse_") or name.endswith("_failed")
    ],
    ids=lambda callback: callback.__name__,
)
def test_no_callback_returns_a_value_scrapy_would_have_warned_of(callback: object) -> None:
    """WARN_ON_GENERATOR_RETURN_VALUE is off (Scrapy read every callback's source again at every
    response): its check runs here instead, once. (An async generator cannot return a value.)"""
    assert get_project_settings().getbool("WARN_ON_GENERATOR_RETURN_VALUE") is False
    if not inspect.isasyncgenfunction(callback):
        assert inspect.isgeneratorfunction(callback)
        assert not is_generator_with_return_value(callback)
