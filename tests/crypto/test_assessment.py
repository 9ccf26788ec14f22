"""密评 assessments stored per system: units, test objects, compensation, profiles, rectification, audit,
bad input (nothing stored), API roles, CLI, report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ciimap.cli import main
from ciimap.compliance.models import Rectification
from ciimap.config import get_settings
from ciimap.core.audit import AuditLog
from ciimap.core.errors import Invalid, NotFound
from ciimap.crypto import assessment, reports, scoring
from ciimap.crypto.models import CryptoTestObject, CryptoUnitResult
from ciimap.crypto.schemas import AssessmentIn, ObjectIn, UnitIn
from ciimap.inventory.models import System

APP, MGMT = "应用和数据", "管理制度"


def _system(database, level: int = 3) -> int:
    with database.unit_of_work() as s:
        sysm = System(name="缴费系统", mlps_level=level)
        s.add(sysm)
        s.flush()
        return sysm.id


def _new(s, sid: int, profile: str = "2023") -> int:
    data = AssessmentIn(system_id=sid, assessed_on=dt.date(2026, 11, 30), assessor="张三", profile=profile)
    return assessment.create(s, data=data)["id"]


def _obj(name: str, d=True, a=True, k=True, **kw) -> ObjectIn:
    return ObjectIn(name=name, d=d, a=a, k=k, **kw)


def test_stored_score_equals_the_score_command(database):
    """The stored assessment is scored by the same code as ``crypto score`` on the same input."""
    sid = _system(database)
    with database.unit_of_work() as s:
        aid = _new(s, sid)
        objs = [_obj("数据库", a=False, ra=0.5), _obj("文件服务器")]
        assessment.set_unit(
            s, assessment_id=aid, data=UnitIn(layer=APP, unit="重要数据存储机密性", objects=objs)
        )
        assessment.set_unit(
            s, assessment_id=aid, data=UnitIn(layer=MGMT, unit="具备密码应用安全管理制度", result="符合")
        )
        out = assessment.describe(s, assessment_id=aid)
    direct = scoring.score(
        {
            "level": 3,
            "units": [
                {
                    "layer": APP,
                    "name": "重要数据存储机密性",
                    "objects": [{"d": True, "a": False, "k": True, "ra": 0.5}, 1],
                },
                {"layer": MGMT, "name": "具备密码应用安全管理制度", "result": "符合"},
            ],
        }
    )
    assert out["score"]["total"] == direct["total"] == 73.75  # 70 × 0.625 + 30 × 1
    assert out["score"]["layers"] == direct["layers"]
    assert out["score"]["passed"] is True and out["level"] == 3
    assert [u["score"] for u in out["units"]] == [0.625, 1.0]


def test_compensation_between_objects_and_the_2021_profile(database):
    sid = _system(database)
    with database.unit_of_work() as s:
        for profile, expected in (("2023", 0.75), ("2021", 0.5)):
            aid = _new(s, sid, profile)
            assessment.set_unit(
                s,
                assessment_id=aid,
                data=UnitIn(layer=APP, unit="重要数据传输机密性", objects=[_obj("VPN 网关")]),
            )
            gw = s.scalar(select(CryptoTestObject.id).order_by(CryptoTestObject.id.desc()).limit(1))
            # own score 0 (D fails) covered by the gateway (1) → max(0.5·1, 0) = 0.5 under 2023; 2021: no compensation
            out = assessment.set_unit(
                s,
                assessment_id=aid,
                data=UnitIn(
                    layer=APP,
                    unit="重要数据存储机密性",
                    objects=[_obj("库", d=False, covered_by=gw), _obj("备份")],
                ),
            )
            assert out["score"] == expected, profile
        other = _new(s, sid)
        with pytest.raises(Invalid, match=f"covered_by {gw} is not a test object"):
            assessment.set_unit(
                s,
                assessment_id=other,
                data=UnitIn(layer=APP, unit="重要数据存储机密性", objects=[_obj("库", covered_by=gw)]),
            )


@pytest.mark.parametrize(
    ("unit", "objects", "message"),
    [
        ("不存在的单元", [_obj("x")], "不存在的单元"),
        ("不可否认性", [_obj("x")], "not assessed at level 2"),
        ("重要数据存储机密性", [_obj("x", a=False, ra=0.3)], "Ra 0.3 is not allowed"),
        ("重要数据存储机密性", [_obj("x", k=False, rk=1.5)], "Rk 1.5 is not allowed"),
        ("重要数据存储机密性", [_obj("ok"), _obj("x", k=False, rk=0)], "objects[1]: Rk 0"),
    ],
)
def test_bad_unit_or_ra_rk_is_one_error_and_nothing_stored(database, unit, objects, message):
    sid = _system(database, level=2)
    with database.unit_of_work() as s:
        aid = _new(s, sid)
    pattern = message.replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(Invalid, match=pattern), database.unit_of_work() as s:
        assessment.set_unit(s, assessment_id=aid, data=UnitIn(layer=APP, unit=unit, objects=objects))
    with database.unit_of_work() as s:
        assert s.scalar(select(func.count(CryptoUnitResult.id))) == 0
        assert s.scalar(select(func.count(CryptoTestObject.id))) == 0
        assert s.scalar(select(func.count(Rectification.id))) == 0


def test_non_compliant_units_feed_rectification_and_a_later_pass_verifies(database):
    sid = _system(database)
    key = f"39786:{MGMT}/密钥管理规则"
    with database.unit_of_work() as s:
        aid = _new(s, sid)
        out = assessment.set_unit(
            s, assessment_id=aid, data=UnitIn(layer=MGMT, unit="密钥管理规则", result="部分符合")
        )
        again = assessment.set_unit(
            s, assessment_id=aid, data=UnitIn(layer=MGMT, unit="密钥管理规则", result="不符合")
        )
        assert out["rectification_id"] is not None and again["rectification_id"] == out["rectification_id"]
        rect = s.get(Rectification, out["rectification_id"])
        assert (
            rect.item_key == key
            and rect.item_id == "7.1.2"
            and rect.status == "open"
            and rect.system_id == sid
        )
        later = _new(s, sid)
        done = assessment.set_unit(
            s, assessment_id=later, data=UnitIn(layer=MGMT, unit="密钥管理规则", result="符合")
        )
        assert done["verified"] == [rect.id]
        s.refresh(rect)
        assert rect.status == "verified" and "符合" in (rect.verification_note or "")


def test_pass_mark_and_high_risk_override_are_profile_settings(database, tmp_path, monkeypatch):
    (tmp_path / "strict.yaml").write_text(
        'id: strict\nversion: "1"\nrule: "2023"\npass_mark: 80\nhigh_risk_fails: false\n', encoding="utf-8"
    )
    monkeypatch.setenv("CIIMAP_CRYPTO_PROFILES", str(tmp_path))
    get_settings.cache_clear()
    sid = _system(database)
    with database.unit_of_work() as s:
        results = {}
        for profile in ("2023", "strict"):
            aid = _new(s, sid, profile)
            unit = UnitIn(layer=MGMT, unit="具备密码应用安全管理制度", result="符合", high_risk=True)
            assessment.set_unit(s, assessment_id=aid, data=unit)
            assessment.set_unit(
                s,
                assessment_id=aid,
                data=UnitIn(layer=APP, unit="身份鉴别", objects=[_obj("x", a=False, ra=0.5)]),
            )
            results[profile] = assessment.describe(s, assessment_id=aid)["score"]
    # total = 70 × 0.25 + 30 × 1 = 47.5 under both; 2023 fails on the high risk and the mark, strict on the mark
    assert results["2023"]["total"] == results["strict"]["total"] == 47.5
    assert results["2023"]["high_risk"] == [f"{MGMT}/具备密码应用安全管理制度"]
    assert results["2023"]["passed"] is False and results["strict"]["pass_mark"] == 80
    with database.unit_of_work() as s, pytest.raises(NotFound, match="profile 'nope'"):
        assessment.create(
            s, data=AssessmentIn(system_id=sid, assessed_on=dt.date(2026, 1, 1), assessor="x", profile="nope")
        )
    monkeypatch.delenv("CIIMAP_CRYPTO_PROFILES")
    get_settings.cache_clear()


def test_changes_are_audited(database):
    sid = _system(database)
    with database.unit_of_work() as s:
        aid = _new(s, sid)
        assessment.set_unit(
            s, assessment_id=aid, data=UnitIn(layer=APP, unit="身份鉴别", objects=[_obj("a")])
        )
        assessment.set_unit(
            s, assessment_id=aid, data=UnitIn(layer=APP, unit="身份鉴别", objects=[_obj("b")], note="复测")
        )
    with database.unit_of_work() as s:
        entities = [e for (e,) in s.execute(select(AuditLog.entity_type))]
    assert entities.count("crypto_assessment") == 1
    assert entities.count("crypto_unit_result") >= 2  # created, then updated
    assert entities.count("crypto_test_object") == 3  # a created, a deleted, b created


def _main(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as e:
        main(argv)
        raise SystemExit(0)
    cap = capsys.readouterr()
    return int(e.value.code or 0), cap.out + cap.err


def test_cli_new_unit_list_show_report(database, capsys, tmp_path: Path):
    sid = _system(database)
    code, out = _main(
        [
            "crypto",
            "assess",
            "new",
            "--system",
            str(sid),
            "--date",
            "2026-11-30",
            "--assessor",
            "李四",
            "--json",
        ],
        capsys,
    )
    assert code == 0, out
    aid = json.loads(out)["id"]
    argv = ["crypto", "assess", "unit", str(aid), "--layer", APP, "--unit", "重要数据存储机密性"]
    code, out = _main([*argv, "--object", "库:101:ra=0.5", "--object", "备份:111", "--json"], capsys)
    assert code == 0 and json.loads(out)["score"] == 0.625, out
    code, out = _main([*argv, "--object", "库:101:ra=0.3"], capsys)
    assert code == 1 and "Ra 0.3 is not allowed" in out and "Traceback" not in out
    code, out = _main([*argv, "--object", "库:1x1"], capsys)
    assert code == 1 and "库:1x1" in out
    code, out = _main(["crypto", "assess", "list", "--json"], capsys)
    assert code == 0 and json.loads(out)[0]["total"] == 62.5  # technical only → 100 × 0.625
    code, out = _main(["crypto", "assess", "show", str(aid), "--json"], capsys)
    assert json.loads(out)["units"][0]["objects"][0]["ra"] == 0.5
    code, out = _main(["crypto", "assess", "units", "--level", "1", "--json"], capsys)
    assert "不可否认性" not in out and "重要数据存储机密性" in out
    code, out = _main(["crypto", "assess", "profiles", "--json"], capsys)
    assert {p["id"] for p in json.loads(out)} == {"2023", "2021"}
    for fmt in ("docx", "pdf"):
        f = tmp_path / f"r.{fmt}"
        code, out = _main(["crypto", "assess", "report", str(aid), "--format", fmt, "-o", str(f)], capsys)
        assert code == 0 and f.stat().st_size > 1000, out


def test_report_is_chinese_first(database):
    sid = _system(database)
    with database.unit_of_work() as s:
        aid = _new(s, sid)
        assessment.set_unit(
            s, assessment_id=aid, data=UnitIn(layer=MGMT, unit="密钥管理规则", result="不符合")
        )
        doc = reports.build(s, aid, "zh")
        body, name, media = reports.render(s, assessment_id=aid, fmt="docx")
    assert doc.title == "商用密码应用安全性评估报告"
    units = doc.tables[1]
    assert units.rows == [["7.1.2", MGMT, "密钥管理规则", "不符合", "0", ""]]
    assert name.endswith(".docx") and "缴费系统" in name and body[:2] == b"PK"


def test_api_roles_and_bad_input(database, client, analyst_headers, auditor_headers):
    sid = _system(database)
    body = {"system_id": sid, "assessed_on": "2026-11-30", "assessor": "王五"}
    assert client.post("/api/crypto/assessments", json=body, headers=auditor_headers).status_code == 403
    r = client.post("/api/crypto/assessments", json=body, headers=analyst_headers)
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    unit = {
        "layer": APP,
        "unit": "身份鉴别",
        "objects": [{"name": "x", "d": True, "a": False, "k": True, "ra": 7}],
    }
    r = client.put(f"/api/crypto/assessments/{aid}/units", json=unit, headers=analyst_headers)
    assert r.status_code in (400, 422) and "Ra 7" in r.text
    unit["objects"][0]["ra"] = 0.2
    r = client.put(f"/api/crypto/assessments/{aid}/units", json=unit, headers=analyst_headers)
    assert r.status_code == 200 and r.json()["score"] == 0.1
    r = client.get(f"/api/crypto/assessments/{aid}", headers=auditor_headers)
    assert r.status_code == 200 and r.json()["score"]["total"] == 10.0
    assert client.get("/api/crypto/assessments/999999", headers=auditor_headers).status_code == 404
    r = client.get(f"/api/crypto/assessments/{aid}/report?format=pdf", headers=auditor_headers)
    assert r.status_code == 200 and r.content[:4] == b"%PDF"
