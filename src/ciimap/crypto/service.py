"""The crypto inventory as users see it (per system and layer; the rebuild is ``rebuild.py``), manual
entries, and the flags (weak settings, missing GM algorithms)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Text, case, cast, func, select, true
from sqlalchemy.orm import Session

from ciimap.core.errors import Invalid, NotFound, check_choice
from ciimap.crypto import parse
from ciimap.crypto.models import (
    LAYER_NAMES,
    LAYERS,
    MANUAL_KINDS,
    CryptoFlag,
    CryptoItem,
    CryptoManual,
)
from ciimap.crypto.rebuild import _items_from_scripts as _items_from_scripts
from ciimap.crypto.rebuild import cache_key as cache_key
from ciimap.crypto.rebuild import flag_entry, key_flags, refresh, rules
from ciimap.inventory.models import Asset, System


def _item_dict(i: CryptoItem) -> dict[str, Any]:
    return {
        "id": i.id,
        "asset_id": i.asset_id,
        "system_id": i.system_id,
        "layer": i.layer,
        "kind": i.kind,
        "source": i.source,
        "protocol": i.protocol,
        "port": i.port,
        "name": i.name,
        "algorithms": i.algorithms,
        "gm": i.gm,
        "facts": i.facts,
        "warning": i.warning,
    }


def _manual_dict(m: CryptoManual) -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": m.kind,
        "system_id": m.system_id,
        "asset_id": m.asset_id,
        "layer": m.layer,
        "name": m.name,
        "algorithm": m.algorithm,
        "key_bits": m.key_bits,
        "certificate_no": m.certificate_no,
        "not_after": m.not_after.isoformat() if m.not_after else None,
        "note": m.note,
    }


def inventory(session: Session, *, system_id: int | None = None, detail: bool = True) -> dict[str, Any]:
    """Per system and layer: algorithms (GM or not), certificates, libraries, manual entries. For every
    system at once ``detail=False`` sums the items up set-based (counts per kind) instead of listing them."""
    refresh(session)
    if system_id is None and not detail:
        return _summary(session)
    q = select(CryptoItem).order_by(CryptoItem.id)
    mq = select(CryptoManual).order_by(CryptoManual.id)
    if system_id is not None:
        if session.get(System, system_id) is None:
            raise NotFound(f"system {system_id} not found")
        q, mq = q.where(CryptoItem.system_id == system_id), mq.where(CryptoManual.system_id == system_id)
    systems: dict[int | None, dict[str, Any]] = {}

    def bucket(sid: int | None, layer: str) -> dict[str, Any]:
        s = systems.setdefault(sid, {"system_id": sid, "layers": {}})
        return s["layers"].setdefault(
            layer,
            {"name": LAYER_NAMES.get(layer, layer), "algorithms": [], "gm": False, "items": [], "manual": []},
        )

    warnings: list[dict[str, Any]] = []
    for i in session.scalars(q):
        b = bucket(i.system_id, i.layer)
        b["items"].append(_item_dict(i))
        b["algorithms"] = sorted(set(b["algorithms"]) | set(i.algorithms))
        b["gm"] = b["gm"] or i.gm
        if i.warning:
            warnings.append({"item_id": i.id, "asset_id": i.asset_id, "port": i.port, "warning": i.warning})
    for m in session.scalars(mq):
        b = bucket(m.system_id, m.layer)
        b["manual"].append(_manual_dict(m))
        if m.algorithm:
            algs = parse.algorithms(m.algorithm) or [m.algorithm]
            b["algorithms"] = sorted(set(b["algorithms"]) | set(algs))
            b["gm"] = b["gm"] or any(parse.is_gm(a) for a in algs)
    names = dict(
        session.execute(select(System.id, System.name).where(System.id.in_([k for k in systems if k]))).all()
    )
    out = []
    for sid, s in sorted(systems.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        s["system"] = names.get(sid) if sid else None
        s["gm"] = any(layer["gm"] for layer in s["layers"].values())
        out.append(s)
    return {"systems": out, "warnings": warnings}


def _summary(session: Session) -> dict[str, Any]:
    """Every system's layers: counts per kind, algorithms and GM, by grouped and DISTINCT queries."""
    systems: dict[int | None, dict[str, Any]] = {}

    def bucket(sid: int | None, layer: str) -> dict[str, Any]:
        s = systems.setdefault(sid, {"system_id": sid, "layers": {}})
        return s["layers"].setdefault(
            layer,
            {
                "name": LAYER_NAMES.get(layer, layer),
                "algorithms": [],
                "gm": False,
                "counts": {},
                "manual": [],
            },
        )

    gm = func.max(case((CryptoItem.gm.is_(True), 1), else_=0))
    q = select(CryptoItem.system_id, CryptoItem.layer, CryptoItem.kind, func.count(), gm).group_by(
        CryptoItem.system_id, CryptoItem.layer, CryptoItem.kind
    )
    for sid, layer, kind, n, any_gm in session.execute(q).tuples():
        b = bucket(sid, layer)
        b["counts"][kind] = int(n)
        b["gm"] = b["gm"] or bool(any_gm)
    algs = select(CryptoItem.system_id, CryptoItem.layer, cast(CryptoItem.algorithms, Text)).distinct()
    for sid, layer, text_algs in session.execute(algs).tuples():
        b = bucket(sid, layer)
        b["algorithms"] = sorted(set(b["algorithms"]) | set(json.loads(text_algs or "[]")))
    for m in session.scalars(select(CryptoManual).order_by(CryptoManual.id)):
        b = bucket(m.system_id, m.layer)
        b["manual"].append(_manual_dict(m))
        if m.algorithm:
            found = parse.algorithms(m.algorithm) or [m.algorithm]
            b["algorithms"] = sorted(set(b["algorithms"]) | set(found))
            b["gm"] = b["gm"] or any(parse.is_gm(a) for a in found)
    wq = select(CryptoItem.id, CryptoItem.asset_id, CryptoItem.port, CryptoItem.warning).where(
        CryptoItem.warning.is_not(None)
    )
    warnings = [
        {"item_id": i, "asset_id": a, "port": p, "warning": w} for i, a, p, w in session.execute(wq).tuples()
    ]
    names = dict(
        session.execute(select(System.id, System.name).where(System.id.in_([k for k in systems if k]))).all()
    )
    out = []
    for sid, s in sorted(systems.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        s["system"] = names.get(sid) if sid else None
        s["gm"] = any(layer["gm"] for layer in s["layers"].values())
        out.append(s)
    return {"systems": out, "warnings": warnings}


def flags(
    session: Session,
    *,
    expiring_days: int | None = None,
    today: dt.date | None = None,
    system_id: int | None = None,
) -> list[dict[str, Any]]:
    """Weak settings and missing national algorithms (the rules are ``rules.yaml``)."""
    refresh(session)
    weak = rules()["weak"]
    days = weak["expiring_days"] if expiring_days is None else expiring_days
    if days < 0 or days > 3650:
        raise Invalid(f"expiring days {days} is outside 0..3650")
    now = dt.datetime.combine(today or dt.date.today(), dt.time(), tzinfo=dt.UTC)
    cols = (CryptoFlag.code, CryptoFlag.message, CryptoFlag.system_id, CryptoFlag.asset_id, CryptoFlag.port)
    out: list[dict[str, Any]] = [
        flag_entry(code, msg, system_id=sys_id, asset_id=aid, port=port, item_id=iid)
        for code, msg, sys_id, aid, port, iid in session.execute(
            select(*cols, CryptoFlag.item_id)
            .where(CryptoFlag.system_id == system_id if system_id is not None else true())
            .order_by(CryptoFlag.item_id, CryptoFlag.id)
        ).tuples()
    ]
    out += _expiry_flags(session, days, now, system_id)
    gm_by_system: dict[int, bool] = defaultdict(bool)
    for (sys_id,) in session.execute(
        select(CryptoItem.system_id)
        .where(CryptoItem.gm.is_(True), CryptoItem.system_id.is_not(None))
        .distinct()
    ):
        if sys_id is not None:
            gm_by_system[sys_id] = True
    for m in session.scalars(select(CryptoManual).where(CryptoManual.kind.in_(("certificate", "key")))):
        where = {"system_id": m.system_id, "asset_id": m.asset_id, "port": None, "manual_id": m.id}
        facts = {
            "key_type": (m.algorithm or "").lower(),
            "key_bits": m.key_bits,
            "not_after": dt.datetime.combine(m.not_after, dt.time(), tzinfo=dt.UTC).isoformat()
            if m.not_after
            else None,
        }
        out.extend(_cert_flags(facts, weak, days, now, where))
        if m.system_id is not None and m.algorithm:
            gm_by_system[m.system_id] |= any(parse.is_gm(a) for a in parse.algorithms(m.algorithm))
    for m in session.scalars(
        select(CryptoManual).where(CryptoManual.kind == "product", CryptoManual.system_id.is_not(None))
    ):
        if m.algorithm and m.system_id is not None:
            gm_by_system[m.system_id] |= any(parse.is_gm(a) for a in parse.algorithms(m.algorithm))
    need = int(rules()["gm_required_from_level"])
    for sid, name, level in session.execute(
        select(System.id, System.name, System.mlps_level).where(System.mlps_level >= need).order_by(System.id)
    ):
        if not gm_by_system.get(sid):
            out.append(
                flag_entry(
                    "no_gm",
                    f"system {name} (level {level}) shows no national (GM) algorithm; protected transmission "
                    f"is required from level {need} [verify]",
                    {"name": name, "level": level, "need": need},
                    system_id=sid,
                    asset_id=None,
                    port=None,
                )
            )
    if system_id is not None:  # manual entries and no_gm were computed for all (few rows)
        out = [f for f in out if f["system_id"] == system_id]
    return out


def _expiry_flags(
    session: Session, days: int, now: dt.datetime, system_id: int | None
) -> list[dict[str, Any]]:
    """Expired and expiring certificates: a range query on ``crypto_item.not_after``."""
    q = (
        select(
            CryptoItem.id, CryptoItem.system_id, CryptoItem.asset_id, CryptoItem.port, CryptoItem.not_after
        )
        .where(CryptoItem.not_after < now + dt.timedelta(days=days))
        .order_by(CryptoItem.id)
    )
    if system_id is not None:
        q = q.where(CryptoItem.system_id == system_id)
    out = []
    for iid, sys_id, aid, port, end in session.execute(q).tuples():
        if end is None:
            continue
        end = end if end.tzinfo else end.replace(tzinfo=dt.UTC)
        where = {"system_id": sys_id, "asset_id": aid, "port": port, "item_id": iid}
        out.extend(_expiry(end, days, now, where))
    return out


def _expiry(end: dt.datetime, days: int, now: dt.datetime, where: dict[str, Any]) -> list[dict[str, Any]]:
    if end < now:
        day = end.date().isoformat()
        return [flag_entry("expired", f"certificate expired on {day}", {"date": day}, **where)]
    if end < now + dt.timedelta(days=days):
        return [
            flag_entry(
                "expiring",
                f"certificate expires on {end.date().isoformat()} (within {days} days)",
                {"date": end.date().isoformat(), "days": days},
                **where,
            )
        ]
    return []


def _cert_flags(
    facts: dict[str, Any], weak: dict[str, Any], days: int, now: dt.datetime, where: dict[str, Any]
) -> list[dict[str, Any]]:
    out = key_flags(facts, weak, where)
    if facts.get("not_after"):
        out.extend(_expiry(dt.datetime.fromisoformat(facts["not_after"]), days, now, where))
    return out


def add_manual(
    session: Session,
    *,
    kind: str,
    layer: str,
    name: str,
    system_id: int | None = None,
    asset_id: int | None = None,
    algorithm: str | None = None,
    key_bits: int | None = None,
    certificate_no: str | None = None,
    not_after: dt.date | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Record a certified product, a key or a certificate no scan sees (audited)."""
    check_choice("kind", kind, MANUAL_KINDS)
    check_choice("layer", layer, LAYERS)
    if not name.strip():
        raise Invalid("name must not be empty")
    if system_id is not None and session.get(System, system_id) is None:
        raise NotFound(f"system {system_id} not found")
    if asset_id is not None and session.get(Asset, asset_id) is None:
        raise NotFound(f"asset {asset_id} not found")
    if kind == "product" and not certificate_no:
        raise Invalid("a certified crypto product needs its certificate number (商用密码产品认证证书编号)")
    if key_bits is not None and not 0 < key_bits <= 65536:
        raise Invalid(f"key bits {key_bits} is outside 1..65536")
    m = CryptoManual(
        kind=kind,
        layer=layer,
        name=name.strip(),
        system_id=system_id,
        asset_id=asset_id,
        algorithm=algorithm,
        key_bits=key_bits,
        certificate_no=certificate_no,
        not_after=not_after,
        note=note,
    )
    session.add(m)
    session.flush()
    return _manual_dict(m)
