"""Write a large synthetic mirror of the CNIS sites, for crawl benchmarks at realistic scale.

The hand-made mirror in ``tests/fixtures/site/`` has about 60 articles: enough for correctness,
far too few to measure a crawl. This script writes thousands of articles in the same on-disk
shape (``<host>/<section>/<YYYYMM>/t<YYYYMMDD>_<id>.<ext>``, listings ``index.<ext>``,
``index_1.<ext>`` … newest first with each section's pager script, ``robots.txt``,
``_headers.json``), rendered by ``tests/fixtures/build_mirror.py``'s own templates, but 20 items
per listing page like the real sites and without ``.expected.json`` files. The content is
invented and deterministic from the seed.

``_big_mirror.json`` at the root records every article (minus its body, which is regenerated
from a per-article key), so that :func:`add_articles` and :func:`edit_articles` can change a
mirror later, e.g. between two runs of an incremental crawl.

Run ``python benchmarks/big_mirror.py OUT_DIR --articles 10000 [--seed 0]`` (about 70 MB and
2 s of CPU for 10,000 articles; more on a slow disk), serve it with
``python -m cnis_crawler.tools.mirror OUT_DIR``. ``generate()`` replaces only an earlier generated mirror.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import random
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
MANIFEST = "_big_mirror.json"
PAGE_SIZE = 20
FIRST_DAY = dt.date(2015, 7, 1)
SPAN_DAYS = 3650
FIRST_ID = {"en.cnis.ac.cn": 30000, "en.cnis.gov.cn": 20000, "www.cnis.ac.cn": 20000}
# Share of the articles per section, roughly as on the live sites.
WEIGHTS = {
    ("en.cnis.ac.cn", "xwdt/bydt"): 30, ("en.cnis.ac.cn", "xwdt/bzhdt"): 12,
    ("en.cnis.ac.cn", "kycg"): 6, ("en.cnis.ac.cn", "zdxw"): 6, ("en.cnis.gov.cn", "xwdt/bydt"): 6,
    ("www.cnis.ac.cn", "bydt/zhxw"): 24, ("www.cnis.ac.cn", "bydt/kydt"): 8, ("www.cnis.ac.cn", "tzgg"): 8,
}  # fmt: skip


def _load_templates() -> Any:
    spec = importlib.util.spec_from_file_location("_big_mirror_build", FIXTURES / "build_mirror.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    # render_listing slices by this global; the module object is a private copy, so no test sees it.
    module.PAGE_SIZE = PAGE_SIZE
    return module


bm = _load_templates()

# Word lists the titles and bodies are drawn from.
TOPICS_EN = (
    "energy efficiency", "smart cities", "elderly care services", "food traceability", "water conservation",
    "e-commerce", "quality management", "public service quality", "sensory analysis", "ergonomics",
    "carbon accounting", "logistics", "intelligent manufacturing", "data governance", "circular economy",
)  # fmt: skip
TOPICS_ZH = (
    "能效标准", "智慧城市评价", "养老服务", "食品追溯", "节水", "电子商务交易", "质量管理", "公共服务质量",
    "感官分析", "人类工效学", "碳排放核算", "物流标准化", "智能制造", "数据治理", "消费品安全", "循环经济",
)  # fmt: skip
TITLES = {  # by section path; both English hosts have xwdt/bydt
    "xwdt/bydt": ("CNIS holds {t} seminar in {p}", "CNIS signs cooperation agreement on {t} in {p}"),
    "xwdt/bzhdt": ("ISO publishes new standard on {t} ({p})", "IEC and CEN discuss {t} at {p} meeting"),
    "kycg": ("CNIS completes research on {t} ({p})", "Research report on {t} released in {p}"),
    "zdxw": ("Photo: experts review {t} work in {p}", "Photo: {t} training course opens in {p}"),
    "bydt/zhxw": ("我院召开{t}工作会议（{p}）", "我院与{p}签署{t}合作协议"),
    "bydt/kydt": ("{t}国家标准研制项目通过验收（{p}）", "我院承担的{t}课题在{p}启动"),
    "tzgg": ("关于举办{t}标准化培训班的通知（{p}）", "关于征集{t}标准项目的通知（{p}）"),
}
PLACES_EN = ("Beijing", "Shanghai", "Geneva", "Hangzhou", "Berlin", "Shenzhen", "Wuhan", "Qingdao")
PLACES_ZH = ("北京", "上海", "杭州", "深圳", "武汉", "青岛", "浙江省市场监管局", "国家标准委")
SUBJECTS_EN = (
    "The institute", "Experts from CNIS", "The working group", "Delegates from 14 countries",
    "The research team", "Participants", "The technical committee", "Representatives of enterprises",
)  # fmt: skip
VERBS_EN = ("discussed", "reviewed", "presented", "called for", "highlighted", "examined", "agreed on")
OBJECTS_EN = (
    "the draft national standard on {}", "progress in {}", "the roadmap for {}",
    "international cooperation on {}", "the evaluation results of {}", "pilot projects on {}",
)  # fmt: skip
TAILS_EN = ("", " during the two-day meeting", " at the end of the session", " in the coming year")
SUBJECTS_ZH = ("与会专家", "我院", "项目组", "标准起草组", "各分院负责同志", "技术委员会委员")
VERBS_ZH = ("围绕", "就", "针对")
OBJECTS_ZH = ("开展了深入讨论", "提出了意见和建议", "进行了专题汇报", "作了总结发言", "形成了工作方案")
SOURCES: dict[str, tuple[str | None, ...]] = {
    "en.cnis.ac.cn": ("CNIS", "CNIS", "CNIS", "SAC", "NLS, Standards Information Institute", None),
    "en.cnis.gov.cn": ("CNIS", "CNIS", None),
    "www.cnis.ac.cn": ("院办公室", "标准化理论战略研究所", "资源与环境分院", "质量研究分院", "标准信息所"),
}
SOURCE_NOTES = ("ISO", "IEC", "CEN", "ISO/CEN/IEC")


@dataclass
class Record:
    """One article of the mirror, as kept in the manifest; its body comes from ``body_key``."""

    host: str
    section: str
    doc_id: int
    url_date: str
    date: str
    title: str
    subtitle: str | None
    source: str | None
    source_note: str | None
    n: int  # position on its host in URL-date order: picks build_mirror's optional page elements
    body_key: str

    @property
    def expected_source(self) -> str | None:
        return self.source or self.source_note

    def article(self, with_body: bool = True) -> Any:
        """build_mirror's Article; listings need no body, and bodies are most of the generation time."""
        body = _paragraphs(random.Random(self.body_key), self.host == bm.ZH) if with_body else []
        raw = {**vars(self), "paragraphs": body}
        raw |= {"attachments": None, "related": None, "links_to_profile": False}
        return bm.article_from_json(raw)

    @property
    def path(self) -> str:
        day = self.url_date.replace("-", "")
        return f"{self.section}/{day[:6]}/t{day}_{self.doc_id}.{bm.HOSTS[self.host].ext}"

    @property
    def live_url(self) -> str:
        return bm.live_url(self.host, self.path)


@dataclass(frozen=True)
class GeneratedMirror:
    articles: dict[str, int]  # "<host>/<section>" -> article pages
    listing_pages: dict[str, int]  # "<host>/<section>" -> listing pages
    files: int  # every file written, _big_mirror.json included
    bytes: int

    @property
    def total_articles(self) -> int:
        return sum(self.articles.values())


def _paragraphs(rng: random.Random, zh: bool) -> list[str]:
    pick = rng.choice

    def sentence() -> str:
        if zh:
            return f"{pick(SUBJECTS_ZH)}{pick(VERBS_ZH)}{pick(TOPICS_ZH)}{pick(OBJECTS_ZH)}。"
        what = pick(OBJECTS_EN).format(pick(TOPICS_EN))
        return f"{pick(SUBJECTS_EN)} {pick(VERBS_EN)} {what}{pick(TAILS_EN)}."

    joiner = "" if zh else " "
    return [joiner.join(sentence() for _ in range(rng.randint(2, 6))) for _ in range(rng.randint(3, 15))]


def _new_record(rng: random.Random, host: str, section: str, day: dt.date, doc_id: int, n: int) -> Record:
    shown = day - dt.timedelta(days=rng.choice((0, 0, 0, 1, 2, 5)))  # displayed dates often lag the URL's
    zh = host == bm.ZH
    template = rng.choice(TITLES[section])
    topic = rng.choice(TOPICS_ZH if zh else TOPICS_EN)
    title = template.format(t=topic, p=rng.choice(PLACES_ZH if zh else (*PLACES_EN, str(day.year))))
    note = rng.choice(SOURCE_NOTES) if section == "xwdt/bzhdt" and rng.random() < 0.5 else None
    subtitle = None if zh or rng.random() > 0.08 else f"Experts discuss the next steps for {topic}"
    return Record(
        host, section, doc_id, day.isoformat(), shown.isoformat(), title, subtitle,
        None if note else rng.choice(SOURCES[host]), note, n, f"{doc_id}-{rng.getrandbits(32)}",
    )  # fmt: skip


def _allocate(total: int) -> dict[tuple[str, str], int]:
    """Largest-remainder split of ``total`` over WEIGHTS, at least one article per section."""
    weight_sum = sum(WEIGHTS.values())
    shares = {key: max(1, total * weight // weight_sum) for key, weight in WEIGHTS.items()}
    for key in sorted(WEIGHTS, key=lambda k: (total * WEIGHTS[k]) % weight_sum, reverse=True):
        if sum(shares.values()) >= total:
            break
        shares[key] += 1
    return shares


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def load_records(mirror_dir: Path) -> list[Record]:
    """Every article of a generated mirror, as generated (for checks and for the edits below)."""
    return [Record(**raw) for raw in json.loads((mirror_dir / MANIFEST).read_text(encoding="utf-8"))]


def _save(mirror_dir: Path, records: list[Record]) -> int:
    data = json.dumps([asdict(r) for r in records], ensure_ascii=False).encode("utf-8")
    (mirror_dir / MANIFEST).write_bytes(data)
    return len(data)


def _write_articles(mirror_dir: Path, records: list[Record]) -> int:
    size = 0
    for record in records:
        data = bm.render_article(record.article(), bm.Variant(record.n), None, None)
        _write(mirror_dir / record.host / record.path, data)
        size += len(data)
    return size


def _write_listings(
    mirror_dir: Path, records: list[Record], keys: set[tuple[str, str]]
) -> dict[str, tuple[int, int]]:
    """Rewrite every listing page of the sections ``keys``: host/section -> (pages, bytes)."""
    written = {}
    articles = [r.article(with_body=False) for r in records if (r.host, r.section) in keys]
    for key in sorted(keys):
        section = bm.SECTION_BY_KEY[key]
        items = [i for i in bm.listing_items(section, articles) if i is not bm.MISSING_ARTICLE]
        count, size = max(1, -(-len(items) // PAGE_SIZE)), 0
        for page in range(count):
            data = bm.render_listing(section, items, page, count).encode("utf-8")
            _write(mirror_dir / key[0] / key[1] / bm.listing_filename(page, bm.HOSTS[key[0]].ext), data)
            size += len(data)
        written["/".join(key)] = (count, size)
    return written


def generate(out_dir: Path, articles: int, seed: int = 0) -> GeneratedMirror:
    """Write a mirror of ``articles`` articles into ``out_dir`` (replacing an earlier generated one)."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MANIFEST).is_file():
            raise ValueError(f"{out_dir} is not empty and holds no {MANIFEST}: refusing to replace it")
        shutil.rmtree(out_dir)
    rng, records = random.Random(seed), list[Record]()
    by_host: dict[str, list[tuple[dt.date, str]]] = {}
    for (host, section), share in _allocate(articles).items():
        days = (FIRST_DAY + dt.timedelta(days=rng.randrange(SPAN_DAYS)) for _ in range(share))
        by_host.setdefault(host, []).extend((day, section) for day in days)
    for host, slots in by_host.items():
        doc_id = FIRST_ID[host]
        for n, (day, section) in enumerate(sorted(slots)):
            doc_id += rng.randint(1, 4)  # ids rise with time on a host, with gaps like TRS leaves
            records.append(_new_record(rng, host, section, day, doc_id, n))
    size = _write_articles(out_dir, records)
    listings = _write_listings(out_dir, records, set(WEIGHTS))
    for name, data in (("robots.txt", bm.ROBOTS_TXT), (bm.HEADERS_FILE, "{}\n")):
        _write(out_dir / name, data.encode("utf-8"))
        size += len(data)
    size += _save(out_dir, records)
    return GeneratedMirror(
        articles=dict(Counter(f"{r.host}/{r.section}" for r in records)),
        listing_pages={key: pages for key, (pages, _) in listings.items()},
        files=len(records) + 3 + sum(pages for pages, _ in listings.values()),
        bytes=size + sum(listing_size for _, listing_size in listings.values()),
    )


def add_articles(mirror_dir: Path, count: int, seed: int) -> list[str]:
    """Publish ``count`` new articles, newer than all others, and rewrite the listings they go on."""
    rng, records = random.Random(seed), load_records(mirror_dir)
    added: list[Record] = []
    shares = Counter(rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=count))
    for key, share in sorted(shares.items()):
        on_host = [r for r in records if r.host == key[0]]
        newest = dt.date.fromisoformat(max(r.url_date for r in on_host))
        doc_id, n = max(r.doc_id for r in on_host), len(on_host)
        for i in range(share):
            doc_id += rng.randint(1, 4)
            added.append(_new_record(rng, *key, newest + dt.timedelta(days=1 + i // 5), doc_id, n))
            records.append(added[-1])
            n += 1
    _write_articles(mirror_dir, added)
    _write_listings(mirror_dir, records, {(r.host, r.section) for r in added})
    _save(mirror_dir, records)
    return [r.live_url for r in added]


def edit_articles(mirror_dir: Path, count: int, seed: int) -> list[str]:
    """Rewrite the body of ``count`` existing articles and move their mtime 5 s forward."""
    rng, records = random.Random(seed), load_records(mirror_dir)
    edited = rng.sample(records, count)
    for record in edited:
        path = mirror_dir / record.host / record.path
        before = path.stat()
        record.body_key += f"+{rng.getrandbits(32)}"
        _write_articles(mirror_dir, [record])
        # Old mtime + 5 s, not "now": Last-Modified (1 s resolution) changes even within the second.
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 5_000_000_000))
    _save(mirror_dir, records)
    return [r.live_url for r in edited]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = generate(args.out_dir, args.articles, args.seed)
    elapsed = time.perf_counter() - started
    for key, number in sorted(result.articles.items()):
        print(f"{key:32} {number:6} articles {result.listing_pages[key]:5} listing pages")
    print(f"{result.files} files, {result.bytes / 1e6:.1f} MB in {elapsed:.2f} s -> {args.out_dir}")


if __name__ == "__main__":
    main()
