"""Assessments (测评): item selection, cycles, results, bulk, evidence, links, risks, close (both databases)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from ciimap.compliance import assessment
from ciimap.compliance.catalogs import counts, items_for, load_catalog
from ciimap.compliance.models import Assessment, AssessmentItem, Evidence, ItemResult, Link, Risk, TestObject
from ciimap.compliance.schemas import BulkIn, LinkIn, ResultIn, RiskIn
from ciimap.config import get_settings
from ciimap.core.audit import AuditLog
from ciimap.core.errors import Conflict, Invalid, NotFound, TooLarge

from .amap import add_object, audit_count, build, count, new_assessment
from .conftest import TODAY

#: A level-3 general item (安全计算环境 / 身份鉴别 a) and a level-4-only one (an item of 9.x absent at level 3).
L3_ITEM = "22239-2019:8.1.4.1.a"


@pytest.fixture
def amap(database):
    return build(database)


def _set(db, aid: int, item: str, obj: int, result: str, **kw):
    with db.unit_of_work() as s:
        return assessment.set_result(
            s, assessment_id=aid, data=ResultIn(item=item, object_id=obj, result=result, **kw)
        )


def test_items_come_from_the_system_level_or_its_filed_grading(database, amap) -> None:
    cat = load_catalog("22239-2019")
    aid = new_assessment(database, amap["l3"], include_assets=True)
    with database.read_session() as s:
        a = assessment.describe(s, assessment_id=aid)
        ids = list(s.scalars(select(AssessmentItem.item_id).where(AssessmentItem.assessment_id == aid)))
    assert a["items"] == counts(cat, 3).items == 211
    assert (a["level"], a["s_level"], a["a_level"], a["level_source"]) == (3, 3, 3, "system")
    assert L3_ITEM in ids
    assert [o["name"] for o in a["test_objects"]] == ["db-1", "web-1"]  # the system's assets, not fw-1
    # the filed grading wins: S3A2 with the cloud extension (big_data is not a catalog part: left out)
    gid = new_assessment(database, amap["cloudy"])
    with database.read_session() as s:
        g = assessment.describe(s, assessment_id=gid)
        parts = set(s.scalars(select(AssessmentItem.part).where(AssessmentItem.assessment_id == gid)))
    expected = items_for(cat, 3, ["cloud"], 3, 2)
    assert (g["level_source"], g["grading_id"], g["extensions"]) == ("grading", amap["grading"], ["cloud"])
    assert (g["s_level"], g["a_level"]) == (3, 2)
    assert g["items"] == len(expected) and parts == {"general", "cloud"}
    assert g["items"] != a["items"]  # A2 items read at level 2, cloud items added


def test_a_system_without_a_level_is_refused_and_nothing_is_stored(database, amap) -> None:
    before = audit_count(database)
    with pytest.raises(Invalid, match="has no level"):
        new_assessment(database, amap["none"])
    with pytest.raises(NotFound):
        new_assessment(database, 999999)
    assert count(database, Assessment) == 0 and count(database, AssessmentItem) == 0
    assert audit_count(database) == before


def test_cycle_is_yearly_at_level_3_half_yearly_at_level_4_and_configurable(database, amap, setting) -> None:
    a3 = new_assessment(database, amap["l3"], started_on=dt.date(2026, 8, 31))
    a4 = new_assessment(database, amap["l4"], started_on=dt.date(2026, 8, 31))
    with database.read_session() as s:
        r3 = assessment.describe(s, assessment_id=a3)
        r4 = assessment.describe(s, assessment_id=a4)
    assert (r3["cycle"], r3["next_due"]) == ("2026", dt.date(2027, 8, 31))
    assert (r4["cycle"], r4["next_due"]) == ("2026-H2", dt.date(2027, 2, 28))  # month end clamps
    with pytest.raises(Conflict, match="cycle 2026"):
        new_assessment(database, amap["l3"], started_on=dt.date(2026, 1, 5))
    # an outside body's assessment in the same cycle is a different one
    ext = new_assessment(
        database, amap["l3"], kind="external", body="某测评中心", started_on=dt.date(2026, 9, 1)
    )
    assert ext > a3
    setting("ASSESSMENT_CYCLES", "3:6,4:3")
    q = new_assessment(database, amap["l4"], started_on=dt.date(2026, 11, 2))
    with database.read_session() as s:
        rq = assessment.describe(s, assessment_id=q)
    assert (rq["cycle"], rq["next_due"]) == ("2026-Q4", dt.date(2027, 2, 2))
    assert assessment.cycle_rule("3:6") == {3: 6}
    for bad in ("3:7", "x", "3-12"):
        with pytest.raises(Invalid, match="CIIMAP_ASSESSMENT_CYCLES"):
            assessment.cycle_rule(bad)


def test_a_result_outside_the_selection_is_refused_and_nothing_is_stored(database, amap) -> None:
    aid = new_assessment(database, amap["l3"])
    obj = add_object(database, aid, asset_id=amap["a1"])
    other = new_assessment(database, amap["l4"])
    foreign = add_object(database, other, name="安全管理制度汇编", kind="document")
    level4_only = next(li.id for li in items_for(load_catalog("22239-2019"), 4) if 3 not in li.item.levels)
    before = audit_count(database)
    for item, object_id, what in (
        (level4_only, obj, "not in assessment"),
        ("22239-2019:99.9.9.z", obj, "not in assessment"),
        (L3_ITEM, foreign, "not part of assessment"),
    ):
        with pytest.raises(Invalid, match=what):
            _set(database, aid, item, object_id, "pass")
    with pytest.raises(NotFound):
        _set(database, aid, L3_ITEM, obj, "pass", links=[{"target_type": "asset", "target_id": 999999}])
    assert count(database, ItemResult) == 0 and count(database, Link) == 0
    assert audit_count(database) == before


def test_saving_a_result_replaces_it_with_links_and_is_audited(database, amap) -> None:
    aid = new_assessment(database, amap["l3"])
    obj = add_object(database, aid, asset_id=amap["a1"])
    first = _set(
        database,
        aid,
        L3_ITEM,
        obj,
        "partial",
        method="check",
        assessor="李四",
        notes="口令复杂度未启用",
        links=[
            {"target_type": "finding", "target_id": amap["finding"]},
            {"target_type": "supplier", "target_id": amap["vendor"]},
        ],
    )
    assert (first["result"], first["result_zh"], first["method"]) == ("partial", "部分符合", "check")
    assert {(lk["target_type"], lk["target_id"]) for lk in first["links"]} == {
        ("finding", amap["finding"]),
        ("supplier", amap["vendor"]),
    }
    key = next(li.item.key for li in items_for(load_catalog("22239-2019"), 3) if li.id == L3_ITEM)
    second = _set(database, aid, key, obj, "pass", method="test")  # by the stable key
    assert second["id"] == first["id"] and second["result"] == "pass"
    with database.read_session() as s:
        rows = [r.result for r in s.scalars(select(ItemResult))]
        log = list(
            s.scalars(
                select(AuditLog).where(AuditLog.entity_type == "compliance_item_result").order_by(AuditLog.id)
            )
        )
        shown = assessment.get_result(s, result_id=first["id"])
        actions = [e.action for e in log]
        change = (log[1].before["result"], log[1].after["result"])
    assert rows == ["pass"]
    assert actions == ["create", "update"] and change == ("partial", "pass")
    assert len(shown["links"]) == 2


def test_bulk_set_is_one_transaction_one_audit_record_and_refuses_outside_items(database, amap) -> None:
    aid = new_assessment(database, amap["l3"], include_assets=True)
    doc = add_object(database, aid, name="安全管理制度", kind="document")
    with database.read_session() as s:
        n_cat = len(
            list(
                s.scalars(
                    select(AssessmentItem.id).where(
                        AssessmentItem.assessment_id == aid, AssessmentItem.category == "安全计算环境"
                    )
                )
            )
        )
    before = audit_count(database)
    with database.unit_of_work() as s:
        out = assessment.bulk_set(
            s, assessment_id=aid, data=BulkIn(result="pass", category="安全计算环境", method="test")
        )
    assert n_cat == 34 and (out["created"], out["updated"]) == (34 * 3, 0)
    assert audit_count(database) == before + 1
    with database.unit_of_work() as s:  # only_unset leaves them; a doc-only fail updates 34
        again = assessment.bulk_set(
            s, assessment_id=aid, data=BulkIn(result="fail", category="安全计算环境", only_unset=True)
        )
        doc_fail = assessment.bulk_set(
            s, assessment_id=aid, data=BulkIn(result="fail", category="安全计算环境", object_ids=[doc])
        )
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 34 * 3)
    assert (doc_fail["created"], doc_fail["updated"]) == (0, 34)
    n = count(database, ItemResult)
    before = audit_count(database)
    for bad in (
        BulkIn(result="pass", items=[L3_ITEM, "22239-2019:99.1.1.1.a"]),
        BulkIn(result="pass", items=[L3_ITEM], object_ids=[999999]),
        BulkIn(result="pass", category="没有这一类"),
    ):
        with pytest.raises(Invalid), database.unit_of_work() as s:
            assessment.bulk_set(s, assessment_id=aid, data=bad)
    assert count(database, ItemResult) == n and audit_count(database) == before


def test_evidence_is_stored_by_sha256_and_over_the_limit_is_refused(
    database, amap, tmp_path, monkeypatch
) -> None:
    aid = new_assessment(database, amap["l3"])
    obj = add_object(database, aid, name="机房", kind="room")
    rid = _set(database, aid, L3_ITEM, obj, "fail")["id"]
    content = "门禁记录 2026-12\n".encode() * 100
    f = tmp_path / "门禁记录.txt"
    f.write_bytes(content)
    with database.unit_of_work() as s:
        ev = assessment.attach_evidence(s, result_id=rid, source=f)
        ev_id, sha = ev.id, ev.sha256
    assert sha == hashlib.sha256(content).hexdigest()
    stored = assessment.evidence_path(sha)
    assert stored.read_bytes() == content
    assert stored.is_relative_to(get_settings().data_dir.resolve())
    with database.read_session() as s:
        path, name = assessment.evidence_file(s, evidence_id=ev_id)
        assert (path, name) == (stored, "门禁记录.txt")
        assert [e["id"] for e in assessment.get_result(s, result_id=rid)["evidence"]] == [ev_id]
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    before = audit_count(database)
    with pytest.raises(TooLarge, match="larger than 1 MB"), database.unit_of_work() as s:
        assessment.attach_evidence(s, result_id=rid, source=big)
    assert count(database, Evidence) == 1 and audit_count(database) == before
    assert not assessment.evidence_path(hashlib.sha256(big.read_bytes()).hexdigest()).exists()


def test_links_are_checked_and_idempotent(database, amap) -> None:
    aid = new_assessment(database, amap["l3"])
    obj = add_object(database, aid, asset_id=amap["a2"])
    rid = _set(database, aid, L3_ITEM, obj, "fail")["id"]
    with database.unit_of_work() as s:
        one = assessment.add_link(
            s,
            data=LinkIn(owner_type="result", owner_id=rid, target_type="contact", target_id=amap["contact"]),
        ).id
        two = assessment.add_link(
            s,
            data=LinkIn(owner_type="result", owner_id=rid, target_type="contact", target_id=amap["contact"]),
        ).id
    assert one == two and count(database, Link) == 1
    with pytest.raises(NotFound), database.unit_of_work() as s:
        assessment.add_link(s, data=LinkIn(owner_type="risk", owner_id=999, target_type="asset", target_id=1))


def test_objects_are_named_once_per_assessment(database, amap) -> None:
    aid = new_assessment(database, amap["l3"], include_assets=True)
    with pytest.raises(Conflict, match="already a test object"):
        add_object(database, aid, asset_id=amap["a1"])
    fw = add_object(database, aid, asset_id=amap["other"])  # a boundary device of no system is fine
    with pytest.raises(Conflict, match="already has a test object named"):
        add_object(database, aid, name="fw-1", kind="room")
    with pytest.raises(NotFound):
        add_object(database, aid, asset_id=999999)
    with database.read_session() as s:
        kind = s.get(TestObject, fw).kind
    assert kind == "asset"


def test_scores_and_close_keep_the_conclusion_and_freeze_results(database, amap) -> None:
    aid = new_assessment(database, amap["l3"])
    o1 = add_object(database, aid, asset_id=amap["a1"])
    o2 = add_object(database, aid, asset_id=amap["a2"])
    with pytest.raises(Invalid, match="no scored result"), database.unit_of_work() as s:
        assessment.close(s, assessment_id=aid)
    # 身份鉴别 (8.1.4.1): a = mean(1, 0) = 0.5, b = 0.5 (partial; na left out), c/d unscored -> 5.0
    _set(database, aid, "22239-2019:8.1.4.1.a", o1, "pass")
    _set(database, aid, "22239-2019:8.1.4.1.a", o2, "fail")
    _set(database, aid, "22239-2019:8.1.4.1.b", o1, "partial")
    _set(database, aid, "22239-2019:8.1.4.1.b", o2, "na")
    _set(database, aid, "22239-2019:8.1.4.1.c", o1, "na")
    # 访问控制 of the computing environment (8.1.4.2): a = 1 -> 10.0
    _set(database, aid, "22239-2019:8.1.4.2.a", o1, "pass")
    with database.read_session() as s:
        sc = assessment.score(s, assessment_id=aid)
        items = {r["id"]: r for r in assessment.items(s, assessment_id=aid, category="安全计算环境")}
        fails = assessment.items(s, assessment_id=aid, result="fail")
    cps = {(c["category"], c["control_point"]): c for c in sc["control_points"]}
    auth = cps[("安全计算环境", "身份鉴别")]
    assert (auth["items"], auth["items_scored"], auth["score"]) == (4, 2, 5.0)
    assert cps[("安全计算环境", "访问控制")]["score"] == 10.0
    assert cps[("安全区域边界", "访问控制")]["score"] is None
    assert sc["score"] == 75.0 and sc["conclusion"] == "中" and sc["items_scored"] == 3
    assert sc["results"] == {"pass": 2, "partial": 1, "fail": 1, "na": 2}
    assert items["22239-2019:8.1.4.1.a"]["score"] == 0.5 and items["22239-2019:8.1.4.1.c"]["score"] is None
    assert [r["id"] for r in fails] == ["22239-2019:8.1.4.1.a"]
    with database.unit_of_work() as s:
        assessment.add_risk(
            s,
            assessment_id=aid,
            data=RiskIn(level="high", description="默认口令", item=L3_ITEM, object_id=o2),
        )
        assessment.add_risk(s, assessment_id=aid, data=RiskIn(level="medium", description="日志留存不足"))
    with database.unit_of_work() as s:
        closed = assessment.close(s, assessment_id=aid)
        assert (closed.state, closed.score, closed.conclusion) == ("closed", 75.0, "差")
        assert (closed.high_risks, closed.medium_risks, closed.profile) == (1, 1, "ciimap-mlps-2021-approx@1")
        assert closed.closed_on == TODAY
    with pytest.raises(Conflict, match="closed"):
        _set(database, aid, L3_ITEM, o1, "pass")
    with pytest.raises(Conflict), database.unit_of_work() as s:
        assessment.add_risk(s, assessment_id=aid, data=RiskIn(level="low", description="x"))
    assert count(database, Risk) == 2


def test_the_workspace_of_unset_items_and_one_object(database, amap) -> None:
    aid = new_assessment(database, amap["l3"], include_assets=True)
    with database.read_session() as s:
        o1, o2 = (o["id"] for o in assessment.describe(s, assessment_id=aid)["test_objects"])
    _set(database, aid, L3_ITEM, o1, "pass")
    with database.read_session() as s:
        unset_all = assessment.items(s, assessment_id=aid, result="unset")
        unset_o1 = assessment.items(s, assessment_id=aid, result="unset", object_id=o1)
        d = assessment.describe(s, assessment_id=aid)
    assert len(unset_all) == 211  # L3_ITEM still lacks o2
    assert len(unset_o1) == 210 and L3_ITEM not in {r["id"] for r in unset_o1}
    assert d["unset"] == 211 * 2 - 1
    with pytest.raises(Invalid), database.read_session() as s:
        assessment.items(s, assessment_id=aid, result="bogus")
    assert o2 != o1


def test_another_catalog_can_be_assessed_and_an_unknown_one_is_404(database, amap) -> None:
    cii = load_catalog("39204-2022")
    aid = new_assessment(database, amap["l3"], catalog="39204-2022", kind="external", body="关保测评机构")
    with database.read_session() as s:
        d = assessment.describe(s, assessment_id=aid)
    assert (d["catalog"], d["items"]) == ("39204-2022", len(items_for(cii, 3)))
    with pytest.raises(NotFound, match="no catalog"):
        new_assessment(database, amap["l4"], catalog="nope")
    assert count(database, Assessment) == 1
