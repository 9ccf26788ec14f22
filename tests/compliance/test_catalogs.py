"""The shipped catalogs: counts per level, ids, summaries, and which items apply to a system.

Database-free: catalogs are package data read with importlib.resources.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ciimap.compliance.catalogs import counts, items_for, list_catalogs, load_catalog
from ciimap.compliance.catalogs.model import TAGS
from ciimap.core.errors import Invalid, NotFound

MLPS = "22239-2019"
CII = "39204-2022"
EXTENSIONS = ("cloud", "mobile", "iot", "ics")

#: domain.md section 2: level-3 general items per category (they sum to 211).
L3_BY_CATEGORY = {
    "安全物理环境": 22,
    "安全通信网络": 8,
    "安全区域边界": 20,
    "安全计算环境": 34,
    "安全管理中心": 12,
    "安全管理制度": 7,
    "安全管理机构": 14,
    "安全管理人员": 12,
    "安全建设管理": 34,
    "安全运维管理": 48,
}
#: domain.md: the per-control-point counts listed for 安全计算环境.
L3_COMPUTING = {
    "身份鉴别": 4,
    "访问控制": 7,
    "安全审计": 4,
    "入侵防范": 6,
    "恶意代码防范": 1,
    "可信验证": 1,
    "数据完整性": 2,
    "数据保密性": 2,
    "数据备份恢复": 3,
    "剩余信息保护": 2,
    "个人信息保护": 2,
}
#: domain.md: the control points of the level-3 extensions.
L3_EXTENSION_POINTS = {
    "cloud": {"基础设施位置", "网络架构", "访问控制", "入侵防范", "安全审计", "身份鉴别", "镜像和快照保护",
              "数据完整性和保密性", "数据备份恢复", "剩余信息保护", "集中管控", "云服务商选择", "供应链管理",
              "云计算环境管理"},
    "mobile": {"无线接入点的物理位置", "边界防护", "访问控制", "入侵防范", "移动终端管控", "移动应用管控",
               "移动应用软件采购", "移动应用软件开发", "配置管理"},
    "iot": {"感知节点设备物理防护", "接入控制", "入侵防范", "感知节点设备安全", "网关节点设备安全", "抗数据重放",
            "数据融合处理", "感知节点管理"},
    "ics": {"室外控制设备物理防护", "网络架构", "通信传输", "访问控制", "拨号使用控制", "无线使用控制",
            "控制设备安全", "产品采购和使用", "外包软件开发"},
}  # fmt: skip
ID = re.compile(r"^22239-2019:(6|7|8|9)\.([1-5])\.\d+\.\d+\.[a-z]$")


@pytest.fixture(scope="module")
def mlps():
    return load_catalog(MLPS)


def test_both_standards_are_listed_with_their_headers() -> None:
    by_id = {c["id"]: c for c in list_catalogs()}
    assert {MLPS, CII} <= set(by_id)
    assert by_id[MLPS]["in_force"] == "2019-12-01" and by_id[CII]["in_force"] == "2023-05-01"
    assert by_id[MLPS]["parts"] == ["general", *EXTENSIONS]
    cat = load_catalog(MLPS)
    assert cat.data_version >= 1 and cat.verify and "own words" in cat.source_note


def test_unknown_catalog_is_not_found() -> None:
    with pytest.raises(NotFound, match="no catalog 'nope'.*22239-2019"):
        load_catalog("nope")


def test_level3_general_is_10_categories_71_control_points_211_items(mlps) -> None:
    c = counts(mlps, 3)
    assert (c.categories, c.control_points, c.items) == (10, 71, 211)
    assert (c.technical, c.management) == (96, 115)
    assert c.by_category == L3_BY_CATEGORY and list(c.by_category) == list(L3_BY_CATEGORY)  # 8.1.1 … 8.1.10
    computing = {
        k.split("/", 1)[1]: n for k, n in c.by_control_point.items() if k.startswith("安全计算环境/")
    }
    assert computing == L3_COMPUTING


def test_totals_of_the_other_levels(mlps) -> None:
    # Level 2 matches the ~135 quoted in practice; level 4 is 229 against ~232 quoted [verify]; level 1
    # has no 安全管理中心.
    assert [counts(mlps, lv).items for lv in (1, 2, 3, 4)] == [59, 135, 211, 229]
    assert counts(mlps, 1).categories == 9 and "安全管理中心" not in counts(mlps, 1).by_category
    assert counts(mlps, 2).categories == counts(mlps, 4).categories == 10


def test_level3_extensions_have_the_control_points_of_domain_md(mlps) -> None:
    for ext, points in L3_EXTENSION_POINTS.items():
        got = {k.split("/", 1)[1] for k in counts(mlps, 3, ext).by_control_point}
        assert got == points, ext
    assert [counts(mlps, 3, e).items for e in EXTENSIONS] == [46, 19, 20, 21]


def test_ids_have_the_chapter_of_their_level_and_are_unique(mlps) -> None:
    chapters = {1: "6", 2: "7", 3: "8", 4: "9"}
    for level in (1, 2, 3, 4):
        ids = [li.id for li in items_for(mlps, level, EXTENSIONS)]
        assert len(ids) == len(set(ids)), level
        for i in ids:
            m = ID.match(i)
            assert m and m.group(1) == chapters[level], i
    keys = [it.key for it in mlps.items]
    assert len(keys) == len(set(keys))


def test_well_known_ids(mlps) -> None:
    l3 = {li.id: li for li in items_for(mlps, 3, EXTENSIONS)}
    auth = [i for i, li in l3.items() if li.item.control_point.zh == "身份鉴别" and li.item.part == "general"]
    assert auth == [f"22239-2019:8.1.4.1.{x}" for x in "abcd"]
    assert l3["22239-2019:8.1.4.1.d"].item.summary.zh.startswith("采用两种以上鉴别技术")
    assert l3["22239-2019:8.1.10.14.d"].item.control_point.zh == "外包运维管理"
    assert l3["22239-2019:8.2.1.1.a"].item.control_point.zh == "基础设施位置"
    assert l3["22239-2019:8.5.3.2.a"].item.control_point.zh == "拨号使用控制"
    # Level 1 has no 安全管理中心, so 安全管理制度 is the fifth category there.
    l1 = [li.id for li in items_for(mlps, 1) if li.item.category.zh == "安全管理制度"]
    assert l1 == ["22239-2019:6.1.5.1.a"]
    # An item that reads the same at levels 2-4 is one entry with three ids.
    it = l3["22239-2019:8.1.4.1.c"].item
    assert (
        it.levels == (2, 3, 4)
        and it.id_at(2) == "22239-2019:7.1.4.1.c"
        and it.id_at(4) == "22239-2019:9.1.4.1.c"
    )


@pytest.mark.parametrize("cid", [MLPS, CII])
def test_every_item_has_both_summaries_short_and_distinct(cid: str) -> None:
    cat = load_catalog(cid)
    for it in cat.items:
        assert it.summary.zh and it.summary.en, it.key
        assert re.search(r"[\u4e00-\u9fff]", it.summary.zh), it.key
        assert not re.search(r"[\u4e00-\u9fff]", it.summary.en), it.key
        # Summaries, not the standard's text: short lines, and not in its normative "应……" form.
        assert len(it.summary.zh) <= 40 and len(it.summary.en) <= 120, it.key
        assert not it.summary.zh.startswith("应") and "应当" not in it.summary.zh, it.key
        assert it.tag in TAGS and set(it.levels) <= {1, 2, 3, 4}
    # Copies of one line for several items of a control point would be a sign of filler.
    seen = Counter((it.part, it.category.zh, it.control_point.zh, it.summary.zh) for it in cat.items)
    assert max(seen.values()) == 1


def test_selection_by_level_and_extensions(mlps) -> None:
    general = items_for(mlps, 3)
    assert len(general) == 211 and {li.item.part for li in general} == {"general"}
    with_cloud = items_for(mlps, 3, {"cloud"})
    assert len(with_cloud) == 211 + 46
    everything = items_for(mlps, 3, set(EXTENSIONS))
    assert len(everything) == 211 + 46 + 19 + 20 + 21
    assert [li.item.part for li in items_for(mlps, 3, {"ics"}, parts=["ics"])] == ["ics"] * 21
    assert all(li.level == 3 for li in general)


def test_s_and_a_items_follow_the_s_and_a_levels(mlps) -> None:
    """S items apply as they read at the S level, A items at the A level, G items at the level."""
    full = {li.item.key for li in items_for(mlps, 3)}
    s2a3 = items_for(mlps, 3, s_level=2)
    s_items = [li for li in s2a3 if li.item.tag == "S"]
    assert s_items and all(li.level == 2 and li.id.startswith("22239-2019:7.") for li in s_items)
    assert all(li.level == 3 for li in s2a3 if li.item.tag != "S")
    # Level-3-only S items (data confidentiality) drop out; the level-2 forms come in.
    keys = {li.item.key for li in s2a3}
    assert "22239-2019:8.1.4.8.a" in full and "22239-2019:8.1.4.8.a" not in keys
    integrity = [li.id for li in s2a3 if li.item.control_point.zh == "数据完整性"]
    assert integrity == ["22239-2019:7.1.4.7.a"]
    # A items at A level 2: the level-2 backup item replaces the real-time one.
    s3a2 = items_for(mlps, 3, a_level=2)
    backup = [
        li.id for li in s3a2 if li.item.control_point.zh == "数据备份恢复" and li.item.part == "general"
    ]
    assert backup == ["22239-2019:7.1.4.8.a", "22239-2019:7.1.4.8.b"]  # no 数据保密性 at level 2
    assert {li.item.tag for li in s3a2 if li.level == 2} == {"A"}


def test_bad_selection_is_refused(mlps) -> None:
    with pytest.raises(Invalid, match="level must be one of 1, 2, 3, 4"):
        items_for(mlps, 5)
    with pytest.raises(Invalid, match="does not match S2A2"):
        items_for(mlps, 3, s_level=2, a_level=2)
    with pytest.raises(Invalid, match="no extension bigdata"):
        items_for(mlps, 3, {"bigdata"})
    with pytest.raises(Invalid, match="no part 'nope'"):
        counts(mlps, 3, "nope")


def test_cii_catalog_has_the_six_activities() -> None:
    cat = load_catalog(CII)
    c = counts(cat, 3, "cii")
    assert list(c.by_category) == ["分析识别", "安全防护", "检测评估", "监测预警", "主动防御", "事件处置"]
    assert (c.control_points, c.items) == (27, 64)
    ids = [li.id for li in items_for(cat, 3)]
    assert ids[0] == "39204-2022:6.1.a" and len(ids) == len(set(ids)) == 64
    # The same obligations whatever the MLPS level.
    assert [li.id for li in items_for(cat, 2)] == ids
    points = {it.summary.zh for it in cat.items}
    assert any("2人以上" in s for s in points) and any("30学时" in s for s in points)


def test_items_and_catalogs_are_hashable(mlps) -> None:
    assert len(set(mlps.items)) == len(mlps.items)
    assert len({li.item for li in items_for(mlps, 3)}) == 211
    assert hash(mlps) == hash(load_catalog(MLPS))
