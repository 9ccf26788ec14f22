"""Alert groups: what the console shows instead of raw lines.

An alert joins the group with the same key — (source kind, rule id), the target (its destination
asset, else its destination address) and the attacker (source address) — whose span it falls within
the window of: ``first_seen - window <= time <= last_seen + window`` (rolling: each alert extends the
span, so a steady trickle stays one group; a pause longer than the window starts a new group). The
window is ``$CIIMAP_ALERT_GROUP_WINDOW`` seconds (default 3600).

Groups are maintained set-based while alerts load: per chunk of the loader, one query reads the ids
the chunk was given, one reads the groups the chunk may join; then one executemany updates the joined
groups and one inserts the new ones (and one marks suppressed alerts, if any). No query per alert.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select, true, tuple_, union, update
from sqlalchemy.orm import Session

from ciimap.alerts.mapping import service_assets, system_assets
from ciimap.alerts.models import Alert, AlertGroup, AlertSuppression
from ciimap.core import bulk
from ciimap.core.db import chunks, utcnow
from ciimap.core.errors import Invalid, check_choice
from ciimap.inventory.models import CRITICALITY

#: Alert ids kept on a group (the first ones; drill down with ``alerts list`` for the rest).
SAMPLES = 5
DEFAULT_WINDOW = 3600


def window() -> dt.timedelta:
    raw = os.environ.get("CIIMAP_ALERT_GROUP_WINDOW", "")
    if not raw:
        return dt.timedelta(seconds=DEFAULT_WINDOW)
    try:
        seconds = int(raw)
    except ValueError:
        seconds = -1
    if seconds <= 0:
        raise Invalid(f"CIIMAP_ALERT_GROUP_WINDOW: a positive number of seconds, not {raw!r}")
    return dt.timedelta(seconds=seconds)


def aware(t: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC times."""
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@dataclass
class Matcher:
    """The suppressions active at load time, indexed by rule id (few rules, many alerts)."""

    by_rule: dict[str, list[AlertSuppression]]

    @classmethod
    def load(cls, session: Session) -> Matcher:
        now = utcnow()
        rows = session.scalars(
            select(AlertSuppression).where(
                or_(AlertSuppression.expires_at.is_(None), AlertSuppression.expires_at > now)
            )
        )
        by_rule: dict[str, list[AlertSuppression]] = defaultdict(list)
        for s in rows:
            by_rule[s.rule_id].append(s)
        return cls(by_rule=dict(by_rule))

    def match(
        self, kind: str, rule_id: str | None, asset_id: int | None, address: str | None, attacker: str | None
    ) -> int | None:
        """The id of the first suppression covering this alert's rule on this target, else None."""
        if not rule_id:
            return None
        for s in self.by_rule.get(rule_id, ()):
            if s.kind is not None and s.kind != kind:
                continue
            if s.asset_id is not None:
                if s.asset_id != asset_id:
                    continue
            elif s.address != address:
                continue
            if s.attacker_ip is not None and s.attacker_ip != attacker:
                continue
            return s.id
        return None


Key = tuple[str, str, int | None, str, str]


#: Groups of the run kept in memory (its own writes are not read back); past this, the half with the
#: oldest last_seen is dropped (they are in the database and read again if an alert falls in them).
CACHE = 20_000
#: Columns of a group as held in memory and written (``id`` first).
GROUP_COLUMNS = (
    "id",
    "kind",
    "rule_id",
    "rule_name",
    "target_asset_id",
    "target_ip",
    "attacker_ip",
    "zone_id",
    "first_seen",
    "last_seen",
    "count",
    "open_count",
    "severity",
    "priority",
    "sample_ids",
    "system_ids",
    "service_ids",
)
_CHANGING: tuple[str, ...] = (
    "first_seen",
    "last_seen",
    "count",
    "open_count",
    "severity",
    "priority",
    "sample_ids",
    "system_ids",
    "service_ids",
)


@dataclass
class GroupState:
    """Per import run: the active suppressions, the window and the groups this run has read or
    written, by id (current state; bounded by :data:`CACHE`)."""

    run_id: int
    matcher: Matcher
    window: dt.timedelta
    counts: dict[str, int] = field(default_factory=lambda: {"suppressed": 0, "groups_new": 0})
    cache: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def start(cls, session: Session, run_id: int, win: dt.timedelta | None = None) -> GroupState:
        return cls(run_id=run_id, matcher=Matcher.load(session), window=win or window())

    def trim(self) -> None:
        if len(self.cache) > CACHE:
            newest = sorted(self.cache.values(), key=lambda g: g["last_seen"], reverse=True)[: CACHE // 2]
            self.cache = {g["id"]: g for g in newest}


def _higher(a: str, b: str) -> str:
    return a if CRITICALITY.index(a) >= CRITICALITY.index(b) else b


def _key(g: dict[str, Any]) -> Key:
    return (g["kind"], g["rule_id"], g["target_asset_id"], g["target_ip"], g["attacker_ip"])


def _candidates(
    session: Session, state: GroupState, kinds: set[str], rules: set[str], lo: dt.datetime, hi: dt.datetime
) -> dict[Key, list[dict[str, Any]]]:
    """The groups the chunk's alerts may join: one query for the ids of those whose span reaches the
    chunk's (ints only); the ones not held in memory are read in full (those of other runs, or evicted)."""
    stmt = select(AlertGroup.id, AlertGroup.rule_id).where(
        AlertGroup.kind.in_(kinds), AlertGroup.last_seen >= lo, AlertGroup.first_seen <= hi
    )
    if len(rules) <= 500:
        stmt = stmt.where(AlertGroup.rule_id.in_(rules))
    ids = [i for i, rule in session.execute(stmt) if rule in rules]
    missing = [i for i in ids if i not in state.cache]
    cols = [AlertGroup.__table__.c[c] for c in GROUP_COLUMNS]
    for part in chunks(missing):
        # Columns, not entities: nothing piles up in the session's identity map over a long run.
        for row in session.execute(select(*cols).where(AlertGroup.id.in_(part))):
            g = dict(zip(GROUP_COLUMNS, row, strict=True))
            g["first_seen"], g["last_seen"] = aware(g["first_seen"]), aware(g["last_seen"])
            for c in ("sample_ids", "system_ids", "service_ids"):
                g[c] = list(g[c] or [])
            state.cache[g["id"]] = g
    out: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for i in ids:
        g = state.cache[i]
        out[_key(g)].append(g)
    return out


def after_chunk(
    session: Session,
    state: GroupState,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> None:
    """Flag suppressed alerts and fold the chunk's accepted alerts into groups (rows just inserted, in
    ``columns`` order, ``id`` among them)."""
    if not rows:
        return
    c = {name: i for i, name in enumerate(columns)}
    i_id = c["id"]
    i_time, i_kind, i_rule, i_name = c["time"], c["kind"], c["rule_id"], c["rule_name"]
    i_sev, i_prio, i_src, i_dst = c["severity"], c["priority"], c["src_ip"], c["dest_ip"]
    i_asset, i_zone, i_rej = c["dest_asset_id"], c["dest_zone_id"], c["reject"]
    i_sys, i_svc = c["system_ids"], c["service_ids"]
    suppressed: list[dict[str, Any]] = []
    items: list[tuple[dt.datetime, int, Key, tuple[Any, ...], bool]] = []
    match = state.matcher.match if state.matcher.by_rule else None
    for r in rows:
        if r[i_rej] is not None:
            continue
        alert_id = r[i_id]
        target_asset = r[i_asset]
        target_ip = r[i_dst] or ""
        attacker = r[i_src] or ""
        sid = match(r[i_kind], r[i_rule], target_asset, r[i_dst], r[i_src]) if match else None
        if sid is not None:
            suppressed.append({"id": alert_id, "suppression_id": sid})
        key: Key = (r[i_kind], r[i_rule] or "", target_asset, "" if target_asset else target_ip, attacker)
        items.append((aware(r[i_time]), alert_id, key, r, sid is not None))
    if suppressed:
        state.counts["suppressed"] += len(suppressed)
        session.execute(update(Alert), suppressed)
    if not items:
        return
    items.sort(key=lambda x: (x[0], x[1]))
    win = state.window
    lo, hi = items[0][0] - win, items[-1][0] + win
    existing = _candidates(session, state, {k[2][0] for k in items}, {k[2][1] for k in items}, lo, hi)
    created: list[dict[str, Any]] = []
    changed: dict[int, dict[str, Any]] = {}
    for t, alert_id, key, r, is_suppressed in items:
        found: dict[str, Any] | None = None
        for g in existing.get(key, ()):
            if g["first_seen"] - win <= t <= g["last_seen"] + win and (
                found is None or g["last_seen"] > found["last_seen"]
            ):
                found = g
        if found is None:
            found = {
                "id": None,
                "kind": key[0],
                "rule_id": key[1],
                "rule_name": r[i_name],
                "target_asset_id": key[2],
                "target_ip": key[3],
                "attacker_ip": key[4],
                "zone_id": r[i_zone],
                "first_seen": t,
                "last_seen": t,
                "count": 0,
                "open_count": 0,
                "severity": r[i_sev],
                "priority": r[i_prio],
                "sample_ids": [],
                "system_ids": [],
                "service_ids": [],
            }
            existing.setdefault(key, []).append(found)
            created.append(found)
        elif found["id"] is not None:
            changed[found["id"]] = found
        if t < found["first_seen"]:
            found["first_seen"] = t
        if t > found["last_seen"]:
            found["last_seen"] = t
        found["count"] += 1
        if not is_suppressed:
            found["open_count"] += 1
        if r[i_sev] != found["severity"]:
            found["severity"] = _higher(found["severity"], r[i_sev])
        if r[i_prio] != found["priority"]:
            found["priority"] = _higher(found["priority"], r[i_prio])
        if len(found["sample_ids"]) < SAMPLES:
            found["sample_ids"].append(alert_id)
        for col, i in (("system_ids", i_sys), ("service_ids", i_svc)):
            if r[i] and not set(r[i]) <= set(found[col]):
                found[col] = sorted(set(found[col]) | set(r[i]))
    table = AlertGroup.__table__
    if changed:
        bulk.update_tuples(
            session, table, _CHANGING, [(*(g[k] for k in _CHANGING), i) for i, g in changed.items()]
        )
    if created:
        for g, new_id in zip(created, bulk.allocate_ids(session, table, len(created)), strict=True):
            g["id"] = new_id
        state.counts["groups_new"] += len(created)
        bulk.insert_tuples(
            session, table, GROUP_COLUMNS, [tuple(g[k] for k in GROUP_COLUMNS) for g in created]
        )
    for g in created:
        state.cache[g["id"]] = g
    state.trim()


def keyset(time_col: Any, id_col: Any, before_time: dt.datetime | None, before_id: int | None) -> Any | None:
    """Keyset pagination, newest first: rows strictly older than ``(before_time, before_id)`` — the
    last row of the previous page. One row-value comparison, which walks the ``(time, id)`` index
    (no OFFSET scan over the rows skipped). Both or neither."""
    if before_time is None and before_id is None:
        return None
    if before_time is None or before_id is None:
        raise Invalid("before_time and before_id go together (the last row of the previous page)")
    t = (before_time if before_time.tzinfo else before_time.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    # the plain ``time <= t`` lets PostgreSQL prune the day partitions after t (row values do not)
    return and_(time_col <= t, tuple_(time_col, id_col) < tuple_(t, before_id))


def list_groups(
    session: Session,
    *,
    severity: str | None = None,
    system_id: int | None = None,
    service_id: int | None = None,
    zone_id: int | None = None,
    since: dt.datetime | None = None,
    open_only: bool = False,
    before_time: dt.datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Groups, newest ``last_seen`` first. System and service filters use the current map (like
    ``alerts list``); ``severity`` is the group's highest; ``open_only`` hides fully suppressed groups;
    ``before_time`` + ``before_id``: the page after the group with that last_seen and id (keyset)."""
    check_choice("severity", severity, CRITICALITY)
    conds: list[Any] = []
    if severity:
        conds.append(AlertGroup.severity == severity)
    if zone_id is not None:
        conds.append(AlertGroup.zone_id == zone_id)
    if since is not None:
        conds.append(AlertGroup.last_seen >= aware(since))
    if open_only:
        conds.append(AlertGroup.open_count > 0)
    page = keyset(AlertGroup.last_seen, AlertGroup.id, before_time, before_id)
    if page is not None:
        conds.append(page)
    targets: list[Any] = []
    if system_id is not None:
        targets.append(union(*system_assets([system_id])))
    if service_id is not None:
        targets.append(service_assets(service_id))
    newest = (AlertGroup.last_seen.desc(), AlertGroup.id.desc())
    stmt = select(AlertGroup).where(*conds)
    if targets and session.get_bind().dialect.name == "postgresql":
        # Per target asset, its newest groups (an index range each: (target_asset_id, last_seen, id)),
        # then the newest of those: the work follows the system's assets, not the table (a plain
        # IN (assets) was planned as a scan of every group, linear in the table).
        sub = targets[0].subquery()
        asset = next(iter(sub.c))
        for other in targets[1:]:
            sub = select(asset).where(asset.in_(other)).subquery()
            asset = next(iter(sub.c))
        top = (
            select(AlertGroup.id)
            .where(AlertGroup.target_asset_id == asset, *conds)
            .order_by(*newest)
            .limit(limit + offset)
            .lateral("top")
        )
        stmt = stmt.where(AlertGroup.id.in_(select(top.c.id).select_from(sub).join(top, true())))
    else:
        for t in targets:
            stmt = stmt.where(AlertGroup.target_asset_id.in_(t))
    rows = session.scalars(stmt.order_by(*newest).limit(limit).offset(offset))
    return [
        {
            "id": g.id,
            "kind": g.kind,
            "rule_id": g.rule_id or None,
            "rule_name": g.rule_name,
            "target_asset_id": g.target_asset_id,
            "target_ip": g.target_ip or None,
            "attacker_ip": g.attacker_ip or None,
            "zone_id": g.zone_id,
            "first_seen": aware(g.first_seen),
            "last_seen": aware(g.last_seen),
            "count": g.count,
            "open_count": g.open_count,
            "suppressed_count": g.count - g.open_count,
            "severity": g.severity,
            "priority": g.priority,
            "sample_ids": list(g.sample_ids or []),
            "system_ids": list(g.system_ids or []),
            "service_ids": list(g.service_ids or []),
        }
        for g in rows
    ]
