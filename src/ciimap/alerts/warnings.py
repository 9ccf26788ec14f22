"""Early warning (预警): declarative rules over stored alerts raise warnings.

The rules are a versioned YAML data file (``alerts/warning_rules.yaml``), replaced as a whole by
``$CIIMAP_ALERT_WARNING_RULES`` or ``<data_dir>/alert_warning_rules.yaml``. Rule kinds:

- ``threshold``: at least ``count`` alerts (optionally of one source ``rule_id``/``source`` kind, of at
  least ``min_severity``) on one target asset within ``window`` seconds; scope ``asset:<id>``.
- ``spread``: one attacker address against at least ``assets`` distinct assets within ``window``;
  scope ``attacker:<ip>``.
- ``open_p1``: an alert naming a CVE that is an open (new/confirmed, active) P1 finding on the attacked
  asset; scope ``asset:<id>``.
- ``indicator``: an alert that matched a threat-intelligence indicator (``intel_matches``); scope
  ``indicator:<value>``.
- ``kev``: an alert naming a CVE in the CISA KEV catalogue; scope ``cve:<id>``.

Suppressed and rejected alerts never count. A warning is deduplicated per rule and scope while it is
not closed: later hits update its last alert and count; once closed, the next hit opens a new one.
Evaluation is set-based (one alert query per rule, plus one for findings or KEV), after each alert
import over the run's alerts (and the window before them) and on demand.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import String, Text, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from ciimap.alerts import sigma
from ciimap.alerts.groups import aware
from ciimap.alerts.models import (
    WARNING_LEVEL_ZH,
    WARNING_LEVELS,
    WARNING_STATES,
    Alert,
    AlertWarning,
    WarningLevel,
    WarningRuleKind,
)
from ciimap.config import get_settings
from ciimap.core.audit import current_actor
from ciimap.core.db import chunks, utcnow
from ciimap.core.errors import Conflict, InputFileError, NotFound, check_choice
from ciimap.inventory.models import CRITICALITY, Asset, Criticality, System
from ciimap.vulns.models import Finding, KevEntry

_DEFAULTS = Path(__file__).with_name("warning_rules.yaml")
#: What each level means (docs/alerts.md): shown with every warning.
LEVEL_MEANING = {
    "red": "红色预警: act now — an attack on a weakness the asset has, or on a critical system",
    "orange": "橙色预警: an attack in progress or a known-exploited weakness targeted; respond today",
    "yellow": "黄色预警: suspicious activity (scanning, spreading); investigate",
    "blue": "蓝色预警: noteworthy; watch",
}
OPEN_FINDING = ("new", "confirmed")
#: On-demand evaluation without ``since`` looks this far back from the newest alert.
DEFAULT_LOOKBACK = dt.timedelta(days=1)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    kind: WarningRuleKind
    level: WarningLevel
    title: str = Field(min_length=1, max_length=400)
    count: int = Field(10, ge=1)
    assets: int = Field(5, ge=2)
    window: int = Field(3600, ge=1, description="seconds")
    min_severity: Criticality | None = None
    rule_id: str | None = None
    source: str | None = None


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    rules: list[Rule]

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: list[Rule]) -> list[Rule]:
        ids = [r.id for r in rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate rule ids: {', '.join(dup)}")
        return rules


def rules_path() -> Path:
    env = os.environ.get("CIIMAP_ALERT_WARNING_RULES")
    if env:
        return Path(env)
    own = get_settings().data_dir / "alert_warning_rules.yaml"
    return own if own.is_file() else _DEFAULTS


def load_rules(path: Path | None = None) -> RulesFile:
    """The rules file (the operator's if present, else the shipped one); a bad file is one line."""
    path = path or rules_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputFileError(str(path), f"cannot read the warning rules: {e.strerror}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise InputFileError(str(path), f"not YAML: {getattr(e, 'problem', e)}", position=where) from None
    try:
        return RulesFile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise InputFileError(str(path), f"{loc}: {err['msg']}") from None


@dataclass
class Hit:
    """What a rule found on one scope, accumulated row by row (rows are streamed, never all held)."""

    scope: str
    known_last_id: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    count: int = 0
    new: int = 0
    first: tuple[dt.datetime, int] | None = None
    last: tuple[dt.datetime, int] | None = None
    max_id: int = 0
    assets: set[int] = field(default_factory=set)
    systems: set[int] = field(default_factory=set)
    services: set[int] = field(default_factory=set)

    def add(self, r: Any) -> None:
        t = (_when(r.time), r.id)
        self.count += 1
        if r.id > self.known_last_id:
            self.new += 1
        if self.first is None or t < self.first:
            self.first = t
        if self.last is None or t > self.last:
            self.last = t
        self.max_id = max(self.max_id, r.id)
        self.assets.update(x for x in (r.dest_asset_id, r.src_asset_id) if x is not None)
        self.systems.update(_list(r.system_ids))
        self.services.update(_list(r.service_ids))


class Hits:
    """The rule's hits by scope, knowing the live (not closed) warnings' last alert ids."""

    def __init__(self, live: dict[str, AlertWarning]) -> None:
        self.live = live
        self.by_scope: dict[str, Hit] = {}

    def get(self, scope: str, **details: Any) -> Hit:
        hit = self.by_scope.get(scope)
        if hit is None:
            w = self.live.get(scope)
            hit = self.by_scope[scope] = Hit(scope, known_last_id=w.last_alert_id if w else 0)
        hit.details.update(details)
        return hit


_COLS = (Alert.id, Alert.src_ip, Alert.dest_asset_id, Alert.src_asset_id)
#: JSON columns read as text and decoded only for the rows a rule keeps (most rows only slide
#: through a window): decoding every row's lists was a third of a large import's warning pass.
_JSON_COLS = (Alert.system_ids, Alert.service_ids, Alert.cves, Alert.intel_matches)


@lru_cache(maxsize=4096)
def _decode(text: str) -> tuple[Any, ...]:
    return tuple(orjson.loads(text))


def _list(v: Any) -> Any:
    """A JSON list column as read by :func:`_rows`: text (decoded, memoised), or already a list."""
    if not v:
        return ()
    return _decode(v) if isinstance(v, str) else v


def _when(v: Any) -> dt.datetime:
    """An alert's time as read by :func:`_rows`: SQLite's stored text parsed by ``fromisoformat`` (C)
    rather than SQLAlchemy's per-row regular expression."""
    return aware(dt.datetime.fromisoformat(v) if isinstance(v, str) else v)


def _columns(session: Session) -> list[Any]:
    sqlite = session.get_bind().dialect.name == "sqlite"
    when = type_coerce(Alert.time, String).label("time") if sqlite else Alert.time
    return [*_COLS, when, *(type_coerce(c, Text).label(c.key) for c in _JSON_COLS)]


#: Rows fetched per round trip while streaming a rule's alerts.
YIELD = 5000


def _rows(
    session: Session,
    rule: Rule,
    lo: dt.datetime,
    hi: dt.datetime | None,
    extra: list[Any],
    order: tuple[Any, ...] = (),
) -> Iterator[Any]:
    stmt = select(*_columns(session)).where(
        Alert.reject.is_(None), Alert.suppression_id.is_(None), Alert.time >= lo, *extra
    )
    if hi is not None:
        stmt = stmt.where(Alert.time <= hi)
    if rule.min_severity:
        stmt = stmt.where(Alert.severity.in_(CRITICALITY[CRITICALITY.index(rule.min_severity) :]))
    if rule.rule_id:
        stmt = stmt.where(Alert.rule_id == rule.rule_id)
    if rule.source:
        stmt = stmt.where(Alert.kind == rule.source)
    stmt = stmt.order_by(*order, Alert.time, Alert.id).execution_options(yield_per=YIELD)
    yield from session.execute(stmt)


def _windows(
    hits: Hits,
    rows: Iterator[Any],
    part: str,
    win: dt.timedelta,
    distinct: str | None,
    enough: int,
    prefix: str,
) -> None:
    """Rows ordered by ``part`` then time: every row inside a window of ``win`` (per ``part`` value)
    holding at least ``enough`` rows — or ``enough`` distinct ``distinct`` values — joins the hit of
    that value. Memory: one window at a time."""
    current: Any = object()
    q: deque[tuple[int, dt.datetime, Any]] = deque()
    values: Counter[Any] = Counter()
    seq = marked = 0
    for r in rows:
        key = getattr(r, part)
        if key != current:
            current, seq, marked = key, 0, 0
            q.clear()
            values.clear()
        seq += 1
        t = _when(r.time)
        q.append((seq, t, r))
        if distinct:
            values[getattr(r, distinct)] += 1
        while q[0][1] < t - win:
            _, _t, old = q.popleft()
            if distinct:
                v = getattr(old, distinct)
                values[v] -= 1
                if not values[v]:
                    del values[v]
        if (len(values) if distinct else len(q)) >= enough:
            hit = hits.get(f"{prefix}:{key}")
            for s, _t, x in q:
                if s > marked:
                    hit.add(x)
            marked = seq


def _threshold(hits: Hits, session: Session, rule: Rule, lo: dt.datetime, hi: dt.datetime | None) -> None:
    win = dt.timedelta(seconds=rule.window)
    rows = _rows(session, rule, lo - win, hi, [Alert.dest_asset_id.is_not(None)], (Alert.dest_asset_id,))
    _windows(hits, rows, "dest_asset_id", win, None, rule.count, "asset")
    for h in hits.by_scope.values():
        h.details.update(count=rule.count, window=rule.window)


def _spread(hits: Hits, session: Session, rule: Rule, lo: dt.datetime, hi: dt.datetime | None) -> None:
    win = dt.timedelta(seconds=rule.window)
    extra = [Alert.src_ip.is_not(None), Alert.dest_asset_id.is_not(None)]
    rows = _rows(session, rule, lo - win, hi, extra, (Alert.src_ip,))
    _windows(hits, rows, "src_ip", win, "dest_asset_id", rule.assets, "attacker")
    for h in hits.by_scope.values():
        h.details.update(attacker_ip=h.scope.split(":", 1)[1], assets=len(h.assets))


def _non_empty(col: Any) -> Any:
    return cast(col, String) != "[]"


def _open_p1(hits: Hits, session: Session, rule: Rule, lo: dt.datetime, hi: dt.datetime | None) -> None:
    extra = [Alert.dest_asset_id.is_not(None), _non_empty(Alert.cves)]
    assets = select(Alert.dest_asset_id).where(Alert.time >= lo, *extra)
    if hi is not None:
        assets = assets.where(Alert.time <= hi)
    p1: dict[int, set[str]] = defaultdict(set)
    for asset_id, cves in session.execute(
        select(Finding.asset_id, Finding.cve_ids).where(
            Finding.asset_id.in_(assets.distinct()),
            Finding.active.is_(True),
            Finding.status.in_(OPEN_FINDING),
            Finding.priority == "P1",
        )
    ):
        if asset_id is not None:
            p1[asset_id].update(cves or [])
    if not p1:
        return
    for r in _rows(session, rule, lo, hi, [*extra, Alert.dest_asset_id.in_(sorted(p1))]):
        named = set(_list(r.cves)) & p1.get(r.dest_asset_id, set())
        if named:
            hit = hits.get(f"asset:{r.dest_asset_id}")
            hit.details["cves"] = sorted(set(hit.details.get("cves", [])) | named)
            hit.add(r)


def _kev(hits: Hits, session: Session, rule: Rule, lo: dt.datetime, hi: dt.datetime | None) -> None:
    kev: dict[str, bool] = {}
    for r in _rows(session, rule, lo, hi, [_non_empty(Alert.cves)]):
        unknown = [c for c in _list(r.cves) if c not in kev]
        if unknown:
            found = set(session.scalars(select(KevEntry.cve_id).where(KevEntry.cve_id.in_(unknown))))
            kev.update({c: c in found for c in unknown})
        for cve in sorted({c for c in _list(r.cves) if kev[c]}):
            hits.get(f"cve:{cve}", cve=cve).add(r)


def _indicator(hits: Hits, session: Session, rule: Rule, lo: dt.datetime, hi: dt.datetime | None) -> None:
    for r in _rows(session, rule, lo, hi, [_non_empty(Alert.intel_matches)]):
        for value in sorted(set(_list(r.intel_matches))):
            hits.get(f"indicator:{value}"[:200], indicator=value).add(r)


_KINDS = {
    "threshold": _threshold,
    "spread": _spread,
    "open_p1": _open_p1,
    "kev": _kev,
    "indicator": _indicator,
}


def evaluate(
    session: Session,
    *,
    run_id: int | None = None,
    since: dt.datetime | None = None,
    rules: RulesFile | None = None,
    sigma_rules: list[sigma.CompiledRule] | None = None,
) -> dict[str, int]:
    """Evaluate every rule over the alerts of ``run_id`` (with each rule's window before them), or
    since ``since`` (default: the day before the newest alert); open or update warnings. Without
    ``rules``, the configured warning rules and Sigma rules (``alerts/sigma.py``); with ``rules``, only
    those (and ``sigma_rules`` if given)."""
    configured = rules is None
    rules = rules or load_rules()
    hi: dt.datetime | None = None
    if run_id is not None:
        lo_hi = session.execute(
            select(func.min(Alert.time), func.max(Alert.time)).where(
                Alert.run_id == run_id, Alert.reject.is_(None)
            )
        ).one()
        if lo_hi[0] is None:
            return {"rules": len(rules.rules), "opened": 0, "updated": 0}
        lo, hi = aware(lo_hi[0]), aware(lo_hi[1])
    elif since is not None:
        lo = aware(since)
    else:
        newest = session.scalar(select(func.max(Alert.time)).where(Alert.reject.is_(None)))
        if newest is None:
            return {"rules": len(rules.rules), "opened": 0, "updated": 0}
        lo = aware(newest) - DEFAULT_LOOKBACK
    opened = updated = 0
    for rule in rules.rules:
        live = {
            w.scope: w
            for w in session.scalars(
                select(AlertWarning).where(AlertWarning.rule == rule.id, AlertWarning.state != "closed")
            )
        }
        hits = Hits(live)
        _KINDS[rule.kind](hits, session, rule, lo, hi)
        o, u = _record(session, rule, hits)
        opened += o
        updated += u
    if sigma_rules is None:  # the configured Sigma rules go with the configured warning rules
        sigma_rules = sigma.load_rules() if configured and sigma.enabled() else []
    o, u = _sigma(session, lo, hi, sigma_rules) if sigma_rules else (0, 0)
    session.flush()
    return {"rules": len(rules.rules), "opened": opened + o, "updated": updated + u}


#: Alert ids kept on a Sigma warning as its evidence.
SIGMA_EVIDENCE = 20


def _sigma(
    session: Session, lo: dt.datetime, hi: dt.datetime | None, rules: list[sigma.CompiledRule]
) -> tuple[int, int]:
    """Sigma rules (``alerts/sigma.py``) over the accepted, unsuppressed alerts in [lo, hi]: one streamed
    query for all rules; a warning per rule and target (``asset:<id>``, else ``address:<ip>``)."""
    hits: dict[str, Hits] = {}
    for r in rules:
        live = {
            x.scope: x
            for x in session.scalars(
                select(AlertWarning).where(AlertWarning.rule == r.id, AlertWarning.state != "closed")
            )
        }
        hits[r.id] = Hits(live)
    fields = sigma.needed(rules)
    for row in sigma.stream(session, lo, hi, fields, sigma.prefilter(rules)):
        rec = sigma.record(row, fields)
        for r in rules:
            if not r.match(rec):
                continue
            target = (
                f"asset:{row.dest_asset_id}" if row.dest_asset_id is not None else f"address:{row.dest_ip}"
            )
            hit = hits[r.id].get(
                target, sigma_rule=r.id.split(":", 1)[1], sigma_level=r.sigma_level, file=Path(r.path).name
            )
            hit.add(row)
            ids = hit.details.setdefault("alert_ids", [])
            if len(ids) < SIGMA_EVIDENCE:
                ids.append(row.id)
    opened = updated = 0
    for r in rules:
        spec = Rule.model_construct(id=r.id, kind="sigma", level=r.level, title=r.title)
        o, u = _record(session, spec, hits[r.id])
        opened, updated = opened + o, updated + u
    return opened, updated


def _record(session: Session, rule: Rule, hits: Hits) -> tuple[int, int]:
    opened = updated = 0
    fresh = [
        h
        for h in hits.by_scope.values()
        if h.first is not None and h.last is not None and h.scope not in hits.live
    ]
    # one query per model for every new warning's organisation (not one each, which also flushed every
    # warning added before it on its own)
    orgs = _organizations(
        session, {i for h in fresh for i in h.systems}, {i for h in fresh for i in h.assets}
    )
    for h in hits.by_scope.values():
        if h.first is None or h.last is None:
            continue
        w = hits.live.get(h.scope)
        if w is None:
            session.add(
                AlertWarning(
                    organization_id=_organization_of(orgs, h.systems, h.assets),
                    rule=rule.id,
                    rule_kind=rule.kind,
                    level=rule.level,
                    title=rule.title,
                    scope=h.scope,
                    asset_ids=sorted(h.assets),
                    system_ids=sorted(h.systems),
                    service_ids=sorted(h.services),
                    first_alert_id=h.first[1],
                    last_alert_id=h.max_id,
                    first_alert_at=h.first[0],
                    last_alert_at=h.last[0],
                    count=h.count,
                    details=h.details,
                    state="open",
                )
            )
            opened += 1
            continue
        if not h.new:
            continue
        w.count += h.new
        w.last_alert_id = max(w.last_alert_id, h.max_id)
        w.last_alert_at = max(aware(w.last_alert_at), h.last[0])
        w.asset_ids = sorted(set(w.asset_ids or []) | h.assets)
        w.system_ids = sorted(set(w.system_ids or []) | h.systems)
        w.service_ids = sorted(set(w.service_ids or []) | h.services)
        w.details = {**(w.details or {}), **h.details}
        updated += 1
    return opened, updated


def _organizations(
    session: Session, systems: set[int], assets: set[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """The organisation of each of these systems and assets that has one (two queries in all)."""
    out: list[dict[int, int]] = []
    for model, ids in ((System, systems), (Asset, assets)):
        found: dict[int, int] = {}
        for part in chunks(sorted(ids)):
            rows = session.execute(
                select(model.id, model.organization_id).where(
                    model.id.in_(part), model.organization_id.is_not(None)
                )
            )
            found.update((int(i), int(o)) for i, o in rows if o is not None)
        out.append(found)
    return out[0], out[1]


def _organization_of(
    orgs: tuple[dict[int, int], dict[int, int]], systems: set[int], assets: set[int]
) -> int | None:
    """:func:`_organization` from :func:`_organizations`' maps (same answer, no query)."""
    for found, ids in zip(orgs, (systems, assets), strict=True):
        for i in sorted(ids):
            if i in found:
                return found[i]
    return None


def _organization(session: Session, systems: set[int], assets: set[int]) -> int | None:
    """The operator a new warning concerns: the organisation of its first system that has one, else of
    its first asset that has one."""
    for model, ids in ((System, systems), (Asset, assets)):
        if ids:
            org = session.scalar(
                select(model.organization_id)
                .where(model.id.in_(sorted(ids)), model.organization_id.is_not(None))
                .order_by(model.id)
                .limit(1)
            )
            if org is not None:
                return int(org)
    return None


def to_dict(w: AlertWarning) -> dict[str, Any]:
    return {
        "id": w.id,
        "organization_id": w.organization_id,
        "rule": w.rule,
        "rule_kind": w.rule_kind,
        "level": w.level,
        "level_zh": WARNING_LEVEL_ZH[w.level],
        "title": w.title,
        "scope": w.scope,
        "asset_ids": list(w.asset_ids or []),
        "system_ids": list(w.system_ids or []),
        "service_ids": list(w.service_ids or []),
        "first_alert_id": w.first_alert_id,
        "last_alert_id": w.last_alert_id,
        "first_alert_at": aware(w.first_alert_at),
        "last_alert_at": aware(w.last_alert_at),
        "count": w.count,
        "details": dict(w.details or {}),
        "state": w.state,
        "acknowledged_by": w.acknowledged_by,
        "acknowledged_at": None if w.acknowledged_at is None else aware(w.acknowledged_at),
        "closed_by": w.closed_by,
        "closed_at": None if w.closed_at is None else aware(w.closed_at),
        "created_at": aware(w.created_at),
    }


def list_warnings(
    session: Session,
    *,
    state: str | None = None,
    level: str | None = None,
    rule: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    viewer_org: int | None = None,
) -> list[dict[str, Any]]:
    """Warnings, newest last alert first (a caller bound to an organisation: its warnings only)."""
    check_choice("state", state, WARNING_STATES)
    check_choice("level", level, WARNING_LEVELS)
    stmt = select(AlertWarning)
    if viewer_org is not None:
        stmt = stmt.where(AlertWarning.organization_id == viewer_org)
    if state:
        stmt = stmt.where(AlertWarning.state == state)
    if level:
        stmt = stmt.where(AlertWarning.level == level)
    if rule:
        stmt = stmt.where(AlertWarning.rule == rule)
    if since is not None:
        stmt = stmt.where(AlertWarning.last_alert_at >= aware(since))
    rows = session.scalars(
        stmt.order_by(AlertWarning.last_alert_at.desc(), AlertWarning.id.desc()).limit(limit).offset(offset)
    )
    return [to_dict(w) for w in rows]


def get_warning(session: Session, *, warning_id: int, viewer_org: int | None = None) -> dict[str, Any]:
    return to_dict(get(session, warning_id, viewer_org))


def get(session: Session, warning_id: int, viewer_org: int | None = None) -> AlertWarning:
    """The warning; "does not exist" too when the caller is bound to another organisation."""
    found = session.get(AlertWarning, warning_id)
    if found is None or (viewer_org is not None and found.organization_id != viewer_org):
        raise NotFound(f"warning {warning_id} does not exist")
    return found


def acknowledge(session: Session, *, warning_id: int, viewer_org: int | None = None) -> dict[str, Any]:
    """open → acknowledged (still deduplicated: later hits update it)."""
    w = get(session, warning_id, viewer_org)
    if w.state != "open":
        raise Conflict(f"warning {warning_id} is {w.state}: only an open warning can be acknowledged")
    w.state = "acknowledged"
    w.acknowledged_by = (session.info.get("actor") or current_actor()).name
    w.acknowledged_at = utcnow()
    session.flush()
    return to_dict(w)


def close(session: Session, *, warning_id: int, viewer_org: int | None = None) -> dict[str, Any]:
    """open/acknowledged → closed (the next hit of the rule on this scope opens a new warning)."""
    w = get(session, warning_id, viewer_org)
    if w.state == "closed":
        raise Conflict(f"warning {warning_id} is already closed")
    w.state = "closed"
    w.closed_by = (session.info.get("actor") or current_actor()).name
    w.closed_at = utcnow()
    session.flush()
    return to_dict(w)


def levels() -> list[dict[str, str]]:
    return [{"level": lv, "zh": WARNING_LEVEL_ZH[lv], "meaning": LEVEL_MEANING[lv]} for lv in WARNING_LEVELS]
