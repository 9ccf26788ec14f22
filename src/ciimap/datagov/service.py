"""The data catalogue (数据资源目录), grading (数据分级, GB/T 43697-2024) and what the map shows of it.

- :func:`grade` turns impacts (影响对象 × 影响程度) into a level by the rules in force, highest first
  (就高从严), with the rationale in words; nothing is stored. :func:`parse_impact` reads the
  ``OBJECT:DEGREE`` form of the command line.
- Catalogue: :func:`create_resource` … :func:`list_resources` (filters, paging), holdings (which
  system, asset or business service holds or processes a resource) and flows (with the cross-border flag).
- :func:`grade_resource` adds a grading round (factors, rationale, review date) and copies its level
  onto the resource; earlier rounds stay (history); every change goes through the audit log.
- The map: :func:`system_marks` (systems holding important or core data), :func:`at_risk` (resources
  held by what a what-if hits), :func:`suggestions` (systems whose MLPS S judgement, read through the
  compliance grading service, looks lower than their data implies: a suggestion, never a change).

Registers and exports are in :mod:`ciimap.datagov.registers`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ciimap.compliance import service as mlps
from ciimap.core.audit import current_actor
from ciimap.core.db import IN_BATCH, chunks
from ciimap.core.errors import Conflict, Invalid, NotFound, check_choice
from ciimap.datagov.models import (
    DATA_LEVELS,
    FACTORS,
    HOLDER_TYPES,
    IMPACT_DEGREES,
    IMPACT_OBJECTS,
    DataFlow,
    DataGrading,
    DataHolding,
    DataResource,
    label,
)
from ciimap.datagov.rules import RANK, Categories, Rules, load_categories, load_rules
from ciimap.datagov.schemas import (
    FlowIn,
    GradeResult,
    GradingIn,
    HoldingIn,
    Impact,
    ResourceIn,
    ResourceUpdate,
)
from ciimap.inventory import models as inv

#: Holder type → the map's table (for names and existence checks).
HOLDER_MODELS: dict[str, Any] = {
    "system": inv.System,
    "asset": inv.Asset,
    "business_service": inv.BusinessService,
}
MAX_LIMIT = 500
#: The vocabularies the pages offer (web/ imports no models module).
LEVELS, OBJECTS, DEGREES, FACTOR_NAMES = DATA_LEVELS, IMPACT_OBJECTS, IMPACT_DEGREES, FACTORS


def _today() -> dt.date:
    return dt.date.today()


# --- grading (pure) ------------------------------------------------------------------------------------


def parse_impact(text: str) -> Impact:
    """``OBJECT:DEGREE`` → an :class:`Impact`; an unknown object or degree is named in the error."""
    obj, sep, degree = text.strip().partition(":")
    if not sep:
        raise Invalid(f"impact '{text}': expected OBJECT:DEGREE (e.g. national:serious)")
    if obj not in IMPACT_OBJECTS:
        raise Invalid(f"unknown impact object '{obj}' (known: {', '.join(IMPACT_OBJECTS)})")
    if degree not in IMPACT_DEGREES:
        raise Invalid(f"unknown impact degree '{degree}' (known: {', '.join(IMPACT_DEGREES)})")
    return Impact(object=obj, degree=degree)  # type: ignore[arg-type]


def _rationale(
    impacts: Sequence[Impact], levels: list[str], deciding: int, rules: Rules, factors: dict[str, str]
) -> tuple[str, str]:
    parts_zh = [
        f"对{label(i.object)}造成{label(i.degree, degree=True)}（{label(lv)}）"
        for i, lv in zip(impacts, levels, strict=True)
    ]
    parts_en = [
        f"{label(i.degree, 'en', degree=True)} to {label(i.object, 'en')} ({label(lv, 'en')})"
        for i, lv in zip(impacts, levels, strict=True)
    ]
    d, lv = impacts[deciding], levels[deciding]
    zh = (
        f"该数据一旦遭到篡改、破坏、泄露或者非法获取、非法利用，可能{'；'.join(parts_zh)}。"
        f"按 {rules.file.id} 就高从严，以“{label(d.object)} × {label(d.degree, degree=True)}”定为{label(lv)}。"
    )
    en = (
        f"If this data were tampered with, destroyed, leaked or illegally obtained or used, it could cause "
        f"{'; '.join(parts_en)}. Under {rules.file.id} the highest level applies: "
        f"{label(d.degree, 'en', degree=True)} to {label(d.object, 'en')} makes it {label(lv, 'en')}."
    )
    said = [(k, v.strip()) for k, v in factors.items() if v and v.strip()]
    if said:
        zh += " 定级要素：" + "；".join(f"{label(k)}：{v}" for k, v in said) + "。"
        en += " Factors: " + "; ".join(f"{label(k, 'en')}: {v}" for k, v in said) + "."
    return zh, en


def grade(impacts: Sequence[Impact], *, factors: dict[str, str] | None = None) -> GradeResult:
    """The level of a set of impacts by the rules in force (就高从严), with the rationale; nothing stored."""
    if not impacts:
        raise Invalid("name at least one impact (OBJECT:DEGREE)")
    rules = load_rules()
    levels = [rules.level(i.object, i.degree) for i in impacts]
    deciding = min(range(len(levels)), key=lambda k: RANK[levels[k]])
    zh, en = _rationale(impacts, levels, deciding, rules, factors or {})
    lv = levels[deciding]
    return GradeResult(
        level=label(lv),
        level_code=lv,  # type: ignore[arg-type]
        deciding=impacts[deciding],
        impacts=list(impacts),
        rules=rules.label,
        rationale_zh=zh,
        rationale_en=en,
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- catalogue -------------------------------------------------------------------------------------------


def _check_category(cats: Categories, code: str | None) -> None:
    if code is not None and code not in cats.by_code:
        raise Invalid(f"unknown data category '{code}' (see `ciimap data categories`)")


def _check_owner(session: Session, owner_id: int | None) -> None:
    if owner_id is not None and session.get(inv.Contact, owner_id) is None:
        raise Invalid(f"owner: contact {owner_id} does not exist")


def _get(session: Session, resource_id: int) -> DataResource:
    r = session.get(DataResource, resource_id)
    if r is None:
        raise NotFound(f"data resource {resource_id} does not exist")
    return r


def _flush_unique(session: Session, code: str | None) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"a data resource with code '{code}' already exists") from None


def create_resource(session: Session, *, data: ResourceIn) -> DataResource:
    _check_category(load_categories(), data.category)
    _check_owner(session, data.owner_id)
    if data.contains_sensitive_pi and not data.contains_pi:
        raise Invalid("sensitive personal information is personal information: set contains_pi too")
    r = DataResource(**data.model_dump())
    session.add(r)
    _flush_unique(session, data.code)
    return r


def update_resource(session: Session, *, resource_id: int, changes: ResourceUpdate) -> DataResource:
    r = _get(session, resource_id)
    given = changes.model_dump(exclude_unset=True)
    if "name" in given and given["name"] is None:
        raise Invalid("name: cannot be empty")
    if "category" in given:
        _check_category(load_categories(), given["category"])
    if "owner_id" in given:
        _check_owner(session, given["owner_id"])
    pi = given.get("contains_pi", r.contains_pi)
    spi = given.get("contains_sensitive_pi", r.contains_sensitive_pi)
    if spi and not pi:
        raise Invalid("sensitive personal information is personal information: set contains_pi too")
    for k, v in given.items():
        setattr(r, k, v)
    _flush_unique(session, r.code)
    return r


def delete_resource(session: Session, *, resource_id: int) -> None:
    session.delete(_get(session, resource_id))
    session.flush()


def _holder_names(session: Session, pairs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    by_type: dict[str, set[int]] = defaultdict(set)
    for t, i in pairs:
        by_type[t].add(i)
    out: dict[tuple[str, int], str] = {}
    for t, ids in by_type.items():
        model = HOLDER_MODELS[t]
        for part in chunks(sorted(ids)):
            for i, name in session.execute(select(model.id, model.name).where(model.id.in_(part))):
                out[(t, i)] = name
    return out


def add_holding(session: Session, *, resource_id: int, data: HoldingIn) -> DataHolding:
    _get(session, resource_id)
    if session.get(HOLDER_MODELS[data.holder_type], data.holder_id) is None:
        raise Invalid(f"{data.holder_type} {data.holder_id} does not exist")
    existing = session.scalar(
        select(DataHolding).where(
            DataHolding.resource_id == resource_id,
            DataHolding.holder_type == data.holder_type,
            DataHolding.holder_id == data.holder_id,
        )
    )
    if existing is not None:
        existing.role = data.role
        session.flush()
        return existing
    h = DataHolding(resource_id=resource_id, **data.model_dump())
    session.add(h)
    session.flush()
    return h


def remove_holding(session: Session, *, resource_id: int, holding_id: int) -> None:
    h = session.get(DataHolding, holding_id)
    if h is None or h.resource_id != resource_id:
        raise NotFound(f"holding {holding_id} of data resource {resource_id} does not exist")
    session.delete(h)
    session.flush()


def add_flow(session: Session, *, resource_id: int, data: FlowIn) -> DataFlow:
    _get(session, resource_id)
    for sid in (data.src_system_id, data.dst_system_id):
        if sid is not None and session.get(inv.System, sid) is None:
            raise Invalid(f"system {sid} does not exist")
    if data.dst_system_id is None and data.recipient is None:
        raise Invalid("a flow goes to a system (dst_system_id) or an outside recipient (recipient)")
    if data.country and data.country != "CN" and not data.cross_border:
        raise Invalid(f"a flow to country '{data.country}' leaves China: set cross_border")
    f = DataFlow(resource_id=resource_id, **data.model_dump())
    session.add(f)
    session.flush()
    return f


def remove_flow(session: Session, *, flow_id: int) -> None:
    f = session.get(DataFlow, flow_id)
    if f is None:
        raise NotFound(f"data flow {flow_id} does not exist")
    session.delete(f)
    session.flush()


def _flow_rows(
    session: Session, where: ColumnElement[bool] | None, limit: int | None = None
) -> list[dict[str, Any]]:
    stmt = (
        select(DataFlow, DataResource.name)
        .join(DataResource, DataResource.id == DataFlow.resource_id)
        .order_by(DataFlow.id)
    )
    if where is not None:
        stmt = stmt.where(where)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    names = _holder_names(
        session,
        [("system", s) for f, _n in rows for s in (f.src_system_id, f.dst_system_id) if s is not None],
    )
    return [
        {
            "id": f.id,
            "resource_id": f.resource_id,
            "resource": name,
            "src_system_id": f.src_system_id,
            "src_system": names.get(("system", f.src_system_id)) if f.src_system_id else None,
            "dst_system_id": f.dst_system_id,
            "dst_system": names.get(("system", f.dst_system_id)) if f.dst_system_id else None,
            "recipient": f.recipient,
            "cross_border": f.cross_border,
            "country": f.country,
            "purpose": f.purpose,
        }
        for f, name in rows
    ]


def list_flows(
    session: Session, *, cross_border: bool | None = None, system_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Data flows (oldest first); ``cross_border=True``: only those leaving China."""
    conds: list[ColumnElement[bool]] = []
    if cross_border is not None:
        conds.append(DataFlow.cross_border.is_(cross_border))
    if system_id is not None:
        conds.append(or_(DataFlow.src_system_id == system_id, DataFlow.dst_system_id == system_id))
    return _flow_rows(session, and_(*conds) if conds else None, limit=min(max(limit, 1), MAX_LIMIT * 20))


def threshold_flags(rules: Rules, r: Any) -> list[dict[str, str]]:
    """The thresholds a resource (or a row with the same attributes) reaches, as {code, zh, en}."""
    out = []
    for t in rules.file.thresholds:
        value = getattr(r, t.field)
        if value is None or value < t.min:
            continue
        if t.requires and not getattr(r, t.requires):
            continue
        out.append({"code": t.code, "zh": t.zh, "en": t.en})
    return out


def _threshold_sql(rules: Rules) -> ColumnElement[bool] | None:
    conds = []
    for t in rules.file.thresholds:
        c = getattr(DataResource, t.field) >= t.min
        if t.requires:
            c = and_(c, getattr(DataResource, t.requires).is_(True))
        conds.append(c)
    return or_(*conds) if conds else None


def _filters(
    *,
    level: str | None,
    category: str | None,
    pi: bool | None,
    sensitive_pi: bool | None,
    q: str | None,
    review_overdue: bool,
    flagged: bool,
    system_id: int | None,
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if level == "ungraded":
        conds.append(DataResource.level.is_(None))
    elif level is not None:
        check_choice("level", level, (*DATA_LEVELS, "ungraded"))
        conds.append(DataResource.level == level)
    if category is not None:
        conds.append(or_(DataResource.category == category, DataResource.category.like(f"{category}.%")))
    if pi is not None:
        conds.append(DataResource.contains_pi.is_(pi))
    if sensitive_pi is not None:
        conds.append(DataResource.contains_sensitive_pi.is_(sensitive_pi))
    if q:
        pat = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(or_(DataResource.name.like(pat, escape="\\"), DataResource.code.like(pat, escape="\\")))
    if review_overdue:
        conds.append(DataResource.review_due < _today())
    if flagged:
        sql = _threshold_sql(load_rules())
        if sql is not None:
            conds.append(sql)
    if system_id is not None:
        held = select(DataHolding.resource_id).where(
            DataHolding.holder_type == "system", DataHolding.holder_id == system_id
        )
        conds.append(DataResource.id.in_(held))
    return conds


def list_resources(
    session: Session,
    *,
    level: str | None = None,
    category: str | None = None,
    pi: bool | None = None,
    sensitive_pi: bool | None = None,
    q: str | None = None,
    review_overdue: bool = False,
    flagged: bool = False,
    system_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of the catalogue, newest first, with the total: a fixed number of statements."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT} (got {limit})")
    if offset < 0:
        raise Invalid(f"offset must not be negative (got {offset})")
    conds = _filters(
        level=level,
        category=category,
        pi=pi,
        sensitive_pi=sensitive_pi,
        q=q,
        review_overdue=review_overdue,
        flagged=flagged,
        system_id=system_id,
    )
    total = session.scalar(select(func.count()).select_from(DataResource).where(*conds)) or 0
    rows = session.execute(
        select(DataResource, inv.Contact.name)
        .outerjoin(inv.Contact, inv.Contact.id == DataResource.owner_id)
        .where(*conds)
        .order_by(DataResource.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    rules, cats = load_rules(), load_categories().by_code
    items = []
    for r, owner in rows:
        cat = cats.get(r.category or "")
        items.append(
            {
                "id": r.id,
                "code": r.code,
                "name": r.name,
                "category": r.category,
                "category_name": cat.zh if cat else None,
                "contains_pi": r.contains_pi,
                "contains_sensitive_pi": r.contains_sensitive_pi,
                "records": r.records,
                "people": r.people,
                "owner": owner,
                "level": r.level,
                "review_due": r.review_due,
                "flags": [f["code"] for f in threshold_flags(rules, r)],
            }
        )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def describe(session: Session, *, resource_id: int) -> dict[str, Any]:
    """One resource with its holdings, flows, grading history (newest first) and threshold flags."""
    r = _get(session, resource_id)
    holdings = list(
        session.scalars(
            select(DataHolding).where(DataHolding.resource_id == resource_id).order_by(DataHolding.id)
        )
    )
    names = _holder_names(session, [(h.holder_type, h.holder_id) for h in holdings])
    gradings = list(
        session.scalars(
            select(DataGrading)
            .where(DataGrading.resource_id == resource_id)
            .order_by(DataGrading.round.desc())
        )
    )
    owner = session.get(inv.Contact, r.owner_id) if r.owner_id else None
    cat = load_categories().by_code.get(r.category or "")
    return {
        "resource": r,
        "category_name": cat.zh if cat else None,
        "owner": owner.name if owner else None,
        "flags": threshold_flags(load_rules(), r),
        "holdings": [
            {
                "id": h.id,
                "holder_type": h.holder_type,
                "holder_id": h.holder_id,
                "holder": names.get((h.holder_type, h.holder_id)),
                "role": h.role,
            }
            for h in holdings
        ],
        "flows": _flow_rows(session, DataFlow.resource_id == resource_id),
        "gradings": gradings,
    }


def resolve(session: Session, ref: str | int) -> DataResource:
    """A resource by id or code (the CLI's argument)."""
    text = str(ref).strip()
    if text.isdigit():
        r = session.get(DataResource, int(text))
        if r is not None:
            return r
    r = session.scalar(select(DataResource).where(DataResource.code == text))
    if r is None:
        raise NotFound(f"data resource '{text}' does not exist (give an id or a code)")
    return r


# --- grading rounds --------------------------------------------------------------------------------------


def grade_resource(session: Session, *, resource_id: int, data: GradingIn) -> DataGrading:
    """A new grading round: the level by :func:`grade`, the factors and rationale, the review date.
    The resource takes the new level; earlier rounds stay as its re-grading history."""
    r = _get(session, resource_id)
    unknown = sorted(set(data.factors) - set(FACTORS))
    if unknown:
        raise Invalid(f"unknown grading factor '{unknown[0]}' (known: {', '.join(FACTORS)})")
    on = data.graded_on or _today()
    if on > _today():
        raise Invalid(f"graded_on {on} is in the future")
    result = grade(data.impacts, factors={str(k): v for k, v in data.factors.items()})
    rules = load_rules()
    due = data.review_due
    if due is None and result.level_code in rules.file.review_months:
        due = add_months(on, rules.file.review_months[result.level_code])
    if due is not None and due <= on:
        raise Invalid(f"review_due {due} must be after graded_on {on}")
    last = session.scalar(select(func.max(DataGrading.round)).where(DataGrading.resource_id == resource_id))
    g = DataGrading(
        resource_id=resource_id,
        round=(last or 0) + 1,
        impacts=[i.model_dump() for i in data.impacts],
        level=result.level_code,
        deciding=result.deciding.model_dump(),
        factors={k: v for k, v in data.factors.items() if v},
        mapping=result.rules,
        rationale_zh=result.rationale_zh,
        rationale_en=result.rationale_en,
        notes=data.notes,
        graded_on=on,
        review_due=due,
        graded_by=str((session.info.get("actor") or current_actor()).name),
    )
    session.add(g)
    r.level, r.graded_on, r.review_due = result.level_code, on, due
    session.flush()
    return g


def list_gradings(session: Session, *, resource_id: int) -> list[DataGrading]:
    _get(session, resource_id)
    return list(
        session.scalars(
            select(DataGrading)
            .where(DataGrading.resource_id == resource_id)
            .order_by(DataGrading.round.desc())
        )
    )


def categories() -> list[dict[str, Any]]:
    return [c.model_dump() for c in load_categories().file.categories]


def rules_info() -> dict[str, Any]:
    r = load_rules()
    f = r.file
    return {
        "id": f.id,
        "version": f.version,
        "title": f.title,
        "source": r.source,
        "levels": {o: dict(row) for o, row in f.levels.items()},
        "review_months": dict(f.review_months),
        "mlps_s_min": dict(f.mlps_s_min),
        "thresholds": [t.model_dump() for t in f.thresholds],
    }


# --- the map -------------------------------------------------------------------------------------------


def _system_levels(
    session: Session, system_ids: list[int] | None, levels: tuple[str, ...]
) -> dict[int, dict[str, int]]:
    """system id → {level: number of resources of ``levels``} held by the system itself or by its
    assets. The level filter runs inside both halves of the union (on the ``level`` index), so only
    the graded resources that matter are joined and de-duplicated."""
    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    direct = (
        select(DataHolding.holder_id.label("system_id"), DataHolding.resource_id, DataResource.level)
        .join(DataResource, DataResource.id == DataHolding.resource_id)
        .where(DataHolding.holder_type == "system", DataResource.level.in_(levels))
    )
    via_asset = (
        select(inv.Asset.system_id.label("system_id"), DataHolding.resource_id, DataResource.level)
        .join(DataResource, DataResource.id == DataHolding.resource_id)
        .join(inv.Asset, and_(DataHolding.holder_type == "asset", inv.Asset.id == DataHolding.holder_id))
        .where(inv.Asset.system_id.is_not(None), DataResource.level.in_(levels))
    )
    if system_ids is not None:
        direct = direct.where(DataHolding.holder_id.in_(system_ids))
        via_asset = via_asset.where(inv.Asset.system_id.in_(system_ids))
    pairs = direct.union(via_asset).subquery()
    stmt = select(pairs.c.system_id, pairs.c.level, func.count()).group_by(pairs.c.system_id, pairs.c.level)
    for sid, lv, n in session.execute(stmt):
        out[int(sid)][lv] = int(n)
    return out


def system_marks(
    session: Session, *, system_ids: list[int] | None = None, min_level: str = "important"
) -> list[dict[str, Any]]:
    """Systems holding data of ``min_level`` or higher (directly or through their assets), highest first."""
    check_choice("min_level", min_level, DATA_LEVELS)
    if system_ids is not None and len(system_ids) > 10_000:
        system_ids = None  # the whole map: cheaper than a huge IN list
    counts = _system_levels(session, system_ids, DATA_LEVELS[: RANK[min_level] + 1])
    names = _holder_names(session, [("system", s) for s in counts])
    out: list[dict[str, Any]] = []
    for sid, by in counts.items():
        top = min(by, key=lambda lv: RANK[lv])
        if RANK[top] > RANK[min_level]:
            continue
        out.append(
            {
                "system_id": sid,
                "system": names.get(("system", sid), str(sid)),
                "level": top,
                "core": by.get("core", 0),
                "important": by.get("important", 0),
                "resources": sum(by.values()),
            }
        )
    out.sort(key=lambda m: (RANK[m["level"]], -m["core"], -m["important"], m["system"]))
    return out


def at_risk(
    session: Session,
    *,
    system_ids: Sequence[int] = (),
    asset_ids: Sequence[int] = (),
    service_ids: Sequence[int] = (),
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int]:
    """Resources held or processed by any of the named systems, assets or business services (what a
    what-if hits), highest level first: (up to ``limit`` rows, the total)."""
    wanted: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for t, ids in (("system", system_ids), ("asset", asset_ids), ("business_service", service_ids)):
        wanted_ids = set(ids)
        if len(wanted_ids) > IN_BATCH * 5:  # a large what-if: read the type's holdings once and filter here
            stmt = select(DataHolding.resource_id, DataHolding.holder_id).where(DataHolding.holder_type == t)
            for rid, hid in session.execute(stmt):
                if hid in wanted_ids:
                    wanted[rid].add((t, hid))
            continue
        for part in chunks(sorted(wanted_ids)):
            stmt = select(DataHolding.resource_id, DataHolding.holder_id).where(
                DataHolding.holder_type == t, DataHolding.holder_id.in_(part)
            )
            for rid, hid in session.execute(stmt):
                wanted[rid].add((t, hid))
    if not wanted:
        return [], 0
    rows: list[tuple[int, str, str | None]] = []
    for part in chunks(sorted(wanted)):
        stmt2 = select(DataResource.id, DataResource.name, DataResource.level).where(
            DataResource.id.in_(part)
        )
        rows += [(int(i), str(n), lv) for i, n, lv in session.execute(stmt2)]
    rows.sort(key=lambda r: (RANK.get(r[2] or "", len(RANK)), r[1]))
    top = rows[:limit]
    names = _holder_names(session, [p for rid, _n, _l in top for p in wanted[rid]])
    items = [
        {
            "id": rid,
            "name": name,
            "level": lv,
            "holders": sorted(names.get(p, f"{p[0]}:{p[1]}") for p in wanted[rid]),
        }
        for rid, name, lv in top
    ]
    return items, len(rows)


def _s_levels(session: Session, system_ids: set[int]) -> dict[int, tuple[int | None, str]]:
    """Each system's MLPS S level: its latest grading round not withdrawn (filed or on its way; read
    through the compliance service, as its own platform rule does), else the S level recorded on the
    system, else None."""
    out: dict[int, tuple[int | None, str]] = {}
    for part in chunks(sorted(system_ids)):
        for sid, s in session.execute(
            select(inv.System.id, inv.System.mlps_s_level).where(inv.System.id.in_(part))
        ):
            out[sid] = (s, "system") if s is not None else (None, "none")
    for g in mlps.list_gradings(session):  # by system and round: the last round not withdrawn wins
        if g["system_id"] in system_ids and g["state"] != "withdrawn":
            out[g["system_id"]] = (g["s_level"], f"grading round {g['round']} ({g['state']})")
    return out


def suggestions(session: Session) -> list[dict[str, Any]]:
    """Systems whose MLPS S judgement looks lower than the data they hold implies (rules'
    ``mlps_s_min``). Suggestions to review the grading only: nothing is changed."""
    implied = load_rules().file.mlps_s_min
    if not implied:
        return []
    lowest = max(implied, key=lambda lv: RANK[lv])
    marks = [m for m in system_marks(session, min_level=lowest) if m["level"] in implied]
    if not marks:
        return []
    s_levels = _s_levels(session, {m["system_id"] for m in marks})
    held = _held_names(session, {m["system_id"] for m in marks})
    out = []
    for m in marks:
        need = implied[m["level"]]
        s, source = s_levels.get(m["system_id"], (None, "none"))
        if s is not None and s >= need:
            continue
        lv_zh, lv_en = label(m["level"]), label(m["level"], "en")
        names = held.get(m["system_id"], [])[:5]
        if s is None:
            zh = f"该系统持有{lv_zh}，但尚无业务信息安全（S）定级；建议按 S{need} 或更高复核定级。"
            en = f"The system holds {lv_en} but has no business-information (S) judgement; review its grading at S{need} or higher."
        else:
            zh = f"该系统持有{lv_zh}，业务信息安全等级为 S{s}，低于建议的 S{need}；建议复核定级（仅为建议，不会自动修改）。"
            en = f"The system holds {lv_en} but its business-information level is S{s}, below the suggested S{need}; review its grading (a suggestion: nothing is changed)."
        out.append(
            {
                "system_id": m["system_id"],
                "system": m["system"],
                "s_level": s,
                "s_source": source,
                "data_level": m["level"],
                "suggested_min_s": need,
                "resources": names,
                "zh": zh,
                "en": en,
            }
        )
    return out


def _held_names(session: Session, system_ids: set[int]) -> dict[int, list[str]]:
    """system id → names of the graded important/core resources it holds directly, highest first."""
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for part in chunks(sorted(system_ids)):
        stmt = (
            select(DataHolding.holder_id, DataResource.name, DataResource.level)
            .join(DataResource, DataResource.id == DataHolding.resource_id)
            .where(
                DataHolding.holder_type == "system",
                DataHolding.holder_id.in_(part),
                DataResource.level.in_(DATA_LEVELS[:2]),
            )
        )
        for sid, name, lv in session.execute(stmt):
            out[sid].append((RANK[str(lv)], name))
    return {sid: [n for _r, n in sorted(v)] for sid, v in out.items()}


def cards(session: Session, *, systems: bool = True) -> dict[str, Any]:
    """The dashboard's figures: resources by level, reviews overdue and (``systems``) the systems
    holding important/core data (the catalogue page leaves those to the registers page)."""
    by_level = dict(
        session.execute(select(DataResource.level, func.count()).group_by(DataResource.level)).all()
    )
    marks = system_marks(session) if systems else []
    overdue = session.scalar(
        select(func.count()).select_from(DataResource).where(DataResource.review_due < _today())
    )
    return {
        "resources": sum(by_level.values()),
        "by_level": {lv: int(by_level.get(lv, 0)) for lv in DATA_LEVELS},
        "ungraded": int(by_level.get(None, 0)),
        "systems_marked": len(marks),
        "systems_core": sum(1 for m in marks if m["level"] == "core"),
        "review_overdue": int(overdue or 0),
    }


def check_holder_type(value: str) -> None:
    check_choice("holder_type", value, HOLDER_TYPES)
