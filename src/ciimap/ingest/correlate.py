"""Correlation: which canonical asset does an observation belong to?

Identity keys are tried strongest first (default: serial, cloud id, MAC, hostname+IP, IP; override
with the ``identity_keys`` import option). Lookups are batched per chunk: one query for all key values
of the chunk against ``asset_identity``. Manual ``link`` decisions win over everything; ``unlink``
decisions forbid a merge into a given asset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.core.db import IN_BATCH
from ciimap.core.errors import Invalid
from ciimap.ingest.models import AssetIdentity, LinkDecision
from ciimap.ingest.records import HostRecord

DEFAULT_KEYS = ("serial", "cloud_id", "mac", "hostname+ip", "ip")
KNOWN_KEYS = (*DEFAULT_KEYS, "hostname", "name")


def keys_of(rec: HostRecord, order: Iterable[str]) -> list[tuple[str, str]]:
    """Identity keys of one observation, strongest first."""
    out: list[tuple[str, str]] = []
    for k in order:
        if k == "serial" and rec.serial:
            out.append((k, rec.serial.strip().upper()))
        elif k == "cloud_id" and rec.cloud_id:
            out.append((k, rec.cloud_id.strip()))
        elif k == "mac":
            out.extend((k, m) for m in rec.macs)
        elif k == "hostname+ip" and rec.hostnames:
            out.extend((k, f"{rec.hostnames[0]}|{ip}") for ip in rec.ips)
        elif k == "ip":
            out.extend((k, ip) for ip in rec.ips)
        elif k == "hostname" and rec.hostnames:
            out.append((k, rec.hostnames[0]))
        elif k == "name" and rec.name:
            out.append((k, rec.name.strip()))
    return out


def check_keys(order: Iterable[str]) -> tuple[str, ...]:
    order = tuple(order)
    bad = [k for k in order if k not in KNOWN_KEYS]
    if bad or not order:
        raise Invalid(f"unknown identity key(s) {', '.join(bad) or '(none)'}; known: {', '.join(KNOWN_KEYS)}")
    return order


@dataclass
class Decisions:
    """Manual link/unlink decisions, loaded once per import (the table is small)."""

    link: dict[tuple[str, str], int] = field(default_factory=dict)
    unlink: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Decisions:
        d = cls()
        for action, key, value, asset_id in session.execute(
            select(LinkDecision.action, LinkDecision.key, LinkDecision.value, LinkDecision.asset_id)
        ):
            if action == "link":
                d.link[(key, value)] = asset_id
            else:
                d.unlink.setdefault((key, value), set()).add(asset_id)
        return d


@dataclass(slots=True)
class Match:
    asset_id: int | None
    how: str  # created, matched:<key>, manual link
    keys: list[tuple[str, str]]
    known: dict[tuple[str, str], int]  # keys already in asset_identity → their asset


def lookup(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """asset_id of every known identity key among ``pairs`` (chunked IN queries)."""
    values = sorted({v for _k, v in pairs})
    out: dict[tuple[str, str], int] = {}
    for i in range(0, len(values), IN_BATCH):
        stmt = select(AssetIdentity.key, AssetIdentity.value, AssetIdentity.asset_id).where(
            AssetIdentity.value.in_(values[i : i + IN_BATCH])
        )
        for k, v, a in session.execute(stmt):
            if (k, v) in pairs:
                out[(k, v)] = a
    return out


def resolve(
    session: Session,
    recs: list[HostRecord],
    order: tuple[str, ...],
    decisions: Decisions,
) -> list[Match]:
    """Match every record of a chunk to an existing asset (or None = create)."""
    rec_keys = [keys_of(r, order) for r in recs]
    known = lookup(session, {p for ks in rec_keys for p in ks})
    out = []
    for ks in rec_keys:
        blocked = {a for p in ks for a in decisions.unlink.get(p, ())}
        match = Match(None, "created", ks, {p: known[p] for p in ks if p in known})
        for p in ks:
            if p in decisions.link:
                match.asset_id, match.how = decisions.link[p], "manual link"
                break
        else:
            for p in ks:
                a = known.get(p)
                if a is not None and a not in blocked:
                    match.asset_id, match.how = a, f"matched:{p[0]}"
                    break
        out.append(match)
    return out
