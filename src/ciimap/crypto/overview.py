"""What the pages, the dashboard card and the topology overlay show of the crypto domain: gaps per system
(flags, no national algorithm, the latest 密评 failed) from the inventory as last rebuilt (the rebuild
runs when the inventory or the flags are asked for, not on every map request)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ciimap.crypto import assessment, parse
from ciimap.crypto.models import CryptoFlag, CryptoItem, CryptoManual
from ciimap.crypto.rebuild import rules
from ciimap.inventory.models import System


def gaps(session: Session, system_ids: list[int] | None = None) -> dict[int, dict[str, Any]]:
    """system id → {"flags", "no_gm", "assessed", "passed", "total"} for systems with a gap or a 密评."""
    out: dict[int, dict[str, Any]] = {}

    def entry(sid: int) -> dict[str, Any]:
        return out.setdefault(
            sid, {"flags": 0, "no_gm": False, "assessed": False, "passed": None, "total": None}
        )

    fq = select(CryptoFlag.system_id, func.count()).where(CryptoFlag.system_id.is_not(None))
    if system_ids is not None:
        fq = fq.where(CryptoFlag.system_id.in_(system_ids))
    for sid, n in session.execute(fq.group_by(CryptoFlag.system_id)).tuples():
        if sid is not None:
            entry(sid)["flags"] = int(n)
    need = int(rules()["gm_required_from_level"])
    with_gm = select(CryptoItem.system_id).where(CryptoItem.gm.is_(True), CryptoItem.system_id.is_not(None))
    manual_gm = {
        sid
        for sid, alg in session.execute(
            select(CryptoManual.system_id, CryptoManual.algorithm).where(
                CryptoManual.system_id.is_not(None), CryptoManual.algorithm.is_not(None)
            )
        ).tuples()
        if any(parse.is_gm(a) for a in parse.algorithms(alg or ""))
    }
    nq = select(System.id).where(System.mlps_level >= need, System.id.not_in(with_gm))
    if system_ids is not None:
        nq = nq.where(System.id.in_(system_ids))
    for (sid,) in session.execute(nq).tuples():
        if sid not in manual_gm:
            entry(sid)["no_gm"] = True
    for a in assessment.list_assessments(session):
        if system_ids is not None and a["system_id"] not in system_ids:
            continue
        e = entry(a["system_id"])
        if not e["assessed"]:  # newest first: the latest one counts
            e.update(assessed=True, passed=a["passed"], total=a["total"])
    return out


def card(session: Session) -> dict[str, Any]:
    """Systems with a crypto gap, systems without GM algorithms, failed latest 密评, flags in all."""
    g = gaps(session)
    return {
        "systems_with_gaps": sum(1 for e in g.values() if e["flags"] or e["no_gm"] or e["passed"] is False),
        "no_gm": sum(1 for e in g.values() if e["no_gm"]),
        "failed": sum(1 for e in g.values() if e["passed"] is False),
        "flags": sum(e["flags"] for e in g.values()),
    }


def flag_counts(flags: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted(Counter(f["code"] for f in flags).items())
