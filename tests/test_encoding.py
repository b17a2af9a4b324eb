"""Page bytes to text, on the mirror's real bytes and on each way a declaration can be wrong."""

from __future__ import annotations

import codecs

import pytest
from scrapy.http import HtmlResponse

from cnis_crawler.extraction.encoding import decode_html
from tests.conftest import SITE, page_text, response_for

# 䶮 (U+4DAE, CJK Extension A) exists only in GB18030, not in GBK: 镕, 堃 and 喆 are GBK.
TEXT = "中国标准化研究院 朱镕基 王堃 李喆 刘䶮"


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
        pytest.param(page(None).encode("gb18030"), "text/html; charset=ISO-8859-1", id="latin-1-header"),
        pytest.param(page("latin1").encode("gb18030"), "text/html", id="latin-1-meta"),
    ],
)
def test_every_way_of_declaring_decodes_the_same_text(body: bytes, content_type: str | None) -> None:
    assert TEXT in decode_html(body, content_type)


def test_undecodable_bytes_are_replaced_not_fatal() -> None:
    assert decode_html(b"<p>\xff\xfe\xfd\x80</p>", "text/html; charset=bogus").startswith("<p>")


def test_one_stray_byte_costs_one_character_not_the_page() -> None:
    body = page("utf-8").encode("utf-8").replace("标准".encode(), "标准".encode()[:-1], 1)
    text = decode_html(body, "text/html; charset=utf-8")
    assert "中国" in text
    assert "研究院 朱镕基 王堃 李喆 刘䶮" in text
    assert text.count("\ufffd") == 1


def test_a_real_single_byte_page_still_decodes() -> None:
    body = '<html><head><meta charset="iso-8859-1"></head><body>café</body></html>'.encode("latin-1")
    assert "café" in decode_html(body, "text/html; charset=ISO-8859-1")


MIRROR_CASES = {
    "www.cnis.ac.cn/bydt/zhxw/201910/t20191015_45310.html": "刘䶮",  # gbk declared, GB18030-only
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
