"""The cryptography evidence rule: the crypto inventory (an imported nmap scan with ssl/ssh scripts,
manual entries) and the latest 密评 propose results for the crypto items of GB/T 22239-2019."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ciimap.compliance import evidence
from ciimap.crypto import service as crypto
from ciimap.ingest import service as ingest
from ciimap.inventory.models import Asset, System
from ciimap.web.i18n import Translator

DATA = Path(__file__).resolve().parents[1] / "data" / "crypto"
EN = Translator("en")
ZH = Translator("zh-CN")


def _rule(db: Any, sid: int) -> dict[str, Any]:
    with db.read_session() as s:
        data = evidence.for_system(s, system_id=sid, fresh=True)
    return next(p for p in data["proposals"] if p["rule"] == "cryptography")


def test_crypto_inventory_proposes_results(database: Any) -> None:
    with database.unit_of_work() as s:
        ingest.import_files(s, kind="nmap", paths=[DATA / "nmap-crypto-loopback.xml"])
        weak = System(name="SCADA", mlps_level=3)
        gm_only = System(name="国密门户", mlps_level=3)
        no_gm = System(name="办公", mlps_level=3)
        empty = System(name="空系统", mlps_level=2)
        s.add_all([weak, gm_only, no_gm, empty])
        s.flush()
        for a in s.scalars(select(Asset)):
            a.system_id = weak.id
        crypto.add_manual(s, kind="product", layer="network", name="SSL VPN 网关", system_id=gm_only.id,
                          algorithm="SM2/SM3/SM4", certificate_no="GM003312220220001")  # fmt: skip
        crypto.add_manual(s, kind="certificate", layer="application", name="门户证书", system_id=no_gm.id,
                          algorithm="RSA", key_bits=2048, not_after=dt.date(2030, 1, 1))  # fmt: skip
        ids = {"weak": weak.id, "gm": gm_only.id, "no_gm": no_gm.id, "empty": empty.id}
    bad = _rule(database, ids["weak"])
    assert bad["result"] == "fail"  # 3DES / RC4 offered over SSH and TLS (weak_cipher is a fail flag)
    codes = {r["params"].get("code") for r in bad["records"] if r["reason"] == "crypto_flag"}
    assert "weak_cipher" in codes and bad["counts"]["fail_flags"] >= 1 and bad["counts"]["no_gm"] == 1
    assert {r["reason"] for r in bad["records"]} >= {"crypto_flag", "no_gm"}
    text = ZH(f"cmp.why.{bad['records'][0]['reason']}", **bad["records"][0]["params"])
    assert "weak_cipher" in text or "国密" in text
    assert {i["id"] for i in bad["items"]} >= {"22239-2019:8.1.2.2.a", "22239-2019:8.1.2.2.b"}
    assert _rule(database, ids["gm"])["result"] == "pass"  # a certified GM product, nothing weak
    partial = _rule(database, ids["no_gm"])
    assert partial["result"] == "partial" and EN("cmp.why.no_gm") in [
        EN(f"cmp.why.{r['reason']}", **r["params"]) for r in partial["records"]
    ]
    assert _rule(database, ids["empty"])["result"] == "no_evidence"
    # a failed latest 密评 makes the GM system fail, with the assessment behind it
    from ciimap.crypto import assessment as mipping
    from ciimap.crypto.schemas import AssessmentIn, ObjectIn, UnitIn

    with database.unit_of_work() as s:
        a = mipping.create(
            s,
            data=AssessmentIn(
                system_id=ids["gm"], level=3, assessed_on=dt.date(2026, 11, 1), assessor="测评机构"
            ),
        )
        mipping.set_unit(s, assessment_id=a["id"], data=UnitIn(layer="应用和数据", unit="重要数据存储机密性",
                         objects=[ObjectIn(name="数据库", d=False, a=False, k=False)]))  # fmt: skip
    failed = _rule(database, ids["gm"])
    assert failed["result"] == "fail" and failed["counts"]["mipping_failed"] == 1
    assert [r["reason"] for r in failed["records"]][0] == "mipping_failed"
