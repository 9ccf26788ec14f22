"""Matching alerts against active indicators as they are loaded: one query per chunk of alerts for
every address, domain, URL and hash the chunk names. Imported by the alert loader, so it imports no
alert module (the retro-hunt over stored alerts is ``intel.service.retro_hunt``).

Values an alert names: its source and destination addresses, and, for JSON lines (Suricata EVE,
Wazuh), the DNS query name, HTTP host and URL, TLS SNI and file hashes (``observables``; the field
list is hand-written from the EVE and Wazuh formats)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from ciimap.core.db import chunks
from ciimap.intel.models import MATCHED_TYPES, Indicator

#: JSON paths (dotted) of domain names, URLs and hashes in EVE and Wazuh lines.
NAME_PATHS = (
    ("dns", "rrname"),
    ("dns", "query", "rrname"),
    ("http", "hostname"),
    ("tls", "sni"),
    ("data", "hostname"),
)
URL_PATHS = (("data", "url"), ("url",))
HASH_PATHS = (
    ("fileinfo", "md5"),
    ("fileinfo", "sha1"),
    ("fileinfo", "sha256"),
    ("syscheck", "md5_after"),
    ("syscheck", "sha1_after"),
    ("syscheck", "sha256_after"),
)


def active(now: dt.datetime | None = None) -> ColumnElement[bool]:
    """Matchable now: a matched type, started and not expired."""
    now = now or dt.datetime.now(dt.UTC)
    return and_(
        Indicator.type.in_(MATCHED_TYPES),
        or_(Indicator.valid_from.is_(None), Indicator.valid_from <= now),
        or_(Indicator.valid_until.is_(None), Indicator.valid_until > now),
    )


def _get(doc: Any, path: tuple[str, ...]) -> Iterable[Any]:
    cur = [doc]
    for key in path:
        nxt = []
        for c in cur:
            v = c.get(key) if isinstance(c, dict) else None
            nxt.extend(v if isinstance(v, list) else [v] if v is not None else [])
        cur = nxt
    return cur


def observables(raw: str) -> set[str]:
    """Domain names, URLs and hashes a JSON alert line names (normalised like indicators)."""
    if not raw.startswith("{"):
        return set()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return set()
    out: set[str] = set()
    for path in NAME_PATHS:
        out.update(str(v).strip().lower().rstrip(".") for v in _get(doc, path) if isinstance(v, str))
    for hpath in HASH_PATHS:
        out.update(str(v).strip().lower() for v in _get(doc, hpath) if isinstance(v, str))
    for upath in URL_PATHS:
        out.update(str(v).strip() for v in _get(doc, upath) if isinstance(v, str) and "://" in v)
    http = doc.get("http") if isinstance(doc, dict) else None
    if isinstance(http, dict) and isinstance(http.get("hostname"), str) and isinstance(http.get("url"), str):
        scheme = "https" if doc.get("dest_port") == 443 else "http"
        out.add(f"{scheme}://{http['hostname']}{http['url']}")
    out.discard("")
    return out


#: Values per query: a chunk of alerts names fewer, so one query per chunk (both databases take it).
BATCH = 30_000


def known(session: Session, values: set[str]) -> set[str]:
    """Which of ``values`` are active indicators."""
    found: set[str] = set()
    for batch in chunks(sorted(values), BATCH):
        found.update(session.scalars(select(Indicator.value).where(Indicator.value.in_(batch), active())))
    return found


def matches(session: Session, alerts: Sequence[tuple[str | None, str | None, str]]) -> list[list[str]]:
    """For each ``(src address, dest address, raw line)`` of a chunk, the active indicator values it
    names (sorted): one query per matched type for whether any such indicator is active (index
    look-ups), then one for the chunk's values. Lines are searched for names, URLs and hashes only
    when such indicators exist."""
    present = {
        t
        for t in MATCHED_TYPES
        if session.scalar(select(Indicator.id).where(Indicator.type == t, active()).limit(1)) is not None
    }
    if not present:  # no intelligence (yet): nothing to ask per alert
        return [[] for _ in alerts]
    named: list[set[str]] = [{a for a in (s, d) if a} if "ip" in present else set() for s, d, _raw in alerts]
    if present - {"ip"}:
        for names, (_s, _d, raw) in zip(named, alerts, strict=True):
            names |= observables(raw)
    hits = known(session, set().union(*named)) if named else set()
    if not hits:
        return [[] for _ in alerts]
    return [sorted(n & hits) for n in named]
