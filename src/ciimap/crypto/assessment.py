"""密评 assessments stored per system: test units with their test objects (D / A / K, Ra, Rk, compensation)
or management results, scored by ``scoring.score`` (the same code ``ciimap crypto score`` runs) under a
versioned profile (``profiles.py``). A unit that scores below 1 opens a rectification item in the
compliance domain (item_key ``39786:<layer>/<unit>``); a later 符合 verifies it. docs/crypto.md."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.compliance import rectification
from ciimap.core.errors import InputFileError, Invalid, NotFound
from ciimap.crypto import profiles, scoring
from ciimap.crypto.models import CryptoAssessment, CryptoTestObject, CryptoUnitResult
from ciimap.crypto.schemas import AssessmentIn, UnitIn
from ciimap.inventory.models import Asset, System

#: Prefix of the rectification items this domain raises (GB/T 39786-2021).
ITEM_PREFIX = "39786"


def item_key(layer: str, unit: str) -> str:
    return f"{ITEM_PREFIX}:{layer}/{unit}"


def _get(session: Session, assessment_id: int) -> CryptoAssessment:
    a = session.get(CryptoAssessment, assessment_id)
    if a is None:
        raise NotFound(f"密评 assessment {assessment_id} does not exist")
    return a


def create(session: Session, *, data: AssessmentIn) -> dict[str, Any]:
    """A new assessment of a system (level: the system's MLPS level unless given)."""
    system = session.get(System, data.system_id)
    if system is None:
        raise NotFound(f"system {data.system_id} does not exist")
    level = data.level if data.level is not None else system.mlps_level
    if level not in (1, 2, 3, 4):
        raise Invalid(f"system {system.name} has MLPS level {level}: give the 密评 level (1-4)")
    profiles.get(data.profile)
    a = CryptoAssessment(
        system_id=system.id,
        assessed_on=data.assessed_on,
        assessor=data.assessor,
        level=level,
        profile=data.profile,
        note=data.note,
    )
    session.add(a)
    session.flush()
    return describe(session, assessment_id=a.id)


def _object_doc(o: Any) -> dict[str, Any]:
    return {"d": o.d, "a": o.a, "k": o.k, "ra": o.ra, "rk": o.rk}


def _unit_doc(layer: str, unit: str, result: str | None, objects: list[dict[str, Any]]) -> dict[str, Any]:
    if result is not None:
        return {"layer": layer, "name": unit, "result": result}
    return {"layer": layer, "name": unit, "objects": objects}


def _check(level: int, rule: str, unit_doc: dict[str, Any]) -> dict[str, Any]:
    """Score one unit alone: the scoring code's own checks (unit in the level's table, Ra, Rk, 2021 values)
    as one line naming the unit and the value."""
    try:
        return scoring.score({"level": level, "units": [unit_doc]}, profile=rule)
    except InputFileError as e:
        where = (e.position or "").replace("units[0]", "").lstrip(".")
        at = f" {where}" if where else ""
        raise Invalid(f"{unit_doc['layer']}/{unit_doc['name']}{at}: {e.reason}") from None


def _covering_scores(session: Session, a: CryptoAssessment, rule: str, ids: set[int]) -> dict[int, float]:
    """Own scores (no compensation) of the covering objects, which must belong to this assessment."""
    if not ids:
        return {}
    rows = session.execute(
        select(CryptoTestObject)
        .join(CryptoUnitResult, CryptoUnitResult.id == CryptoTestObject.unit_result_id)
        .where(CryptoTestObject.id.in_(ids), CryptoUnitResult.assessment_id == a.id)
    ).scalars()
    found = {o.id: scoring.object_score(_object_doc(o), profile=rule) for o in rows}
    missing = sorted(ids - set(found))
    if missing:
        raise Invalid(f"covered_by {missing[0]} is not a test object of 密评 assessment {a.id}")
    return found


def set_unit(session: Session, *, assessment_id: int, data: UnitIn) -> dict[str, Any]:
    """Record one unit (replacing what it held): a management result, or test objects with D / A / K.
    Checked as a whole before anything is stored; a score below 1 opens a rectification item."""
    a = _get(session, assessment_id)
    rule = profiles.get(a.profile).rule
    if (data.result is None) == (not data.objects):
        raise Invalid(f"{data.layer}/{data.unit}: give either a result or test objects")
    for o in data.objects:
        if o.asset_id is not None and session.get(Asset, o.asset_id) is None:
            raise NotFound(f"asset {o.asset_id} does not exist")
    covering = _covering_scores(session, a, rule, {o.covered_by for o in data.objects if o.covered_by})
    objs = [
        {**_object_doc(o), **({"compensation": covering[o.covered_by]} if o.covered_by else {})}
        for o in data.objects
    ]
    scored = _check(a.level, rule, _unit_doc(data.layer, data.unit, data.result, objs))
    row = session.scalar(
        select(CryptoUnitResult).where(
            CryptoUnitResult.assessment_id == a.id,
            CryptoUnitResult.layer == data.layer,
            CryptoUnitResult.unit == data.unit,
        )
    )
    if row is None:
        row = CryptoUnitResult(assessment_id=a.id, layer=data.layer, unit=data.unit)
        session.add(row)
    else:
        _drop_objects(session, row.id)
    row.result, row.high_risk, row.note = data.result, data.high_risk, data.note
    session.flush()
    for o in data.objects:
        session.add(
            CryptoTestObject(
                unit_result_id=row.id,
                name=o.name,
                asset_id=o.asset_id,
                d=o.d,
                a=o.a,
                k=o.k,
                ra=o.ra,
                rk=o.rk,
                covered_by_id=o.covered_by,
                note=o.note,
            )
        )
    session.flush()
    unit_score = scored["units"][0]["score"]
    rect = _feed_rectification(session, a, data.layer, data.unit, data.result, unit_score)
    return {"unit_id": row.id, "layer": data.layer, "unit": data.unit, "score": unit_score, **rect}


def _drop_objects(session: Session, unit_id: int) -> None:
    """Delete a unit's objects one by one (audited); objects they covered lose the link."""
    old = session.scalars(select(CryptoTestObject).where(CryptoTestObject.unit_result_id == unit_id)).all()
    ids = [o.id for o in old]
    for other in session.scalars(select(CryptoTestObject).where(CryptoTestObject.covered_by_id.in_(ids))):
        other.covered_by_id = None
    session.flush()
    for o in old:
        session.delete(o)
    session.flush()


def _clause(layer: str, unit: str) -> str | None:
    return scoring.clauses().get((layer, unit))


def _feed_rectification(
    session: Session, a: CryptoAssessment, layer: str, unit: str, result: str | None, score: float | None
) -> dict[str, Any]:
    key = item_key(layer, unit)
    if score is None:
        return {"rectification_id": None, "verified": []}
    if score >= 1:
        note = f"密评 {a.id} ({a.assessed_on.isoformat()}, {a.assessor}): 符合"
        return {
            "rectification_id": None,
            "verified": rectification.verify_external(
                session, system_id=a.system_id, item_key=key, note=note
            ),
        }
    label = result or f"得分 {score}"
    rect, _ = rectification.open_external(
        session,
        system_id=a.system_id,
        item_key=key,
        item_id=_clause(layer, unit),
        title=f"密评 {_clause(layer, unit) or ''} {layer}/{unit}: {label}",
    )
    return {"rectification_id": rect.id, "verified": []}


def _load(session: Session, ids: list[int]) -> tuple[dict[int, list[Any]], dict[int, list[Any]]]:
    """Units and test objects of the assessments as plain rows (no ORM identity map: the score of a
    system with hundreds of objects stays well under 50 ms, ``bench/crypto_score.py``)."""
    units: dict[int, list[Any]] = defaultdict(list)
    objects: dict[int, list[Any]] = defaultdict(list)
    if not ids:
        return units, objects
    ut, ot = CryptoUnitResult.__table__, CryptoTestObject.__table__
    for u in session.execute(select(ut).where(ut.c.assessment_id.in_(ids)).order_by(ut.c.id)):
        units[u.assessment_id].append(SimpleNamespace(**u._mapping))
    q = (
        select(ot)
        .join(ut, ut.c.id == ot.c.unit_result_id)
        .where(ut.c.assessment_id.in_(ids))
        .order_by(ot.c.id)
    )
    for o in session.execute(q):
        objects[o.unit_result_id].append(SimpleNamespace(**o._mapping))
    return units, objects


def _score(a: CryptoAssessment, units: list[Any], objects: dict[int, list[Any]]) -> dict[str, Any]:
    """The profile's score of an assessment: ``scoring.score`` plus the pass mark and high-risk override."""
    prof = profiles.get(a.profile)
    covering = {o.covered_by_id for u in units for o in objects[u.id] if o.covered_by_id}
    own = {
        o.id: scoring.object_score(_object_doc(o), profile=prof.rule)
        for u in units
        for o in objects[u.id]
        if o.id in covering
    }
    docs = []
    for u in units:
        objs = [
            {**_object_doc(o), **({"compensation": own[o.covered_by_id]} if o.covered_by_id in own else {})}
            for o in objects[u.id]
        ]
        if u.result is not None or objs:
            docs.append(_unit_doc(u.layer, u.unit, u.result, objs))
    high = [f"{u.layer}/{u.unit}" for u in units if u.high_risk]
    if not docs:
        res: dict[str, Any] = {"total": None, "layers": dict.fromkeys(scoring.LAYER_WEIGHTS), "units": []}
    else:
        res = scoring.score({"level": a.level, "units": docs}, profile=prof.rule, path=f"密评 {a.id}")
    total = res["total"]
    passed = total is not None and total >= prof.pass_mark and not (prof.high_risk_fails and high)
    return {
        **res,
        "high_risk": high,
        "pass_mark": prof.pass_mark,
        "passed": passed,
        "profile": prof.model_dump(),
    }


def _head(a: CryptoAssessment, system: str) -> dict[str, Any]:
    return {
        "id": a.id,
        "system_id": a.system_id,
        "system": system,
        "assessed_on": a.assessed_on.isoformat(),
        "assessor": a.assessor,
        "level": a.level,
        "profile": a.profile,
        "note": a.note,
    }


def describe(session: Session, *, assessment_id: int) -> dict[str, Any]:
    """An assessment with its units, test objects and score."""
    a = _get(session, assessment_id)
    system = session.get(System, a.system_id)
    units, objects = _load(session, [a.id])
    out = _head(a, system.name if system else "")
    out["score"] = _score(a, units[a.id], objects)
    scores = {(u["layer"], u["name"]): u["score"] for u in out["score"]["units"]}
    out["units"] = [
        {
            "id": u.id,
            "layer": u.layer,
            "unit": u.unit,
            "clause": _clause(u.layer, u.unit),
            "result": u.result,
            "high_risk": u.high_risk,
            "note": u.note,
            "score": scores.get((u.layer, u.unit)),
            "objects": [
                {
                    "id": o.id,
                    "name": o.name,
                    "asset_id": o.asset_id,
                    "d": o.d,
                    "a": o.a,
                    "k": o.k,
                    "ra": o.ra,
                    "rk": o.rk,
                    "covered_by": o.covered_by_id,
                    "note": o.note,
                }
                for o in objects[u.id]
            ],
        }
        for u in units[a.id]
    ]
    return out


def list_assessments(session: Session, *, system_id: int | None = None) -> list[dict[str, Any]]:
    """Assessments, newest first, each with its total and pass/fail (three queries in all)."""
    q = (
        select(CryptoAssessment, System.name)
        .join(System, System.id == CryptoAssessment.system_id)
        .order_by(CryptoAssessment.assessed_on.desc(), CryptoAssessment.id.desc())
    )
    if system_id is not None:
        if session.get(System, system_id) is None:
            raise NotFound(f"system {system_id} does not exist")
        q = q.where(CryptoAssessment.system_id == system_id)
    rows = list(session.execute(q).tuples())
    units, objects = _load(session, [a.id for a, _ in rows])
    out = []
    for a, name in rows:
        s = _score(a, units[a.id], objects)
        out.append(
            {**_head(a, name), "total": s["total"], "passed": s["passed"], "high_risk": s["high_risk"]}
        )
    return out


def delete_unit(session: Session, *, assessment_id: int, unit_id: int) -> None:
    row = session.get(CryptoUnitResult, unit_id)
    if row is None or row.assessment_id != _get(session, assessment_id).id:
        raise NotFound(f"unit {unit_id} of 密评 assessment {assessment_id} does not exist")
    _drop_objects(session, row.id)
    session.delete(row)
    session.flush()


def units_table(level: int) -> list[dict[str, Any]]:
    """The units assessed at a level (for the workspace page and ``crypto assess units``)."""
    if level not in (1, 2, 3, 4):
        raise Invalid(f"level {level} is not 1, 2, 3 or 4")
    clauses = scoring.clauses()
    return [
        {"layer": layer, "unit": unit, "clause": clauses.get((layer, unit)), "weight": w}
        for (layer, unit), w in scoring.unit_weights()[level].items()
    ]
