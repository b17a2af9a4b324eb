"""Standards and committees named in a text: what must be found, normalised, and what must not."""

from __future__ import annotations

import pytest

from cnis_crawler.extraction.standards import committees_in, standards_in

STANDARDS = [
    # Chinese national standards, as news in both languages writes them.
    ("Revised GB 2760-2014 takes effect.", ["GB 2760-2014"]),
    ("including GB/T 35796-2017, Specification for service quality", ["GB/T 35796-2017"]),
    ("the guidance document GB/Z 40281-2021 was issued", ["GB/Z 40281-2021"]),
    ("《标准化工作导则》GB/T 1.1—2020正式实施", ["GB/T 1.1-2020"]),
    ("依据GB/T19001-2016建立质量管理体系", ["GB/T 19001-2016"]),
    ("ＧＢ／Ｔ　１９００１－２０１６", ["GB/T 19001-2016"]),
    ("GB / T 19001 - 2016 and GB/T 19001-2016 again", ["GB/T 19001-2016"]),
    ("GB/T 10000, Human dimensions of Chinese adults", ["GB/T 10000"]),
    ("GB/T 32150 and GB/T 32151 set out the methods", ["GB/T 32150", "GB/T 32151"]),
    ("强制性国家标准GB 7258–2017《机动车运行安全技术条件》", ["GB 7258-2017"]),
    # Industry, local and group standards.
    ("the inspection rules SN/T 0001-2016 apply", ["SN/T 0001-2016"]),
    ("HG/T 2520-2015 and QB/T 1234-2019", ["HG/T 2520-2015", "QB/T 1234-2019"]),
    ("北京市地方标准DB11/T 1322-2016", ["DB11/T 1322-2016"]),
    ("计量技术规范JJF 1059.1-2012和JJG 1036-2008", ["JJF 1059.1-2012", "JJG 1036-2008"]),
    ("团体标准T/CAS 115—2005发布", ["T/CAS 115-2005"]),
    # International and foreign standards.
    ("ISO 37101, Sustainable development in communities", ["ISO 37101"]),
    ("certified to ISO/IEC 27001:2022 last year", ["ISO/IEC 27001:2022"]),
    ("ISO/IEC27001:2022认证", ["ISO/IEC 27001:2022"]),
    ("household appliances under IEC 60335-1", ["IEC 60335-1"]),
    ("ISO 14064-1 and ISO 14067 on greenhouse gases", ["ISO 14064-1", "ISO 14067"]),
    ("ISO 14064-1:2018 replaces the 2006 edition", ["ISO 14064-1:2018"]),
    ("the technical specification ISO/TS 22163:2017", ["ISO/TS 22163:2017"]),
    ("EN 71-1 on the safety of toys", ["EN 71-1"]),
    ("EN ISO 13485:2016 for medical devices", ["EN ISO 13485:2016"]),
    ("compostable under ASTM D6400", ["ASTM D6400"]),
    ("IEC 62368-1:2018 and IEC 62368-1:2018", ["IEC 62368-1:2018"]),
    ("an ISO 9001-certified supplier", ["ISO 9001"]),
    # Adopted standards carry both numbers; drafts, guides and other bodies.
    ("GB/T 19001-2016/ISO 9001:2015《质量管理体系 要求》", ["GB/T 19001-2016", "ISO 9001:2015"]),
    ("ISO9001/ISO14001/ISO45001三体系认证", ["ISO 9001", "ISO 14001", "ISO 45001"]),
    ("ISO 14001:2015 and ISO 14001-2015 and GB/T 19001：2016", ["ISO 14001:2015", "GB/T 19001-2016"]),
    ("YY 0505-2012, JGJ 3-2010 and GBZ 2.1-2019", ["YY 0505-2012", "JGJ 3-2010", "GBZ 2.1-2019"]),
    ("企业标准Q/GDW 1234-2014, DB 11/T 1322-2016", ["Q/GDW 1234-2014", "DB11/T 1322-2016"]),
    ("ISO/IEC TR 29110 and IEC TS 62443-1-1", ["ISO/IEC TR 29110", "IEC TS 62443-1-1"]),
    ("ISO/DIS 37101, ISO/IEC Guide 98-3:2008", ["ISO/DIS 37101", "ISO/IEC Guide 98-3:2008"]),
    ("IEEE 802.11 and ITU-T Y.4900", ["IEEE 802.11", "ITU-T Y.4900"]),
    # A two-digit year of the last century is the same standard's four-digit one.
    ("GB 2760-96 and GB 2760-1996", ["GB 2760-1996"]),
    ("ISO 9001-87 stays as written", ["ISO 9001-87"]),
    # Numbers that share the code before them.
    ("ISO 9001, 14001 and 45001 certificates", ["ISO 9001", "ISO 14001", "ISO 45001"]),
    ("GB/T 19001、19004和24001", ["GB/T 19001", "GB/T 19004", "GB/T 24001"]),
    ("ISO 9001/14001/45001", ["ISO 9001", "ISO 14001", "ISO 45001"]),
    ("ISO 9001, 2015 edition, and 12 other standards", ["ISO 9001"]),
    # Order of first mention, across languages.
    ("ISO 9001 与 GB/T 19001-2016 等同", ["ISO 9001", "GB/T 19001-2016"]),
    # Not standards.
    ("The ISO Strategy 2016-2020 was adopted.", []),
    ("EN and CENELEC publish their work programme", []),
    ("Tel: 010-58811000, fax 010-58811001", []),
    ("from 2016-2020 the number rose by 12%", []),
    ("at the ISO 2021 annual meeting", []),
    ("a 16 GB memory card", []),
    ("ISO General Assembly in Berlin", []),
    ("the IEC General Meeting", []),
    ("GBT 123 is a typo, 1GB/T 123 a longer word", []),
    ("IEC 87th General Meeting, ISO 3rd meeting", []),
    ("ISO 167个成员国, GB 300mm", []),
    ("ISO 2016-2020年战略规划, IEC 2021-2025 Masterplan", []),
    ("RTX 4090 and COVID-19 in 2020", []),
    ("ISO/TC 268 and ISO/IEC JTC 1 are committees", []),
]

COMMITTEES = [
    ("ISO/TC 268, Sustainable cities and communities", ["ISO/TC 268"]),
    ("The ISO/TC 268/SC 1 working group met in Beijing", ["ISO/TC 268/SC 1"]),
    ("IEC/TC 111 on environmental standardization", ["IEC/TC 111"]),
    ("IEC TC 111 again, written without its slash", ["IEC/TC 111"]),
    ("全国服务标准化技术委员会（SAC/TC 264）", ["SAC/TC 264"]),
    ("SAC/TC 28/SC 1 and SAC/TC 28", ["SAC/TC 28/SC 1", "SAC/TC 28"]),
    ("ISO/IEC JTC 1 and ITU-T remain", ["ISO/IEC JTC 1"]),
    ("JTC 1/SC 42 on artificial intelligence", ["ISO/IEC JTC 1/SC 42"]),
    ("ISO/TC 207, Environmental management, and ISO/TC 265", ["ISO/TC 207", "ISO/TC 265"]),
    ("ＩＳＯ／ＴＣ　２６８", ["ISO/TC 268"]),
    ("CEN/TC 250 on structural Eurocodes", ["CEN/TC 250"]),
    ("ISO/TC 176/SC 2/WG 24 drafted it", ["ISO/TC 176/SC 2/WG 24"]),
    ("CEN-CENELEC JTC 21 on AI, CEN/CENELEC JTC 13", ["CEN-CENELEC JTC 21", "CEN-CENELEC JTC 13"]),
    ("IEC SC 61D and ISO/TC 268 SC1", ["IEC/SC 61D", "ISO/TC 268/SC 1"]),
    ("JTC1 SC42 met; ISO-TC 268 too", ["ISO/IEC JTC 1/SC 42", "ISO/TC 268"]),
    # Not committees.
    ("TC 46 alone names no body", []),
    ("GB/T 19001-2016 is a standard", []),
    ("ISO 9001 and IEC 60335-1", []),
]


@pytest.mark.parametrize(("text", "expected"), STANDARDS, ids=[text[:40] for text, _ in STANDARDS])
def test_standards_named_in_a_text(text: str, expected: list[str]) -> None:
    assert standards_in(text) == expected


@pytest.mark.parametrize(("text", "expected"), COMMITTEES, ids=[text[:40] for text, _ in COMMITTEES])
def test_committees_named_in_a_text(text: str, expected: list[str]) -> None:
    assert committees_in(text) == expected


def test_the_table_holds_at_least_forty_cases_with_non_matches() -> None:
    assert len(STANDARDS) + len(COMMITTEES) >= 40
    assert sum(1 for _, expected in STANDARDS + COMMITTEES if not expected) >= 10
