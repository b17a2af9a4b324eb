"""Quality gate: our extraction over every fixture and drift page, held to the pinned floors.

The figures are those of ``benchmarks/extraction_quality.py`` (see its docstring for the
definitions), computed here for our extractor alone: no trafilatura, no timing. The floors are
in ``benchmarks/quality_floors.json``; ``python -m benchmarks.extraction_quality --pin`` re-pins
them and never lowers one. A failure names the pages that drag the figure down.
"""

from __future__ import annotations

import pytest

from benchmarks import extraction_quality as bench

SETS = bench.discover()
PAGES = SETS["all"]
FLOORS = bench.read_floors()
FIELD_OF = {"title_exact": "title", "date_exact": "date", "source_exact": "source"}


@pytest.fixture(scope="module")
def scores() -> dict[str, bench.PageScore]:
    return bench.our_scores(PAGES)


@pytest.fixture(scope="module")
def ours(scores: dict[str, bench.PageScore]) -> bench.Figures:
    return bench.figures(list(scores.values()), timed=False)


def test_every_page_set_is_found() -> None:
    assert len(SETS["original"]) >= 60, "tests/fixtures/site has lost its article pages"
    assert len(PAGES) == sum(len(pages) for name, pages in SETS.items() if name != "all")
    assert len({page.id for page in PAGES}) == len(PAGES)
    assert {"drift/a", "drift/b", "drift/c", "drift/d"} <= set(SETS), "the drift variants must be scored too"
    assert len(PAGES) >= FLOORS["_pinned_over_pages"], "fewer pages than the floors were pinned over"


def test_floors_are_pinned() -> None:
    missing = [key for key in (*bench.QUALITY_FLOORS, bench.LEAK_CEILING) if key not in FLOORS]
    assert not missing, f"{bench.FLOORS} lacks {missing}; run `python -m benchmarks.extraction_quality --pin`"


@pytest.mark.parametrize("key", bench.QUALITY_FLOORS)
def test_figure_holds_its_floor(key: str, ours: bench.Figures, scores: dict[str, bench.PageScore]) -> None:
    figure, floor = getattr(ours, key), FLOORS[key]
    if key == "body_f1":
        dragging = [
            f"{s.page}: F1 {s.body_f1:.4f}, extra lines {s.extra[:3]}"
            for s in sorted(scores.values(), key=lambda s: s.body_f1)
            if s.body_f1 < 1.0
        ]
    else:
        field = FIELD_OF[key]
        dragging = [
            f"{s.page}: {field} {s.wrong[field][0]!r}, expected {s.wrong[field][1]!r}"
            for s in scores.values()
            if field in s.wrong
        ]
    shown = "\n  ".join(dragging[:15])
    assert figure >= floor, f"{key} {figure:.6f} fell below its floor {floor}; worst pages:\n  {shown}"


def test_leaked_lines_within_ceiling(ours: bench.Figures, scores: dict[str, bench.PageScore]) -> None:
    leaking = [f"{s.page}: {s.leaked}" for s in scores.values() if s.leaked]
    shown = "\n  ".join(leaking[:15])
    assert ours.leaked_lines <= FLOORS[bench.LEAK_CEILING], (
        f"{ours.leaked_lines} boilerplate lines leaked (ceiling {FLOORS[bench.LEAK_CEILING]}):\n  {shown}"
    )


# The boilerplate signatures must recognise the sites' chrome (facts, section 4; fixture traps)
# and leave body sentences that merely look like labels alone.
BOILERPLATE = (
    "©China National Institute of Standardization | Privacy Policy | Contact Us",
    "Support: CNIS Information Technology Management Office & Biaoxin Science & Technology (Beijing) Co.",
    "Copyright © 2024 China National Institute of Standardization",
    "版权所有:中国标准化研究院 技术支持:标新科技(北京)有限公司",
    "京ICP备10046988号-34 京公海网安备110108001709号",
    "地址:北京市海淀区知春路4号 电话:010-58811536; 010-58811460",
    "Email:yuanban@cnis.ac.cn 邮编:100191",
    "About CNIS",
    "News Publications Resources Links",
    "首页 本院概况 本院动态 通知公告 科研成果 党建工作",
    "Mail|Chinese",
    "设为首页收藏本站",
    "Your Location:CNIS Home->News->CNIS news",
    "首页＞本院动态＞标院新闻",
    "Share to: WeChat Weibo LinkedIn [Print] [Close]",
    "分享到：微信 微博",
    "【打印本页】【关闭窗口】",
    "此页面上的内容需要较新版本的 Adobe Flash Player。",
    "获取 Adobe Flash Player",
    "Attachments:",
    "附件:",
    "附件1：征求意见反馈表.doc",
    "Related news",
    "相关新闻",
    "| 首页 | 本院概况 | 本院动态 |",
)
BODY_LIKE = (
    "Theme: standards for the digital economy",
    "Data Source: national statistics",
    "时间紧、任务重，项目组按期完成了研究。",
    "培训内容包括：",
    "Share of digital services in the economy rose to 38 percent.",
    "Copyright protection of standards in digital form is an open question.",
    "News of the award reached the institute in March.",
)


@pytest.mark.parametrize("line", BOILERPLATE)
def test_signature_flags_boilerplate(line: str) -> None:
    assert bench.is_boilerplate(" ".join(line.split()), None, frozenset())


@pytest.mark.parametrize("line", BODY_LIKE)
def test_signature_spares_body_text(line: str) -> None:
    assert not bench.is_boilerplate(line, None, frozenset())


def test_related_titles_are_boilerplate_but_not_the_own_title() -> None:
    titles = frozenset({"CNIS holds 2024 work conference", "中国标准化研究院举办第八十一期“标准化大讲堂”"})
    assert bench.is_boilerplate("CNIS holds 2024 work conference", None, titles)
    assert bench.is_boilerplate("CNIS holds 2024 work...", None, titles)
    assert bench.is_boilerplate("中国标准化研究院举办第八十一期… 2025-10-22", None, titles)
    assert not bench.is_boilerplate(
        "CNIS holds 2024 work conference", "CNIS holds 2024 work conference", titles
    )


def test_tokens_and_f1() -> None:
    assert bench.tokens("ISO/TC 268, Smart-city 标准化。") == [
        "iso",
        "tc",
        "268",
        "smart",
        "city",
        "标",
        "准",
        "化",
    ]
    assert bench.token_f1("a b c", "a b c") == 1.0
    assert bench.token_f1("", "") == 1.0
    assert bench.token_f1("x", "a") == 0.0
    assert bench.token_f1("a b", "a b c d") == pytest.approx(2 / 3)


def test_a_pin_never_lowers_a_floor_nor_raises_the_ceiling(ours: bench.Figures) -> None:
    strict = {**dict.fromkeys(bench.QUALITY_FLOORS, 1.0), bench.LEAK_CEILING: 0}
    worse = bench.Figures(ours.pages, 0.5, 0.5, 0.5, 0.5, 7, 9, None)
    assert {key: value for key, value in bench.pinned(strict, worse).items() if key in strict} == strict
    fresh = bench.pinned({}, ours)
    assert all(fresh[key] <= getattr(ours, key) for key in bench.QUALITY_FLOORS)
    assert fresh[bench.LEAK_CEILING] == ours.leaked_lines
