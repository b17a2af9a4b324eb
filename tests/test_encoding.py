"""Page bytes to text, on the mirror's real bytes and on each way a declaration can be wrong."""

from __future__ import annotations

import codecs

import pytest
from scrapy.http import HtmlResponse

from cnis_crawler.encoding import decode_html
from tests.conftest import SITE, page_text, response_for

TEXT = "中国标准化研究院 朱镕基 王堃 李喆"


def page(charset: str | None) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    return f"<html><head>{meta}</head><body><p>{TEXT}</p></body></html>"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(page("gb2312").encode("gb18030"), "text/html", id="gb2312-declared-gb18030-used"),
        pytest.param(page("gbk").encode("gb18030"), "text/html", id="gbk-declared-gb18030-used"),
        pytest.param(page(None).encode("utf-8"), "text/html", id="undeclared-utf8"),
        pytest.param(page(None).encode("gb18030"), "text/html", id="undeclared-gbk"),
        pytest.param(page("gb2312").encode("gb18030"), "text/html; charset=utf-8", id="header-lies"),
        pytest.param(page("gb2312").encode("utf-8"), "text/html; charset=gbk", id="meta-and-header-lie"),
        pytest.param(codecs.BOM_UTF8 + page("gb2312").encode("utf-8"), "text/html", id="bom"),
        pytest.param(page("gb2312").encode("gb18030"), None, id="no-content-type"),
    ],
)
def test_every_way_of_declaring_decodes_the_same_text(body: bytes, content_type: str | None) -> None:
    assert TEXT in decode_html(body, content_type)


def test_undecodable_bytes_are_replaced_not_fatal() -> None:
    assert decode_html(b"<p>\xff\xfe\xfd\x80</p>", "text/html; charset=bogus").startswith("<p>")


MIRROR_CASES = {
    "www.cnis.ac.cn/bydt/zhxw/201910/t20191015_45310.html": "陈镕",  # gbk declared
    "www.cnis.ac.cn/bydt/zhxw/202209/t20220908_53204.html": "研修班",  # undeclared UTF-8
    "www.cnis.ac.cn/bydt/kydt/201109/t20110920_19540.html": "课题",  # undeclared GBK
    "www.cnis.ac.cn/bydt/kydt/201807/t20180712_39105.html": "启动会",  # header says utf-8
    "www.cnis.ac.cn/tzgg/201709/t20170906_37214.html": "招聘",  # BOM, meta says gb2312
    "www.cnis.ac.cn/bydt/zhxw/201504/t20150422_31876.html": "王堃",  # gb2312 declared
}


@pytest.mark.parametrize(("path", "word"), MIRROR_CASES.items())
def test_mirror_pages_decode_as_the_crawler_reads_them(path: str, word: str) -> None:
    text = page_text(SITE / path)
    assert word in text
    assert "\ufffd" not in text


def test_scrapy_alone_trusts_a_lying_header() -> None:
    """Why the adapter exists: Scrapy decodes by the first declaration, here the server's."""
    response = response_for(SITE / "www.cnis.ac.cn/bydt/kydt/201807/t20180712_39105.html")
    assert isinstance(response, HtmlResponse)
    assert response.encoding == "utf-8"
    assert "\ufffd" in response.text
    assert "启动会" not in response.text
