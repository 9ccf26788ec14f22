"""A month of scan history for the demo operator (扫描历史): daily nmap runs per network zone and a
daily osquery software inventory over the last :data:`DAYS` days, with the change events those runs
would have recorded — assets appearing (new hosts, many of them not in the register), assets going
missing and coming back, ports opening and closing, service and software versions changing (mostly
the vulnerable releases being patched).

Written through the ingest domain's own tables (``import_run``, ``change_event``) in the shapes the
real importers write (see ``ingest/hostupdate.py``, ``ingest/swload.py``, ``ingest/changes.py``), and
the map is made to agree with them: a new asset's ``first_seen`` is the day it appeared, a missing
asset's ``last_seen`` the scan before it went missing, an opened port's ``first_seen`` the day it
opened, a closed port stays as a ``closed`` endpoint as the nmap import leaves it. So the change-event
feed, the asset pages and the dashboard's 30-day chart show the history.

Bulk and bounded: a fixed number of small queries, rows inserted with one ``executemany``/``COPY``
per table, candidates sampled by id stride at large scales. Deterministic: same seed and ``now``,
same rows. One ``demo_load`` audit record per table with the sha256 of what was written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from ciimap.core import audit, bulk
from ciimap.demo.catalog_tech import VULNERABLE
from ciimap.ingest.models import ChangeEvent, ImportRun
from ciimap.inventory.models import Asset, NetworkZone, ServiceEndpoint, Software

DAYS = 30
#: ``import_run.created_by`` of the history's runs (so a --reset removes them with the old map).
ACTOR = "ciimap-demo"
#: Candidates are sampled from about this many assets whatever the scale.
SAMPLE = 5000
#: Ports a hardening campaign closed on some hosts (port, service, product).
CLOSED = (
    (23, "telnet", "Linux telnetd"),
    (21, "ftp", "vsftpd"),
    (3389, "ms-wbt-server", "Microsoft Terminal Services"),
)
#: fixed version → vulnerable version, per software name / endpoint product (the demo's pins).
PATCHED = {
    "log4j-core": VULNERABLE["log4j"],
    "openssl": VULNERABLE["openssl"],
    "Apache Tomcat": VULNERABLE["tomcat"],
    "nginx": VULNERABLE["nginx"],
    "django": VULNERABLE["django"],
    "requests": VULNERABLE["requests"],
}


def _port_view(state: str, name: Any, product: Any, version: Any) -> dict[str, Any]:
    return {"state": state, "service": name, "product": product, "version": version}


class _Runs:
    """The history's runs: one nmap run per zone and day, one osquery run per day."""

    def __init__(self, session: Session, zones: list[tuple[int, str, list[str]]], now: dt.datetime) -> None:
        base = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=2)
        self.starts = [base - dt.timedelta(days=k) for k in range(DAYS)]  # day k: k days ago
        keys = [("nmap", z[0]) for z in zones] + [("osquery", None)]
        ids = bulk.allocate_ids(session, ImportRun.__table__, len(keys) * DAYS)
        self.ids: dict[tuple[str, int | None, int], int] = {}
        self.scope: dict[tuple[str, int | None], str] = {
            ("nmap", zid): "nmap:" + " ".join(cidrs or [name]) for zid, name, cidrs in zones
        }
        self.scope[("osquery", None)] = "osquery:demo-fleet"
        it = iter(ids)
        for k in reversed(range(DAYS)):  # oldest first: ids grow with time as real runs' do
            for kind, zid in keys:
                self.ids[(kind, zid, k)] = next(it)
        self.changes: dict[int, int] = defaultdict(int)

    def at(self, kind: str, zid: int | None, day: int, rnd: random.Random) -> tuple[int, dt.datetime]:
        run = self.ids[(kind, zid if kind == "nmap" else None, day)]
        self.changes[run] += 1
        return run, self.starts[day] + dt.timedelta(seconds=60 + rnd.randrange(1800))

    def rows(self, hosts: dict[int, int]) -> list[dict[str, Any]]:
        out = []
        for (kind, zid, day), rid in sorted(self.ids.items(), key=lambda x: x[1]):
            start = self.starts[day] + (dt.timedelta(hours=1) if kind == "osquery" else dt.timedelta())
            seen = hosts.get(zid or 0, 0) if kind == "nmap" else hosts.get(0, 0)
            out.append(
                {
                    "id": rid,
                    "kind": kind,
                    "scope": self.scope[(kind, zid)],
                    "status": "succeeded",
                    "files": [],
                    "meta": {"generator": "ciimap.demo.history"},
                    "stats": {"hosts": seen, "changes": self.changes.get(rid, 0)},
                    "error": None,
                    "created_by": ACTOR,
                    "started_at": start,
                    "finished_at": start + dt.timedelta(seconds=40 + seen // 20),
                }
            )
        return out


def _sampled(col: Any, stride: int) -> Any:
    """Every ``stride``-th asset id (all at the default scale): the rows read stay about :data:`SAMPLE`
    assets' worth at any scale."""
    return (col % stride) == 0 if stride > 1 else col.is_not(None)


def _spread(items: list[Any], rnd: random.Random) -> list[tuple[int, Any]]:
    """Items shuffled; the first :data:`DAYS` dealt one per day (every day gets some), the rest on
    random days (so the days differ, as real ones do)."""
    items = list(items)
    rnd.shuffle(items)
    offset = rnd.randrange(DAYS)
    return [((i + offset) % DAYS if i < DAYS else rnd.randrange(DAYS), x) for i, x in enumerate(items)]


def load_history(session: Session, *, seed: int, now: dt.datetime, reset: bool = False) -> dict[str, Any]:
    """Write the month of runs and change events in the caller's transaction; returns counts."""
    rnd = random.Random(f"history-{seed}")
    if reset:  # the old map's history runs (their events went with its assets)
        session.execute(delete(ImportRun).where(ImportRun.created_by == ACTOR))
    session.flush()
    zones = [
        (z, n, list(c or []))
        for z, n, c in session.execute(
            select(NetworkZone.id, NetworkZone.name, NetworkZone.cidrs).order_by(NetworkZone.id)
        ).tuples()
    ]
    runs = _Runs(session, zones, now)
    total = session.scalar(select(func.count()).select_from(Asset)) or 0
    stride = max(1, total // SAMPLE)
    sampled = _sampled(Asset.id, stride)
    assets = session.execute(
        select(
            Asset.id, Asset.zone_id, Asset.primary_ip, Asset.hostname, Asset.declared, Asset.lifecycle_status
        )
        .where(sampled, Asset.zone_id.is_not(None))
        .order_by(Asset.id)
    ).all()
    hosts: dict[int, int] = {
        int(z or 0): int(n)
        for z, n in session.execute(
            select(Asset.zone_id, func.count()).where(Asset.zone_id.is_not(None)).group_by(Asset.zone_id)
        ).tuples()
    }
    hosts[0] = total
    ids = [a.id for a in assets]
    zone_of = {a.id: a.zone_id for a in assets}
    eps: dict[int, list[Any]] = defaultdict(list)
    soft: list[Any] = []
    for part in range(0, len(ids), SAMPLE):  # id ranges of about SAMPLE sampled assets
        chunk = ids[part : part + SAMPLE]
        lo, hi = chunk[0], chunk[-1]
        for e in session.execute(
            select(
                ServiceEndpoint.id,
                ServiceEndpoint.asset_id,
                ServiceEndpoint.address,
                ServiceEndpoint.protocol,
                ServiceEndpoint.port,
                ServiceEndpoint.state,
                ServiceEndpoint.name,
                ServiceEndpoint.product,
                ServiceEndpoint.version,
            )
            .where(ServiceEndpoint.asset_id.between(lo, hi), _sampled(ServiceEndpoint.asset_id, stride))
            .order_by(ServiceEndpoint.id)
        ):
            if e.asset_id in zone_of:
                eps[e.asset_id].append(e)
        soft += [
            s
            for s in session.execute(
                select(Software.id, Software.asset_id, Software.name, Software.version)
                .where(
                    Software.asset_id.between(lo, hi),
                    Software.name.in_(PATCHED),
                    _sampled(Software.asset_id, stride),
                )
                .order_by(Software.id)
            )
            if s.asset_id in zone_of
        ]
    events: list[dict[str, Any]] = []
    first_seen: list[dict[str, Any]] = []  # asset: the day it appeared
    last_seen: list[dict[str, Any]] = []  # missing asset: the last scan that saw it
    ep_first: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []

    def ev(kind: str, run: int, at: dt.datetime, aid: int, subject: Any, before: Any, after: Any) -> None:
        events.append(
            {
                "run_id": run,
                "asset_id": aid,
                "kind": kind,
                "subject": subject,
                "before": before,
                "after": after,
                "at": at,
            }
        )

    live = [a for a in assets if a.lifecycle_status in ("active", "maintenance")]
    # 1. new hosts: a third of the unregistered ones (the unmanaged-asset story), 1 % of the rest
    new = [a for a in live if not a.declared and rnd.random() < 0.35] + [
        a for a in live if a.declared and rnd.random() < 0.01
    ]
    for day, a in _spread(new, rnd):
        run, at = runs.at("nmap", a.zone_id, day, rnd)
        ports = sorted(f"{e.protocol}/{e.port}" for e in eps[a.id] if e.state == "open")
        ev(
            "asset_new",
            run,
            at,
            a.id,
            a.primary_ip or a.hostname,
            None,
            {
                "ips": [a.primary_ip] if a.primary_ip else [],
                "hostnames": [a.hostname] if a.hostname else [],
                "open_ports": ports,
            },
        )
        first_seen.append({"b_id": a.id, "b_at": at})
    fresh = {a.id for a in new}
    # 2. hosts that went missing this month (most of the demo's missing assets)
    gone = [a for a in assets if a.lifecycle_status == "missing" and rnd.random() < 0.7]
    for day, a in _spread(gone, rnd):
        run, at = runs.at("nmap", a.zone_id, day, rnd)
        ev(
            "asset_missing",
            run,
            at,
            a.id,
            a.primary_ip,
            {"lifecycle_status": "active"},
            {"lifecycle_status": "missing"},
        )
        last_seen.append({"b_id": a.id, "b_at": at - dt.timedelta(days=1)})
    # 3. hosts that were missing for a few days and came back
    back = [a for a in live if a.id not in fresh and rnd.random() < 0.004]
    for day, a in _spread(back, rnd):
        gap = min(1 + rnd.randrange(4), DAYS - 1 - day) if day < DAYS - 1 else 0
        if not gap:
            continue
        run, at = runs.at("nmap", a.zone_id, day + gap, rnd)
        ev(
            "asset_missing",
            run,
            at,
            a.id,
            a.primary_ip,
            {"lifecycle_status": "active"},
            {"lifecycle_status": "missing"},
        )
        run, at = runs.at("nmap", a.zone_id, day, rnd)
        ev(
            "asset_returned",
            run,
            at,
            a.id,
            a.primary_ip,
            {"lifecycle_status": "missing"},
            {"lifecycle_status": "active"},
        )
    # 4. ports that opened (on hosts already known)
    opened = [
        e for a in live if a.id not in fresh for e in eps[a.id] if e.state == "open" and rnd.random() < 0.012
    ]
    for day, e in _spread(opened, rnd):
        run, at = runs.at("nmap", zone_of[e.asset_id], day, rnd)
        ev(
            "port_opened",
            run,
            at,
            e.asset_id,
            f"{e.address} {e.protocol}/{e.port}",
            None,
            _port_view("open", e.name, e.product, e.version),
        )
        ep_first.append({"b_id": e.id, "b_at": at})
    # 5. ports a hardening campaign closed (kept as closed endpoints, as the nmap import does)
    hardened = [a for a in live if a.primary_ip and eps[a.id] and rnd.random() < 0.01]
    for day, a in _spread(hardened, rnd):
        taken = {(e.protocol, e.port) for e in eps[a.id]}
        port, name, product = next((c for c in CLOSED if ("tcp", c[0]) not in taken), CLOSED[0])
        if ("tcp", port) in taken:
            continue
        run, at = runs.at("nmap", a.zone_id, day, rnd)
        ev(
            "port_closed",
            run,
            at,
            a.id,
            f"{a.primary_ip} tcp/{port}",
            _port_view("open", name, product, None),
            {"state": "closed"},
        )
        start = at - dt.timedelta(days=60 + rnd.randrange(300))
        closed.append(
            {
                "asset_id": a.id,
                "address": a.primary_ip,
                "protocol": "tcp",
                "port": port,
                "state": "closed",
                "name": name,
                "product": product,
                "version": None,
                "extrainfo": None,
                "tunnel": None,
                "cpes": [],
                "method": "probed",
                "confidence": 10,
                "source": "nmap",
                "first_seen": start,
                "last_seen": at,
                "created_at": start,
                "updated_at": at,
            }
        )
    # 6. service versions patched (the probe saw the old release before)
    patched_eps = [
        e
        for a in live
        for e in eps[a.id]
        if e.state == "open"
        and e.product in ("nginx", "Apache Tomcat")
        and e.version == PATCHED[e.product][1]
        and rnd.random() < 0.3
    ]
    for day, e in _spread(patched_eps, rnd):
        run, at = runs.at("nmap", zone_of[e.asset_id], day, rnd)
        old = PATCHED[e.product][0]
        ev(
            "version_changed",
            run,
            at,
            e.asset_id,
            f"{e.address} {e.protocol}/{e.port}",
            _port_view("open", e.name, e.product, old),
            _port_view("open", e.name, e.product, e.version),
        )
    # 7. software upgraded (osquery inventory: the vulnerable release replaced by the fixed one)
    upgraded = [s for s in soft if s.version == PATCHED[s.name][1] and rnd.random() < 0.25]
    for day, s in _spread(upgraded, rnd):
        run, at = runs.at("osquery", None, day, rnd)
        ev(
            "software_version_changed",
            run,
            at,
            s.asset_id,
            s.name,
            {"versions": [PATCHED[s.name][0]]},
            {"versions": [s.version]},
        )
    events.sort(key=lambda r: (r["at"], r["asset_id"], r["kind"]))
    run_rows = runs.rows(hosts)
    bulk.insert_rows(session, ImportRun.__table__, run_rows)
    bulk.insert_rows(session, ChangeEvent.__table__, events)
    bulk.insert_rows(session, ServiceEndpoint.__table__, closed)
    stamps: tuple[tuple[Any, list[dict[str, Any]], str], ...] = (
        (Asset.__table__, first_seen, "first_seen"),
        (Asset.__table__, last_seen, "last_seen"),
        (ServiceEndpoint.__table__, ep_first, "first_seen"),
    )
    for table, stamp_rows, col in stamps:
        if stamp_rows:
            session.execute(
                update(table).where(table.c.id == bindparam("b_id")).values({col: bindparam("b_at")}),
                stamp_rows,
            )
    written: tuple[tuple[str, list[dict[str, Any]]], ...] = (
        ("import_run", run_rows),
        ("change_event", events),
        ("service_endpoint", closed),
    )
    for name, rows in written:
        audit.record_bulk(
            session,
            "demo_load",
            name,
            count=len(rows),
            digest=_digest(rows),
            detail={"seed": seed, "generator": "ciimap.demo.history"},
        )
    by_kind: dict[str, int] = defaultdict(int)
    for row in events:
        by_kind[row["kind"]] += 1
    return {
        "runs": len(run_rows),
        "events": len(events),
        "by_kind": dict(sorted(by_kind.items())),
        "days": len({row["at"].date() for row in events}),
    }


def _digest(rows: list[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps(r, default=str, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()
