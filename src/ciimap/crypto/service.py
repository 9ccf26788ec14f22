"""The crypto inventory: rebuilt from imported scan detail and SBOM software when its cache key
changes (recompute on demand), manual entries, and the flags (weak settings, missing GM algorithms)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import Text, case, cast, delete, false, func, or_, select, text, true, update
from sqlalchemy.orm import Session

from ciimap.core import bulk
from ciimap.core.db import utcnow
from ciimap.core.errors import Invalid, NotFound, check_choice
from ciimap.crypto import parse
from ciimap.crypto.models import (
    LAYER_NAMES,
    LAYERS,
    MANUAL_KINDS,
    CryptoFlag,
    CryptoItem,
    CryptoManual,
    CryptoState,
)
from ciimap.ingest.models import ScanDetail
from ciimap.inventory.models import Asset, Software, System

#: The one row of ``crypto_state``.
STATE_ID = 1


@cache
def rules() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(
        resources.files("ciimap.crypto").joinpath("rules.yaml").read_text("utf-8")
    )
    return doc


def cache_key(session: Session) -> str:
    """Changes whenever an import writes scan detail or software (ids only grow; deletes lower counts)."""
    d = session.execute(
        select(func.count(ScanDetail.id), func.max(ScanDetail.run_id), func.max(ScanDetail.id))
    ).one()
    s = session.execute(
        select(func.count(Software.id), func.max(Software.id), func.max(Software.updated_at))
    ).one()
    a = session.execute(select(func.max(Asset.updated_at))).scalar()
    return f"d{d[0]}:{d[1]}:{d[2]}|s{s[0]}:{s[1]}:{s[2]}|a{a}"


def _items_from_scripts(
    asset_id: int,
    system_id: int | None,
    data: dict[str, Any],
    memo: dict[Any, dict[str, Any] | None] | None = None,
) -> list[dict[str, Any]]:
    """Items of one host's kept scripts; ``memo`` caches the parse of identical output (most hosts of a fleet
    share their TLS and SSH configuration), so a rebuild parses each distinct output once."""
    out: list[dict[str, Any]] = []
    memo = {} if memo is None else memo
    for proto, port, sid, output, pem in data.get("port_scripts") or []:
        key = (sid, output, pem)
        if key not in memo:
            memo[key] = _parse_script(sid, output, pem)
        parsed = memo[key]
        if parsed is not None:
            base = {
                "asset_id": asset_id,
                "system_id": system_id,
                "protocol": proto,
                "port": port,
                "source": f"nmap:{sid}",
            }
            out.append({**base, **parsed})
    return out


def _parse_script(sid: str, output: str | None, pem: str | None) -> dict[str, Any] | None:
    layers = rules()["layers"]
    out: list[dict[str, Any]] = []
    base: dict[str, Any] = {}
    if sid == "ssl-cert":
        facts = parse.parse_ssl_cert(output or "", pem)
        algs = sorted(
            set(parse.algorithms(str(facts.get("key_type") or "")))
            | set(parse.algorithms(str(facts.get("signature_algorithm") or "")))
        )
        out.append(
            {
                **base,
                "layer": layers["certificate"],
                "kind": "certificate",
                "name": str(facts.get("subject") or "(unreadable certificate)")[:300],
                "algorithms": algs,
                "gm": any(parse.is_gm(x) for x in algs),
                "facts": facts,
                "warning": facts.get("warning"),
            }
        )
    elif sid == "ssl-enum-ciphers":
        facts = parse.parse_ssl_enum_ciphers(output or "")
        algs = sorted(
            {a for suites in facts["versions"].values() for c in suites for a in parse.algorithms(c["suite"])}
        )
        out.append(
            {
                **base,
                "layer": layers["tls"],
                "kind": "tls",
                "name": " ".join(facts["versions"]) or "TLS",
                "algorithms": algs,
                "gm": any(parse.is_gm(x) for x in algs),
                "facts": facts,
                "warning": None if facts["versions"] else "no TLS version in the script output",
            }
        )
    elif sid == "ssh2-enum-algos":
        facts = parse.parse_ssh2_enum_algos(output or "")
        names = [n for k, v in facts.items() if k != "compression_algorithms" for n in v]
        algs = sorted({a for n in names for a in parse.algorithms(n)})
        out.append(
            {
                **base,
                "layer": layers["ssh"],
                "kind": "ssh",
                "name": "SSH",
                "algorithms": algs,
                "gm": any(parse.is_gm(x) for x in algs),
                "facts": facts,
                "warning": None if facts else "no algorithm list in the script output",
            }
        )
    if not out:
        return None
    item = out[0]
    item["not_after"] = _not_after(item)
    item["static_flags"] = _static_flags(item)
    return item


def _not_after(item: dict[str, Any]) -> dt.datetime | None:
    if item["kind"] != "certificate" or item["warning"] or not item["facts"].get("not_after"):
        return None
    end = dt.datetime.fromisoformat(item["facts"]["not_after"])
    return end if end.tzinfo else end.replace(tzinfo=dt.UTC)


def _static_flags(item: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, message) of the flags that do not depend on the date."""
    weak = rules()["weak"]
    out: list[tuple[str, str]] = []
    if item["warning"]:
        out.append(("unreadable", item["warning"]))
    if item["kind"] == "tls":
        out += [
            ("weak_protocol", f"{v} offered")
            for v in item["facts"].get("versions", {})
            if v in weak["protocols"]
        ]
        bad = sorted(set(item["algorithms"]) & set(weak["algorithms"]))
        out += [("weak_cipher", f"cipher suites with {a} offered") for a in bad]
    elif item["kind"] == "ssh":
        out += [
            ("weak_cipher", f"SSH offers {a}")
            for a in sorted(set(item["algorithms"]) & set(weak["algorithms"]))
        ]
    elif item["kind"] == "certificate" and not item["warning"]:
        out += [(f["code"], f["message"]) for f in _key_flags(item["facts"], weak, {})]
    return out


def _library(name: str, purl: str | None) -> tuple[str, dict[str, Any]] | None:
    libs = rules()["libraries"]
    cands = [name.lower()]
    if purl:
        cands.append(purl.split("@")[0].rsplit("/", 1)[-1].lower())
    for c in cands:
        if c in libs:
            return c, libs[c]
    return None


def refresh(session: Session, *, force: bool = False) -> dict[str, Any]:
    """Rebuild the derived inventory when the cache key changed (or ``force``); never commits."""
    key = cache_key(session)
    state = session.get(CryptoState, STATE_ID)
    if state is not None and state.key == key and not force:
        return {"refreshed": False, "key": key}
    if session.get_bind().dialect.name == "postgresql":
        # one rebuild at a time; whoever waited sees the rebuilt state and returns
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('ciimap.crypto.refresh'))"))
        state = session.get(CryptoState, STATE_ID, populate_existing=True)
        key = cache_key(session)
        if state is not None and state.key == key and not force:
            return {"refreshed": False, "key": key}
    counts = session.execute(select(func.count(ScanDetail.id), func.max(ScanDetail.run_id))).one()
    scan_rows, scan_run = int(counts[0]), counts[1]
    full = force or state is None or state.scan_run is None or scan_rows < (state.scan_rows or 0)
    q = (
        select(ScanDetail.asset_id, Asset.system_id, ScanDetail.data)
        .join(Asset, Asset.id == ScanDetail.asset_id)
        .where(cast(ScanDetail.data, Text).contains('"port_scripts"'))  # skip hosts without kept scripts
        .order_by(ScanDetail.id)
        .execution_options(yield_per=2000)
    )
    libraries = True
    if full:
        session.execute(delete(CryptoFlag))
        session.execute(delete(CryptoItem))
        first_id = 1
    else:
        # incremental: only hosts whose scan detail an import wrote since (a larger run id) are parsed again;
        # moved assets get their system set-based
        assert state is not None
        changed = select(ScanDetail.asset_id).where(ScanDetail.run_id > state.scan_run).distinct()
        # SBOM libraries again only when software or assets changed (their system follows either)
        libraries = key.split("|")[1:] != state.key.split("|")[1:]
        stale_lib = CryptoItem.kind == "library" if libraries else false()
        stale = select(CryptoItem.id).where(or_(CryptoItem.asset_id.in_(changed), stale_lib))
        session.execute(delete(CryptoFlag).where(CryptoFlag.item_id.in_(stale)))
        session.execute(delete(CryptoItem).where(CryptoItem.id.in_(stale)))
        _resync_systems(session)
        q = q.where(ScanDetail.asset_id.in_(changed))
        first_id = (session.scalar(select(func.max(CryptoItem.id))) or 0) + 1
    rows: list[dict[str, Any]] = []
    memo: dict[Any, dict[str, Any] | None] = {}
    for aid, sid, data in session.execute(q):
        if isinstance(data, dict) and data.get("port_scripts"):
            rows.extend(_items_from_scripts(aid, sid, data, memo))
    if libraries:
        rows.extend(_library_items(session))
    _store(session, rows, first_id)
    if state is None:
        state = CryptoState(id=STATE_ID, key=key)
        session.add(state)
    state.key, state.refreshed_at, state.scan_rows, state.scan_run = key, utcnow(), scan_rows, scan_run or 0
    session.flush()
    total = session.scalar(select(func.count(CryptoItem.id))) if not full else len(rows)
    return {"refreshed": True, "key": key, "items": total, "parsed": len(rows), "full": full}


def _library_items(session: Session) -> list[dict[str, Any]]:
    """Items of SBOM software that is a crypto library of ``rules.yaml`` (candidates filtered in SQL)."""
    out: list[dict[str, Any]] = []
    layer = rules()["layers"]["library"]
    sq = select(
        Software.asset_id, Software.system_id, Asset.system_id, Software.name, Software.version, Software.purl
    ).outerjoin(Asset, Asset.id == Software.asset_id)
    libs = list(rules()["libraries"])
    # only candidate rows leave the database: a library name, or a purl naming one (checked again below)
    sq = sq.where(
        or_(func.lower(Software.name).in_(libs), *(Software.purl.ilike(f"%/{lib}@%") for lib in libs))
    )
    for aid, own_sys, asset_sys, name, version, purl in session.execute(sq):
        hit = _library(name, purl)
        if hit:
            lib, spec = hit
            out.append(
                {
                    "asset_id": aid,
                    "system_id": own_sys or asset_sys,
                    "protocol": None,
                    "port": None,
                    "source": "sbom",
                    "layer": layer,
                    "kind": "library",
                    "name": f"{name} {version or ''}".strip()[:300],
                    "algorithms": list(spec["algorithms"]),
                    "gm": bool(spec["gm"]),
                    "facts": {"library": lib, "version": version, "purl": purl},
                    "warning": None,
                    "not_after": None,
                    "static_flags": [],
                }
            )
    return out


def _resync_systems(session: Session) -> None:
    """Items and flags follow their asset's system (one UPDATE each, only rows whose system changed)."""
    asset_system = select(Asset.system_id).where(Asset.id == CryptoItem.asset_id).scalar_subquery()
    session.execute(
        update(CryptoItem)
        .where(
            CryptoItem.asset_id.is_not(None),
            CryptoItem.kind != "library",  # a library's system may be the software's own
            CryptoItem.system_id.is_distinct_from(asset_system),
        )
        .values(system_id=asset_system)
        .execution_options(synchronize_session=False)
    )
    item_system = select(CryptoItem.system_id).where(CryptoItem.id == CryptoFlag.item_id).scalar_subquery()
    session.execute(
        update(CryptoFlag)
        .where(CryptoFlag.system_id.is_distinct_from(item_system))
        .values(system_id=item_system)
        .execution_options(synchronize_session=False)
    )


def _store(session: Session, rows: list[dict[str, Any]], first_id: int) -> None:
    """Items with explicit ids (only the rebuild writes this table) and their date-free flags."""
    flags: list[dict[str, Any]] = []
    for n, row in enumerate(rows, start=first_id):
        row["id"] = n
        for code, message in row.pop("static_flags"):
            flags.append(
                {
                    "item_id": n,
                    "system_id": row["system_id"],
                    "asset_id": row["asset_id"],
                    "port": row["port"],
                    "code": code,
                    "message": message[:300],
                }
            )
    if rows:
        bulk.insert_rows(session, CryptoItem.__table__, rows)
    if flags:
        bulk.insert_rows(session, CryptoFlag.__table__, flags)


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


def _flag(code: str, message: str, **where: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **where}


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
        _flag(code, msg, system_id=sys_id, asset_id=aid, port=port, item_id=iid)
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
                _flag(
                    "no_gm",
                    f"system {name} (level {level}) shows no national (GM) algorithm; protected transmission "
                    f"is required from level {need} [verify]",
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
        return [_flag("expired", f"certificate expired on {end.date().isoformat()}", **where)]
    if end < now + dt.timedelta(days=days):
        return [
            _flag(
                "expiring", f"certificate expires on {end.date().isoformat()} (within {days} days)", **where
            )
        ]
    return []


def _cert_flags(
    facts: dict[str, Any], weak: dict[str, Any], days: int, now: dt.datetime, where: dict[str, Any]
) -> list[dict[str, Any]]:
    out = _key_flags(facts, weak, where)
    if facts.get("not_after"):
        out.extend(_expiry(dt.datetime.fromisoformat(facts["not_after"]), days, now, where))
    return out


def _key_flags(facts: dict[str, Any], weak: dict[str, Any], where: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    if (
        str(facts.get("key_type") or "").lower() == "rsa"
        and facts.get("key_bits")
        and facts["key_bits"] < weak["min_rsa_bits"]
    ):
        out.append(
            _flag("weak_key", f"RSA key of {facts['key_bits']} bits (< {weak['min_rsa_bits']})", **where)
        )
    sig = parse.algorithms(str(facts.get("signature_algorithm") or ""))
    for a in sorted(set(sig) & set(weak["signature_algorithms"])):
        out.append(_flag("weak_signature", f"certificate signed with {a}", **where))
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
