"""Grading (定级) and filing (备案): judgements to levels, the workflow, deadlines and warnings.

Levels come from a grading matrix held as data (:func:`load_matrix`: the built-in GB/T 22240-2020
table, or a file named by ``CIIMAP_GRADING_MATRIX``). The guidance rules (a CII system at level 3 or
higher; a platform graded no lower than the systems it carries) are warnings, never refusals.
docs/compliance-grading.md describes the rules; other domains use this module as the entry point
(``from ciimap.compliance import service as grading``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ciimap.compliance.models import (
    CARRIER_EDGE_KINDS,
    GRADING_STATES,
    LABELS,
    LEVEL_ZH,
    OPEN_STATES,
    Grading,
)
from ciimap.compliance.schemas import AdvanceIn, GradeResult, GradingIn, GradingUpdate, Judgement, MatrixFile
from ciimap.config import get_settings
from ciimap.core.audit import current_actor
from ciimap.core.db import utcnow
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Conflict, InputFileError, Invalid, NotFound, check_choice
from ciimap.core.safeio import content_guard, decode_utf8
from ciimap.inventory import models as inv

BUILTIN_MATRIX = Path(__file__).with_name("matrices") / "gbt22240-2020.json"
#: Guidance: CII systems are expected at this level or higher [verify]: a warning below it.
CII_MIN_LEVEL = 3
#: Level 1 objects are graded but not filed (2007 measures: filing from level 2 up).
FILING_FROM_LEVEL = 2
#: Where each step may go next; ``filed`` and ``withdrawn`` are final.
NEXT: dict[str, tuple[str, ...]] = {
    "draft": ("review", "withdrawn"),
    "review": ("approved", "filed", "withdrawn"),
    "approved": ("filed", "withdrawn"),
}
_RULE = re.compile(r"(\d{1,3})_(working|calendar)_days")


def _today() -> dt.date:
    return dt.date.today()


# --- the matrix ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matrix:
    id: str
    version: str
    title: str | None
    note: str | None
    levels: dict[str, dict[str, int]]
    #: "built-in" or the path of the replacing file.
    source: str

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"

    def level(self, obj: str, degree: str) -> int:
        return self.levels[obj][degree]


_matrices: dict[tuple[str, int, int], Matrix] = {}


def load_matrix(path: Path | None = None) -> Matrix:
    """The grading matrix in force: ``path``, else ``CIIMAP_GRADING_MATRIX``, else the built-in one.

    A bad file is one :class:`InputFileError` naming the file and the place (line and column, byte
    offset or field); it is read again when it changes.
    """
    chosen = path if path is not None else get_settings().grading_matrix
    file = BUILTIN_MATRIX if chosen is None else Path(chosen)
    name = str(file)
    try:
        stat = file.stat()
        key = (name, stat.st_mtime_ns, stat.st_size)
        if key in _matrices:
            return _matrices[key]
        raw = file.read_bytes()
    except OSError as e:
        raise InputFileError(name, f"cannot read the grading matrix ({e.strerror or e})") from None
    if not raw.strip():
        raise InputFileError(name, "empty file: a grading matrix is a JSON object")
    text = decode_utf8(name, raw)
    try:
        with content_guard(name):
            data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFileError(
            name, f"not JSON ({e.msg})", position=f"line {e.lineno} column {e.colno}"
        ) from None
    try:
        parsed = MatrixFile.model_validate(data)
    except ValidationError as e:
        raise InputFileError(name, format_validation_error(e)) from None
    matrix = Matrix(
        id=parsed.id,
        version=parsed.version,
        title=parsed.title,
        note=parsed.note,
        levels={str(o): {str(d): lv for d, lv in row.items()} for o, row in parsed.levels.items()},
        source="built-in" if chosen is None else name,
    )
    _matrices[key] = matrix
    return matrix


def matrix_info() -> dict[str, Any]:
    m = load_matrix()
    return {
        "id": m.id,
        "version": m.version,
        "title": m.title,
        "note": m.note,
        "levels": m.levels,
        "source": m.source,
    }


# --- judgements to levels --------------------------------------------------------------------------------


def _rationale(
    j: Judgement, s: int, a: int, level: int, matrix: Matrix, object_type: str | None
) -> tuple[str, str]:
    what_zh = LABELS[object_type][0] if object_type else "定级对象"
    what_en = LABELS[object_type][1] if object_type else "protected object"

    def zh(part: str, obj: str, deg: str, lv: int) -> str:
        return f"{LABELS[obj][0]}，侵害程度为{LABELS[deg][0]}，{part}保护等级为{LEVEL_ZH[lv]}"

    def en(obj: str, deg: str, lv: int) -> str:
        return f"the object harmed is {LABELS[obj][1]}, with {LABELS[deg][1]}: level {lv}"

    text_zh = (
        f"业务信息安全：该{what_zh}的业务信息遭到破坏时，所侵害的客体是"
        f"{zh('业务信息安全', j.s_object, j.s_degree, s)}。"
        f"系统服务安全：该{what_zh}的系统服务遭到破坏时，所侵害的客体是"
        f"{zh('系统服务安全', j.a_object, j.a_degree, a)}。"
        f"按 {matrix.id}，安全保护等级取两者中的较高者，定为{LEVEL_ZH[level]}（S{s}A{a}）。"
    )
    text_en = (
        f"Business information security (S): if the business information of this {what_en} is damaged, "
        f"{en(j.s_object, j.s_degree, s)}. System service security (A): if its service is disrupted, "
        f"{en(j.a_object, j.a_degree, a)}. Under {matrix.id} the security protection level is the higher "
        f"of the two: level {level} (S{s}A{a})."
    )
    return text_zh, text_en


def grade(judgement: Judgement, *, object_type: str | None = None) -> GradeResult:
    """S level, A level and level = max(S, A) by the matrix in force, with the rationale (nothing stored)."""
    matrix = load_matrix()
    s = matrix.level(judgement.s_object, judgement.s_degree)
    a = matrix.level(judgement.a_object, judgement.a_degree)
    level = max(s, a)
    text_zh, text_en = _rationale(judgement, s, a, level, matrix, object_type)
    return GradeResult(
        **judgement.model_dump(),
        s_level=s,
        a_level=a,
        level=level,
        matrix=matrix.label,
        rationale_zh=text_zh,
        rationale_en=text_en,
    )


# --- deadlines ------------------------------------------------------------------------------------------


def due_rule(text: str | None = None) -> tuple[int, str]:
    """The filing-deadline rule (``CIIMAP_GRADING_FILING_DUE``) as (days, "working" | "calendar")."""
    value = (text if text is not None else get_settings().grading_filing_due).strip()
    m = _RULE.fullmatch(value)
    if m is None or int(m.group(1)) < 1:
        raise Invalid(
            f"CIIMAP_GRADING_FILING_DUE must be '<N>_working_days' or '<N>_calendar_days' "
            f"(e.g. 10_working_days, 30_calendar_days), got {value!r}"
        )
    return int(m.group(1)), m.group(2)


def rule_text(days: int, kind: str) -> str:
    return f"{days}_{kind}_days"


def filing_due(graded_on: dt.date, level: int, rule: tuple[int, str]) -> dt.date | None:
    """The filing deadline: ``days`` calendar days, or ``days`` working days (Monday to Friday; Chinese
    public holidays and their make-up working days are not known), after ``graded_on``. None for
    level 1, which is not filed."""
    if level < FILING_FROM_LEVEL:
        return None
    days, kind = rule
    if kind == "calendar":
        return graded_on + dt.timedelta(days=days)
    # a weekend grading day counts from the Friday before it: the first working day after it is day 1
    due = np.busday_offset(np.datetime64(graded_on, "D"), days, roll="backward")
    return dt.date.fromisoformat(str(due))


# --- reading ----------------------------------------------------------------------------------------------


def resolve_system(session: Session, ref: str | int) -> inv.System:
    """A system by id, exact name or code: what people type on the CLI."""
    text = str(ref).strip()
    if text.isdigit() and len(text) < 10:
        system = session.get(inv.System, int(text))
        if system is not None:
            return system
    for column in (inv.System.name, inv.System.code):
        found = list(session.scalars(select(inv.System).where(column == text).limit(2)))
        if len(found) == 1:
            return found[0]
        if found:
            raise Invalid(f"system code '{text}' is ambiguous: give the id or the name")
    raise NotFound(f"system '{text}' does not exist")


def _get(session: Session, grading_id: int, *, lock: bool = False) -> Grading:
    g = session.get(Grading, grading_id, with_for_update=lock)
    if g is None:
        raise NotFound(f"grading {grading_id} does not exist")
    return g


def _carried(session: Session) -> list[tuple[int, int]]:
    """(system, platform) pairs: the system runs on or is hosted by the platform system directly, or by
    an asset that belongs to the platform (``asset.system_id``). Self-references are left out."""
    e, a = inv.Edge, inv.Asset
    direct = select(e.src_id, e.dst_id).where(
        e.src_type == "system",
        e.dst_type == "system",
        e.kind.in_(CARRIER_EDGE_KINDS),
        e.src_id != e.dst_id,
    )
    via_asset = (
        select(e.src_id, a.system_id)
        .join(a, a.id == e.dst_id)
        .where(
            e.src_type == "system",
            e.dst_type == "asset",
            e.kind.in_(CARRIER_EDGE_KINDS),
            a.system_id.is_not(None),
            a.system_id != e.src_id,
        )
    )
    pairs = {(int(s), int(p)) for s, p in session.execute(direct.union(via_asset))}
    return sorted(pairs)


def _levels(session: Session) -> dict[int, tuple[int | None, str]]:
    """Each system's level as the map sees it for the platform rule: its latest round not withdrawn
    (filed or on its way), else the ``mlps_level`` recorded on the system; with its name."""
    out: dict[int, tuple[int | None, str]] = {
        sid: (lvl, name)
        for sid, lvl, name in session.execute(select(inv.System.id, inv.System.mlps_level, inv.System.name))
    }
    rows = session.execute(
        select(Grading.system_id, Grading.level)
        .where(Grading.state != "withdrawn")
        .order_by(Grading.system_id, Grading.round)
    )
    for sid, lvl in rows:  # the last round of each system wins
        out[sid] = (lvl, out.get(sid, (None, ""))[1])
    return out


def _warning(code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "zh": zh, "en": en, "system_id": None, "system": None, "level": None, **extra}


def _warnings(session: Session, rows: list[tuple[Grading, str, bool]]) -> dict[int, list[dict[str, Any]]]:
    """Guidance rules each grading does not meet (a constant number of queries for any number of rows)."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not rows:
        return out
    pairs = _carried(session)
    platforms: dict[int, list[int]] = defaultdict(list)
    hosted: dict[int, list[int]] = defaultdict(list)
    for sys_id, platform in pairs:
        platforms[sys_id].append(platform)
        hosted[platform].append(sys_id)
    levels = _levels(session) if pairs else {}
    for g, _name, is_cii in rows:
        w = out[g.id]
        if g.state == "withdrawn":
            continue
        if is_cii and g.level < CII_MIN_LEVEL:
            w.append(
                _warning(
                    "cii_below_level_3",
                    f"关键信息基础设施定为{LEVEL_ZH[g.level]}：关基系统原则上不低于第三级",
                    f"a critical information infrastructure system graded at level {g.level}: "
                    f"CII systems are expected at level {CII_MIN_LEVEL} or higher",
                    level=g.level,
                )
            )
        for p in platforms.get(g.system_id, []):
            lp, pname = levels.get(p, (None, ""))
            if lp is not None and lp < g.level:
                w.append(
                    _warning(
                        "platform_below_system",
                        f"所在平台“{pname}”为{LEVEL_ZH.get(lp, str(lp))}，低于本系统的{LEVEL_ZH[g.level]}："
                        "承载平台的等级原则上不低于其承载的系统",
                        f"runs on platform '{pname}' at level {lp}, lower than this grading's level "
                        f"{g.level}: a supporting platform is expected at least at the level of what it carries",
                        system_id=p,
                        system=pname,
                        level=lp,
                    )
                )
        for h in hosted.get(g.system_id, []):
            lh, hname = levels.get(h, (None, ""))
            if lh is not None and lh > g.level:
                w.append(
                    _warning(
                        "carries_higher_system",
                        f"承载的系统“{hname}”为{LEVEL_ZH.get(lh, str(lh))}，高于本平台的{LEVEL_ZH[g.level]}："
                        "承载平台的等级原则上不低于其承载的系统",
                        f"carries system '{hname}' at level {lh}, higher than this grading's level {g.level}: "
                        "a supporting platform is expected at least at the level of what it carries",
                        system_id=h,
                        system=hname,
                        level=lh,
                    )
                )
    return out


def _current_rounds(session: Session, system_ids: set[int]) -> set[tuple[int, int]]:
    """(system, round) of each system's latest filed round: the level the system carries now."""
    if not system_ids:
        return set()
    q = (
        select(Grading.system_id, func.max(Grading.round))
        .where(Grading.state == "filed")
        .group_by(Grading.system_id)
    )
    return {(s, r) for s, r in session.execute(q) if s in system_ids}


def _out(
    g: Grading,
    name: str,
    is_cii: bool,
    current: set[tuple[int, int]],
    warnings: list[dict[str, Any]],
    today: dt.date,
) -> dict[str, Any]:
    days_left = status = None
    if g.state in OPEN_STATES and g.filing_due is not None:
        days_left = (g.filing_due - today).days
        status = "overdue" if days_left < 0 else "upcoming"
    return {
        "id": g.id,
        "system_id": g.system_id,
        "system": name,
        "is_cii": is_cii,
        "round": g.round,
        "state": g.state,
        "current": (g.system_id, g.round) in current,
        "object_type": g.object_type,
        "extensions": list(g.extensions or []),
        "s_object": g.s_object,
        "s_degree": g.s_degree,
        "a_object": g.a_object,
        "a_degree": g.a_degree,
        "s_level": g.s_level,
        "a_level": g.a_level,
        "level": g.level,
        "matrix": g.matrix,
        "rationale_zh": g.rationale_zh,
        "rationale_en": g.rationale_en,
        "notes": g.notes,
        "graded_on": g.graded_on,
        "filing_due": g.filing_due,
        "due_rule": g.due_rule,
        "due_status": status,
        "days_left": days_left,
        "steps": list(g.steps or []),
        "authority": g.authority,
        "approval_skipped": g.approval_skipped,
        "filing_number": g.filing_number,
        "filing_date": g.filing_date,
        "police_unit": g.police_unit,
        "warnings": warnings,
        "created_at": g.created_at,
        "updated_at": g.updated_at,
    }


def _describe_rows(session: Session, rows: list[tuple[Grading, str, bool]]) -> list[dict[str, Any]]:
    today = _today()
    warnings = _warnings(session, rows)
    current = _current_rounds(session, {g.system_id for g, _n, _c in rows})
    return [_out(g, name, bool(cii), current, warnings.get(g.id, []), today) for g, name, cii in rows]


def _select() -> Any:
    return select(Grading, inv.System.name, inv.System.is_cii).join(
        inv.System, inv.System.id == Grading.system_id
    )


def describe(session: Session, *, grading_id: int) -> dict[str, Any]:
    row = session.execute(_select().where(Grading.id == grading_id)).first()
    if row is None:
        raise NotFound(f"grading {grading_id} does not exist")
    return _describe_rows(session, [tuple(row)])[0]  # type: ignore[arg-type]


def list_gradings(
    session: Session, *, system_id: int | None = None, state: str | None = None, current_only: bool = False
) -> list[dict[str, Any]]:
    """Every grading round (history included), by system name and round; with warnings and deadlines."""
    check_choice("state", state, GRADING_STATES)
    stmt = _select().order_by(inv.System.name, Grading.round)
    if system_id is not None:
        if session.get(inv.System, system_id) is None:
            raise NotFound(f"system {system_id} does not exist")
        stmt = stmt.where(Grading.system_id == system_id)
    if state is not None:
        stmt = stmt.where(Grading.state == state)
    out = _describe_rows(session, [tuple(r) for r in session.execute(stmt)])  # type: ignore[misc]
    return [r for r in out if r["current"]] if current_only else out


def due(session: Session, *, within_days: int = 30) -> list[dict[str, Any]]:
    """Open rounds whose filing is overdue or due within ``within_days`` days, soonest first."""
    if not 0 <= within_days <= 3650:
        raise Invalid(f"within must be between 0 and 3650 days (got {within_days})")
    horizon = _today() + dt.timedelta(days=within_days)
    stmt = (
        _select()
        .where(Grading.state.in_(OPEN_STATES), Grading.filing_due.is_not(None), Grading.filing_due <= horizon)
        .order_by(Grading.filing_due, inv.System.name)
    )
    return _describe_rows(session, [tuple(r) for r in session.execute(stmt)])  # type: ignore[misc]


# --- writing ----------------------------------------------------------------------------------------------


def _actor(session: Session) -> str:
    actor = session.info.get("actor") or current_actor()
    return str(actor.name)


def _step(session: Session, state: str, on: dt.date, note: str | None) -> dict[str, Any]:
    return {
        "state": state,
        "on": on.isoformat(),
        "by": _actor(session),
        "at": utcnow().isoformat(),
        "note": note,
    }


def _not_future(name: str, day: dt.date) -> None:
    if day > _today():
        raise Invalid(f"{name} {day.isoformat()} is in the future")


def _apply(g: Grading, judgement: Judgement, object_type: str, rule: tuple[int, str]) -> None:
    result = grade(judgement, object_type=object_type)
    g.s_object, g.s_degree = judgement.s_object, judgement.s_degree
    g.a_object, g.a_degree = judgement.a_object, judgement.a_degree
    g.s_level, g.a_level, g.level = result.s_level, result.a_level, result.level
    g.matrix = result.matrix
    g.rationale_zh, g.rationale_en = result.rationale_zh, result.rationale_en
    g.object_type = object_type
    g.filing_due = filing_due(g.graded_on, g.level, rule)
    g.due_rule = rule_text(*rule)


def create_grading(session: Session, *, data: GradingIn) -> Grading:
    """Start a grading round (初步定级) for a system. A system has at most one open round: a re-grading
    starts once the previous round is filed or withdrawn, and the previous rounds stay as history."""
    # the system row is locked (PostgreSQL) so that two gradings of one system are started one after the other
    system = session.get(inv.System, data.system_id, with_for_update=True)
    if system is None:
        raise NotFound(f"system {data.system_id} does not exist")
    graded_on = data.graded_on or _today()
    _not_future("graded_on", graded_on)
    rule = due_rule()
    open_round = session.scalar(
        select(Grading).where(Grading.system_id == system.id, Grading.state.in_(OPEN_STATES)).limit(1)
    )
    if open_round is not None:
        raise Conflict(
            f"system '{system.name}' already has grading {open_round.id} (round {open_round.round}) in state "
            f"{open_round.state}: advance it to filed or withdraw it before re-grading"
        )
    last = session.scalar(select(func.max(Grading.round)).where(Grading.system_id == system.id)) or 0
    g = Grading(
        system_id=system.id,
        round=last + 1,
        state="draft",
        extensions=list(data.extensions),
        notes=data.notes,
        graded_on=graded_on,
        approval_skipped=False,
        steps=[_step(session, "draft", graded_on, None)],
    )
    _apply(g, data, data.object_type, rule)
    session.add(g)
    try:
        session.flush()
    except IntegrityError:  # the same round started at the same time elsewhere (unique system, round)
        raise Conflict(
            f"system '{system.name}': another grading round was started at the same time"
        ) from None
    return g


def update_grading(session: Session, *, grading_id: int, changes: GradingUpdate) -> Grading:
    """Change a draft (judgements, object type, extensions, notes, grading date); levels, rationale and
    deadline are recomputed. Once in review the round is fixed: re-grade instead."""
    g = _get(session, grading_id, lock=True)
    if g.state != "draft":
        raise Conflict(
            f"grading {g.id} is {g.state}: only a draft can be changed (start a re-grading instead)"
        )
    given = changes.model_dump(exclude_unset=True)
    if any(v is None for k, v in given.items() if k != "notes"):
        raise Invalid(
            f"only notes can be cleared (null given for {', '.join(k for k, v in given.items() if v is None)})"
        )
    merged = Judgement(
        s_object=given.get("s_object", g.s_object),
        s_degree=given.get("s_degree", g.s_degree),
        a_object=given.get("a_object", g.a_object),
        a_degree=given.get("a_degree", g.a_degree),
    )
    if "graded_on" in given:
        _not_future("graded_on", given["graded_on"])
        g.graded_on = given["graded_on"]
        steps = list(g.steps)
        steps[0] = {**steps[0], "on": g.graded_on.isoformat()}
        g.steps = steps
    if "extensions" in given:
        g.extensions = list(given["extensions"])
    if "notes" in given:
        g.notes = given["notes"]
    _apply(g, merged, given.get("object_type", g.object_type), due_rule())
    session.flush()
    return g


def advance(session: Session, *, grading_id: int, data: AdvanceIn) -> Grading:
    """One workflow step, with who and when. Filing needs the filing number, date and police unit, and
    writes the level and filing onto the system (audited) so the rest of the map sees it."""
    g = _get(session, grading_id, lock=True)  # one step at a time (PostgreSQL)
    to = data.to
    allowed = NEXT.get(g.state, ())
    if to not in allowed:
        nxt = ", ".join(allowed) if allowed else f"nothing ({g.state} is final)"
        raise Conflict(f"grading {g.id} is {g.state} ({LABELS[g.state][0]}): cannot go to {to}; next: {nxt}")
    if g.state == "review" and to == "filed" and not data.skip_approval:
        raise Conflict(
            f"grading {g.id}: approval by the competent authority (主管部门核准) comes before filing; "
            "skip it (--skip-approval, skip_approval) only when the organisation has no 主管部门"
        )
    if data.skip_approval and g.state != "review":
        raise Invalid("skip_approval only applies when filing straight from review")
    on = data.on or (data.filing_date if to == "filed" else None) or _today()
    _not_future("the step date (on)", on)
    if data.filing_date is not None:
        _not_future("filing_date", data.filing_date)
    previous = dt.date.fromisoformat(g.steps[-1]["on"])
    for what, day in (("the step date (on)", on), ("filing_date", data.filing_date)):
        if day is not None and day < previous:
            raise Invalid(f"{what} {day.isoformat()} is before the previous step ({previous.isoformat()})")
    g.state = to
    g.steps = [*g.steps, _step(session, to, on, data.note)]
    if to == "approved":
        g.authority = data.authority
    if to == "filed":
        g.approval_skipped = data.skip_approval
        g.filing_number, g.filing_date, g.police_unit = data.filing_number, data.filing_date, data.police_unit
        system = session.get(inv.System, g.system_id)
        if system is None:  # pragma: no cover - the foreign key holds
            raise NotFound(f"system {g.system_id} does not exist")
        system.mlps_level, system.mlps_s_level, system.mlps_a_level = g.level, g.s_level, g.a_level
        system.filing_number, system.filing_date = g.filing_number, g.filing_date
    session.flush()
    return g
