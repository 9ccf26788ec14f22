"""What the compliance pages show (issue 12 item 9), as plain data the API and the CLI serve too.

- :func:`overview`: every system with its level, filing state, latest conclusion and score (with the
  trend over its closed assessments), its open assessment and its open and overdue rectifications;
  tallies by level, filing state and conclusion. A fixed number of statements whatever the size.
- :func:`system_status`: per system the latest conclusion and the overdue rectifications (the
  topology overlay and the dashboard cards).
- :func:`for_system`: one system's page (grading history, assessments, evidence from the map,
  rectifications), composed from the services that own them.
- :func:`workspace`: an assessment's grid (items × test objects) with the catalog's names and summaries
  and the map's proposal beside the items it speaks to.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ciimap.compliance import assessment, evidence, obligations, rectification
from ciimap.compliance import service as grading
from ciimap.compliance.catalogs import load_catalog
from ciimap.compliance.catalogs import registry as catalog_registry
from ciimap.compliance.models import (
    CONCLUSIONS,
    EXTENSIONS,
    GRADING_STATES,
    HARM_DEGREES,
    HARM_OBJECTS,
    METHODS,
    OBJECT_TYPES,
    OBLIGATION_STATES,
    OPEN_STATES,
    RECT_OPEN,
    RECT_STATUSES,
    RESULT_CODES,
    Assessment,
    Grading,
    Rectification,
)
from ciimap.core.errors import NotFound
from ciimap.inventory import models as inv

__all__ = [
    "CONCLUSION_KEYS",
    "METHODS",
    "RESULT_CODES",
    "cards",
    "for_system",
    "overview",
    "system_status",
    "workspace",
]

#: Tally key of systems without a (closed) assessment / without a grading round.
NONE = "none"
#: Conclusion (优 / 良 / 中 / 差) → an ASCII key for labels and CSS classes (pages, topology overlay).
CONCLUSION_KEYS = {"优": "excellent", "良": "good", "中": "fair", "差": "poor"}


def _rect_counts(session: Session, system_ids: list[int] | None = None) -> dict[int, tuple[int, int]]:
    """system id -> (open, overdue) rectification items."""
    today = grading._today()
    q = (
        select(
            Rectification.system_id,
            func.count(),
            func.sum(
                case((and_(Rectification.due_date.is_not(None), Rectification.due_date < today), 1), else_=0)
            ),
        )
        .where(Rectification.status.in_(RECT_OPEN))
        .group_by(Rectification.system_id)
    )
    if system_ids is not None:
        q = q.where(Rectification.system_id.in_(system_ids))
    return {sid: (int(n), int(late or 0)) for sid, n, late in session.execute(q).tuples()}


def _closed(session: Session, system_ids: list[int] | None = None) -> dict[int, list[dict[str, Any]]]:
    """system id -> its closed assessments, oldest first (the trend; the last one is the latest)."""
    q = (
        select(
            Assessment.system_id,
            Assessment.id,
            Assessment.cycle,
            Assessment.kind,
            Assessment.closed_on,
            Assessment.score,
            Assessment.conclusion,
        )
        .where(Assessment.state == "closed")
        .order_by(Assessment.system_id, Assessment.closed_on, Assessment.id)
    )
    if system_ids is not None:
        q = q.where(Assessment.system_id.in_(system_ids))
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for sid, aid, cycle, kind, closed_on, score, conclusion in session.execute(q).tuples():
        out[sid].append(
            {
                "assessment_id": aid,
                "cycle": cycle,
                "kind": kind,
                "closed_on": closed_on,
                "score": score,
                "conclusion": conclusion,
            }
        )
    return out


def system_status(session: Session, system_ids: list[int]) -> dict[int, dict[str, Any]]:
    """system id -> ``{"conclusion", "score", "overdue", "open"}`` for the systems that have any (two
    statements)."""
    if not system_ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    for sid, rows in _closed(session, system_ids).items():
        out[sid] = {"conclusion": rows[-1]["conclusion"], "score": rows[-1]["score"], "open": 0, "overdue": 0}
    for sid, (n, late) in _rect_counts(session, system_ids).items():
        entry = out.setdefault(sid, {"conclusion": None, "score": None, "open": 0, "overdue": 0})
        entry["open"], entry["overdue"] = n, late
    return out


def cards(session: Session) -> dict[str, Any]:
    """The dashboard's figures: assessed systems by latest conclusion, open and overdue rectifications
    and the systems with overdue ones (two statements)."""
    closed = _closed(session)
    rects = _rect_counts(session)
    by = Counter(rows[-1]["conclusion"] for rows in closed.values())
    return {
        "assessed": len(closed),
        "by_conclusion": {c: by[c] for c in CONCLUSIONS},
        "open_rectifications": sum(n for n, _ in rects.values()),
        "overdue_rectifications": sum(late for _, late in rects.values()),
        "systems_overdue": sum(1 for _, late in rects.values() if late),
    }


def overview(session: Session) -> dict[str, Any]:
    """Every system's compliance state and the tallies of the overview page (five statements)."""
    today = grading._today()
    systems = list(
        session.execute(
            select(inv.System.id, inv.System.name, inv.System.mlps_level, inv.System.is_cii).order_by(
                inv.System.name, inv.System.id
            )
        ).tuples()
    )
    latest: dict[int, Grading] = {}
    for round_ in session.scalars(select(Grading).order_by(Grading.system_id, Grading.round)):
        latest[round_.system_id] = round_  # the last round wins
    closed = _closed(session)
    open_assessments: dict[int, dict[str, Any]] = {}
    for sid, aid, cycle, next_due in session.execute(
        select(Assessment.system_id, Assessment.id, Assessment.cycle, Assessment.next_due)
        .where(Assessment.state == "open")
        .order_by(Assessment.system_id, Assessment.started_on, Assessment.id)
    ).tuples():
        open_assessments[sid] = {"assessment_id": aid, "cycle": cycle, "next_due": next_due}
    rects = _rect_counts(session)
    rows: list[dict[str, Any]] = []
    by_level: Counter[str] = Counter()
    by_filing: Counter[str] = Counter()
    by_conclusion: Counter[str] = Counter()
    for sid, name, mlps_level, is_cii in systems:
        g = latest.get(sid)
        level = g.level if g is not None and g.state != "withdrawn" else mlps_level
        trend = closed.get(sid, [])
        last = trend[-1] if trend else None
        n_open, n_late = rects.get(sid, (0, 0))
        filing_overdue = bool(
            g is not None and g.state in OPEN_STATES and g.filing_due and g.filing_due < today
        )
        rows.append(
            {
                "id": sid,
                "name": name,
                "is_cii": bool(is_cii),
                "level": level,
                "grading": None
                if g is None
                else {
                    "id": g.id,
                    "round": g.round,
                    "state": g.state,
                    "level": g.level,
                    "filing_number": g.filing_number,
                    "filing_date": g.filing_date,
                    "filing_due": g.filing_due,
                    "filing_overdue": filing_overdue,
                },
                "latest": last,
                "trend": [
                    {"cycle": t["cycle"], "score": t["score"], "conclusion": t["conclusion"]} for t in trend
                ],
                "open_assessment": open_assessments.get(sid),
                "rectifications": {"open": n_open, "overdue": n_late},
            }
        )
        by_level[str(level) if level else NONE] += 1
        by_filing[g.state if g is not None else NONE] += 1
        by_conclusion[(last or {}).get("conclusion") or NONE] += 1
    return {
        "today": today,
        "counts": {
            "systems": len(rows),
            "graded": sum(1 for r in rows if r["level"]),
            "filed": by_filing["filed"],
            "filing_overdue": sum(1 for r in rows if r["grading"] and r["grading"]["filing_overdue"]),
            "assessed": sum(1 for r in rows if r["latest"]),
            "open_assessments": len(open_assessments),
            "open_rectifications": sum(n for n, _ in rects.values()),
            "overdue_rectifications": sum(late for _, late in rects.values()),
        },
        "by_level": {k: by_level[k] for k in [*(str(i) for i in range(1, 6)), NONE] if by_level[k]},
        "by_filing": {k: by_filing[k] for k in [*GRADING_STATES, NONE] if by_filing[k]},
        "by_conclusion": {k: by_conclusion[k] for k in [*CONCLUSIONS, NONE]},
        "systems": rows,
    }


def obligation_calendar(session: Session, *, today: dt.date, months: int = 12) -> dict[str, Any]:
    """The obligations page: every dated obligation from the start of last month to ``months`` ahead
    (obligations.calendar), grouped by month, with how many are overdue and due; and the standing
    key-post obligations (staffed by 2 or more people) with their state."""
    start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    end = assessment.add_months(today, months)
    rows = obligations.calendar(session, today=today, start=start, end=end)
    by_month: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_month.setdefault(r["due_on"].strftime("%Y-%m"), []).append(r)
    posts = obligations.obligations(session, today=today, kind="key_post")
    every = obligations.obligations(session, today=today)
    counts = Counter(r["state"] for r in every)
    return {
        "today": today,
        "start": start,
        "end": end,
        "months": [{"month": k, "rows": v} for k, v in by_month.items()],
        "key_posts": posts,
        "counts": {st: counts.get(st, 0) for st in OBLIGATION_STATES},
    }


def form_choices(session: Session, *, system_id: int) -> dict[str, Any]:
    """What the system page's write forms offer: the vocabularies (judgements, object types, extensions,
    rectification states), each grading state's next steps, the catalogs, and the results and risks
    that can still become rectification items."""
    return {
        "objects": HARM_OBJECTS,
        "degrees": HARM_DEGREES,
        "object_types": OBJECT_TYPES,
        "extensions": EXTENSIONS,
        "next": grading.NEXT,
        "catalogs": sorted(catalog_registry.catalogs()),
        "rect_statuses": RECT_STATUSES,
        "candidates": rectification.candidates(session, system_id=system_id),
    }


def for_system(session: Session, *, system_id: int) -> dict[str, Any]:
    """One system's compliance page: grading history, assessments, evidence from the map, rectifications."""
    system = session.get(inv.System, system_id)
    if system is None:
        raise NotFound(f"system {system_id} does not exist")
    gradings = grading.list_gradings(session, system_id=system_id)
    return {
        "system": {
            "id": system.id,
            "name": system.name,
            "is_cii": bool(system.is_cii),
            "mlps_level": system.mlps_level,
        },
        "gradings": sorted(gradings, key=lambda g: g["round"], reverse=True),
        "assessments": assessment.list_assessments(session, system_id=system_id),
        "evidence": evidence.for_system(session, system_id=system_id),
        "rectifications": rectification.list_rectifications(session, system_id=system_id),
        "status": system_status(session, [system_id]).get(system_id),
    }


def _catalog_names(catalog_id: str) -> Any:
    try:
        return load_catalog(catalog_id)
    except NotFound:  # a catalog removed since the assessment started: the stored names stand
        return None


def workspace(session: Session, *, assessment_id: int) -> dict[str, Any]:
    """An assessment's grid: every item with its results per test object, the catalog's English names
    and summaries, and the map's proposal (from :mod:`ciimap.compliance.evidence`) for the items it
    speaks to."""
    head = assessment.describe(session, assessment_id=assessment_id)
    rows = assessment.items(session, assessment_id=assessment_id)
    cat = _catalog_names(head["catalog"])
    proposals: dict[str, dict[str, Any]] = {}
    for p in evidence.for_system(session, system_id=head["system_id"])["proposals"]:
        if p["result"] == "no_evidence":
            continue
        for it in p["items"]:
            proposals.setdefault(
                it["key"],
                {
                    "rule": p["rule"],
                    "result": p["result"],
                    "title_zh": p["title_zh"],
                    "title_en": p["title_en"],
                    "explanation_zh": p["explanation_zh"],
                    "explanation_en": p["explanation_en"],
                    "records": p["records"],
                    "records_total": p["records_total"],
                },
            )
    for row in rows:
        item = None
        if cat is not None:
            try:
                item = cat.item(row["key"])
            except KeyError:
                item = None
        row["category_en"] = item.category.en if item else row["category"]
        row["control_point_en"] = item.control_point.en if item else row["control_point"]
        row["summary_zh"] = item.summary.zh if item else ""
        row["summary_en"] = item.summary.en if item else ""
        row["proposal"] = proposals.get(row["key"])
        row["cells"] = {c["object_id"]: c for c in row["results"]}
    return {"assessment": head, "items": rows}
