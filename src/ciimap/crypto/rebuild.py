"""The derived crypto inventory (``crypto_item``, ``crypto_flag``): rebuilt from imported scan detail and
SBOM software when its cache key changes (recompute on demand), incrementally when only later import
runs were added. Each distinct script output is parsed once; date-free flags are stored with the items.
Check a change with ``bench/crypto_evidence.py`` and ``tests/crypto/test_inventory.py``
(``test_incremental_refresh_equals_a_full_rebuild``)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import Text, cast, delete, false, func, or_, select, text, update
from sqlalchemy.orm import Session

from ciimap.core import bulk
from ciimap.core.db import utcnow
from ciimap.crypto import parse
from ciimap.crypto.models import CryptoFlag, CryptoItem, CryptoState
from ciimap.ingest.models import ScanDetail
from ciimap.inventory.models import Asset, Software

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
        out += [(f["code"], f["message"]) for f in key_flags(item["facts"], weak, {})]
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
        if key.split("|")[2:] != state.key.split("|")[2:]:  # assets changed: some may have moved
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


def flag_entry(code: str, message: str, params: dict[str, Any] | None = None, **where: Any) -> dict[str, Any]:
    """A flag: its code, the English message (API, CLI) and, for flags computed when listed, the
    message's parameters so that a page can say it in its own language (``cry.msg.<code>``)."""
    return {"code": code, "message": message, **({"params": params} if params else {}), **where}


def key_flags(facts: dict[str, Any], weak: dict[str, Any], where: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    if (
        str(facts.get("key_type") or "").lower() == "rsa"
        and facts.get("key_bits")
        and facts["key_bits"] < weak["min_rsa_bits"]
    ):
        out.append(
            flag_entry("weak_key", f"RSA key of {facts['key_bits']} bits (< {weak['min_rsa_bits']})", **where)
        )
    sig = parse.algorithms(str(facts.get("signature_algorithm") or ""))
    for a in sorted(set(sig) & set(weak["signature_algorithms"])):
        out.append(flag_entry("weak_signature", f"certificate signed with {a}", **where))
    return out
