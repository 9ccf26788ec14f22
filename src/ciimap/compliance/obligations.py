"""CII obligations (关基保护义务) and their calendar: docs/compliance-obligations.md.

Five kinds, each with a due date (key-post staffing is standing: no date) and a state on the day asked
about (``today`` is always passed in: upcoming / due / overdue / done):

- ``cii_test``: a yearly security test and risk assessment of every CII system (2021 regulation Art. 17),
  due by the end of each calendar year; its completion is *recorded* (:class:`ObligationDone`: who, when,
  a note, optionally the assessment that did it).
- ``mlps_assessment``: the next assessment is due when the last one's cycle ends (``Assessment.next_due``,
  set by ``CIIMAP_ASSESSMENT_CYCLES``); an assessment started later completes it.
- ``filing``: a grading round's filing deadline (``Grading.filing_due``, set by the grading service's
  ``CIIMAP_GRADING_FILING_DUE`` rule); filing completes it.
- ``key_post``: a key post needs a named responsible person plus 2 or more people sharing the duty.
- ``training``: key-post staff need 30 hours of training per calendar year; before the year ends a
  person is "on track" while their hours keep up with the year's share elapsed.

Only what users record is stored (key posts and staff, training sessions, completions of the yearly
test); every other obligation is computed from the map when asked, never copied into a table. The
periods and thresholds are a replaceable rules file (``rules/``, ``CIIMAP_COMPLIANCE_OBLIGATION_RULES``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ciimap.compliance.models import (
    LABELS,
    OBLIGATION_KINDS,
    OBLIGATION_STATES,
    OPEN_STATES,
    Assessment,
    Grading,
    KeyPost,
    KeyPostMember,
    ObligationDone,
    Training,
)
from ciimap.compliance.schemas import DoneIn, KeyPostIn, KeyPostUpdate, ObligationRulesFile, TrainingIn
from ciimap.config import get_settings
from ciimap.core.audit import current_actor
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Conflict, InputFileError, Invalid, NotFound, check_choice
from ciimap.core.safeio import content_guard, decode_utf8
from ciimap.inventory import models as inv

BUILTIN_RULES = Path(__file__).with_name("rules") / "cii-obligations-2021.json"
#: The longest range one calendar request may cover (days).
MAX_RANGE_DAYS = 3660


# --- rules ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    id: str
    version: str
    source: str
    due_window_days: int
    min_sharing: int
    needs_responsible: bool
    min_hours: float

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"


_rules: dict[tuple[str, int, int], Rules] = {}


def load_rules(path: Path | None = None) -> Rules:
    """The rules in force: ``path``, else ``CIIMAP_COMPLIANCE_OBLIGATION_RULES``, else the built-in file.
    A bad file is one :class:`InputFileError` naming the file and the place."""
    chosen = path if path is not None else get_settings().compliance_obligation_rules
    file = BUILTIN_RULES if chosen is None else Path(chosen)
    name = str(file)
    try:
        stat = file.stat()
        key = (name, stat.st_mtime_ns, stat.st_size)
        if key in _rules:
            return _rules[key]
        raw = file.read_bytes()
    except OSError as e:
        raise InputFileError(name, f"cannot read the obligation rules ({e.strerror or e})") from None
    if not raw.strip():
        raise InputFileError(name, "empty file: obligation rules are a JSON object")
    text = decode_utf8(name, raw)
    try:
        with content_guard(name):
            data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFileError(
            name, f"not JSON ({e.msg})", position=f"line {e.lineno} column {e.colno}"
        ) from None
    try:
        parsed = ObligationRulesFile.model_validate(data)
    except ValidationError as e:
        raise InputFileError(name, format_validation_error(e)) from None
    rules = Rules(
        id=parsed.id,
        version=parsed.version,
        source="built-in" if chosen is None else name,
        due_window_days=parsed.due_window_days,
        min_sharing=parsed.key_post.min_sharing,
        needs_responsible=parsed.key_post.needs_responsible,
        min_hours=parsed.training.min_hours,
    )
    _rules[key] = rules
    return rules


# --- states --------------------------------------------------------------------------------------------


def state_of(due_on: dt.date, today: dt.date, *, done: bool, window: int) -> str:
    """``done``; else ``overdue`` after the due day; ``due`` within ``window`` days of it (the due day
    itself included); ``upcoming`` before."""
    if done:
        return "done"
    if today > due_on:
        return "overdue"
    return "due" if (due_on - today).days <= window else "upcoming"


def year_share(year: int, today: dt.date) -> float:
    """The share of ``year`` elapsed by the end of ``today`` (0 before it starts, 1 after it ends)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if today < start:
        return 0.0
    if today >= end:
        return 1.0
    return ((today - start).days + 1) / ((end - start).days + 1)


def _row(kind: str, key: str, title: tuple[str, str], rule: str, **values: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(
        (
            "due_on",
            "days_left",
            "period",
            "system_id",
            "system",
            "organization_id",
            "contact_id",
            "person",
            "post_id",
            "done_on",
            "done_by",
            "note",
            "assessment_id",
            "hours",
            "required",
            "expected",
            "on_track",
        )
    )
    out.update(key=key, kind=kind, title_zh=title[0], title_en=title[1], rule=rule, **values)
    return out


def _dated(row: dict[str, Any], today: dt.date, window: int) -> dict[str, Any]:
    due_on = row["due_on"]
    row["state"] = state_of(due_on, today, done=row["done_on"] is not None, window=window)
    row["days_left"] = (due_on - today).days
    return row


# --- the obligations ------------------------------------------------------------------------------------


def _window(today: dt.date, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    start = start if start is not None else dt.date(today.year - 1, 1, 1)
    end = end if end is not None else today + dt.timedelta(days=365)
    if end < start:
        raise Invalid(f"the range ends ({end}) before it starts ({start})")
    if (end - start).days > MAX_RANGE_DAYS:
        raise Invalid(f"the range {start} – {end} is longer than {MAX_RANGE_DAYS} days")
    return start, end


def _cii_tests(
    session: Session, years: range, today: dt.date, rules: Rules, system_id: int | None
) -> list[dict[str, Any]]:
    stmt = select(inv.System.id, inv.System.name, inv.System.organization_id).where(
        inv.System.is_cii.is_(True)
    )
    if system_id is not None:
        stmt = stmt.where(inv.System.id == system_id)
    systems = session.execute(stmt.order_by(inv.System.name)).all()
    done_stmt = select(ObligationDone).where(
        ObligationDone.kind == "cii_test", ObligationDone.period.in_([str(y) for y in years])
    )
    done = {(d.system_id, d.period): d for d in session.scalars(done_stmt)}
    out = []
    for sid, name, org in systems:
        for year in years:
            d = done.get((sid, str(year)))
            row = _row(
                "cii_test",
                f"cii_test:system:{sid}:{year}",
                (
                    f"{name} {year} 年度安全检测和风险评估",
                    f"{name}: {year} security test and risk assessment",
                ),
                rules.label,
                due_on=dt.date(year, 12, 31),
                period=str(year),
                system_id=sid,
                system=name,
                organization_id=org,
            )
            if d is not None:
                row.update(done_on=d.done_on, done_by=d.done_by, note=d.note, assessment_id=d.assessment_id)
            out.append(_dated(row, today, rules.due_window_days))
    return out


def _assessments(
    session: Session, today: dt.date, rules: Rules, system_id: int | None
) -> list[dict[str, Any]]:
    stmt = select(Assessment, inv.System.name, inv.System.organization_id).join(
        inv.System, inv.System.id == Assessment.system_id
    )
    if system_id is not None:
        stmt = stmt.where(Assessment.system_id == system_id)
    chains: dict[int, list[tuple[Assessment, str, int | None]]] = defaultdict(list)
    for a, name, org in session.execute(
        stmt.order_by(Assessment.system_id, Assessment.started_on, Assessment.id)
    ):
        chains[a.system_id].append((a, name, org))
    out = []
    for chain in chains.values():
        for i, (a, name, org) in enumerate(chain):
            row = _row(
                "mlps_assessment",
                f"mlps_assessment:assessment:{a.id}",
                (
                    f"{name} 第{a.level}级 下次等级测评 (上次 {a.cycle})",
                    f"{name}: next level-{a.level} assessment (last: {a.cycle})",
                ),
                "CIIMAP_ASSESSMENT_CYCLES",
                due_on=a.next_due,
                period=a.cycle,
                system_id=a.system_id,
                system=name,
                organization_id=org,
            )
            if i + 1 < len(chain):
                nxt = chain[i + 1][0]
                row.update(
                    done_on=nxt.started_on,
                    done_by=nxt.body or LABELS[nxt.kind][0],
                    note=f"{nxt.cycle} {LABELS[nxt.kind][1]}",
                    assessment_id=nxt.id,
                )
            out.append(_dated(row, today, rules.due_window_days))
    return out


def _filings(session: Session, today: dt.date, rules: Rules, system_id: int | None) -> list[dict[str, Any]]:
    """Filing deadlines as the grading service computed them (``Grading.filing_due``, its rule in
    ``due_rule``): open rounds are pending, filed rounds done, withdrawn rounds dropped."""
    stmt = (
        select(Grading, inv.System.name, inv.System.organization_id)
        .join(inv.System, inv.System.id == Grading.system_id)
        .where(Grading.filing_due.is_not(None), Grading.state.in_((*OPEN_STATES, "filed")))
    )
    if system_id is not None:
        stmt = stmt.where(Grading.system_id == system_id)
    out = []
    for g, name, org in session.execute(stmt.order_by(Grading.filing_due, Grading.id)):
        assert g.filing_due is not None
        row = _row(
            "filing",
            f"filing:grading:{g.id}",
            (
                f"{name} 第{g.level}级 定级备案 (第{g.round}轮)",
                f"{name}: file level-{g.level} grading (round {g.round})",
            ),
            f"CIIMAP_GRADING_FILING_DUE={g.due_rule}",
            due_on=g.filing_due,
            period=f"round {g.round}",
            system_id=g.system_id,
            system=name,
            organization_id=org,
        )
        if g.state == "filed":
            row.update(
                done_on=g.filing_date or g.filing_due,
                done_by=g.police_unit,
                note=g.filing_number,
            )
        out.append(_dated(row, today, rules.due_window_days))
    return out


def _posts(session: Session) -> tuple[list[Any], dict[int, list[tuple[int, str]]], dict[int, str]]:
    """Key posts (with organisation and system names), their members, and the names of every contact."""
    posts = session.execute(
        select(KeyPost, inv.Organization.name, inv.System.name)
        .outerjoin(inv.Organization, inv.Organization.id == KeyPost.organization_id)
        .outerjoin(inv.System, inv.System.id == KeyPost.system_id)
        .order_by(KeyPost.name)
    ).all()
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = session.execute(
        select(KeyPostMember.post_id, inv.Contact.id, inv.Contact.name)
        .join(inv.Contact, inv.Contact.id == KeyPostMember.contact_id)
        .order_by(inv.Contact.name, inv.Contact.id)
    )
    for post_id, cid, cname in rows:
        members[post_id].append((cid, cname))
    resp_ids = {p.responsible_id for p, _o, _s in posts if p.responsible_id is not None}
    names = dict(
        session.execute(select(inv.Contact.id, inv.Contact.name).where(inv.Contact.id.in_(resp_ids))).all()
    )
    names.update((cid, n) for ms in members.values() for cid, n in ms)
    return list(posts), members, names


def _violations(post: KeyPost, sharing: int, rules: Rules) -> list[str]:
    out = []
    if rules.needs_responsible and post.responsible_id is None:
        out.append("no named responsible person (未指定负责人)")
    if sharing < rules.min_sharing:
        out.append(
            f"{sharing} people share the duty, the rule asks for at least {rules.min_sharing} "
            f"(共同承担岗位职责人数 {sharing} < {rules.min_sharing})"
        )
    return out


def list_posts(
    session: Session, *, organization_id: int | None = None, _read: Any = None
) -> list[dict[str, Any]]:
    """Key posts with their responsible person, the people sharing the duty and the rule's violations."""
    rules = load_rules()
    posts, members, names = _read if _read is not None else _posts(session)
    out = []
    for p, org, sysname in posts:
        if organization_id is not None and p.organization_id != organization_id:
            continue
        ms = members.get(p.id, [])
        out.append(
            {
                "id": p.id,
                "name": p.name,
                "organization_id": p.organization_id,
                "organization": org,
                "system_id": p.system_id,
                "system": sysname,
                "responsible": (
                    {"id": p.responsible_id, "name": names[p.responsible_id]}
                    if p.responsible_id is not None
                    else None
                ),
                "members": [{"id": c, "name": n} for c, n in ms],
                "sharing": len(ms),
                "min_sharing": rules.min_sharing,
                "violations": _violations(p, len(ms), rules),
                "description": p.description,
            }
        )
    return out


def describe_post(session: Session, *, post_id: int) -> dict[str, Any]:
    if session.get(KeyPost, post_id) is None:
        raise NotFound(f"key post {post_id} does not exist")
    return next(p for p in list_posts(session) if p["id"] == post_id)


def _key_posts(session: Session, rules: Rules, read: Any) -> list[dict[str, Any]]:
    out = []
    for p in list_posts(session, _read=read):
        ok = not p["violations"]
        out.append(
            _row(
                "key_post",
                f"key_post:post:{p['id']}",
                (f"关键岗位 {p['name']}", f"key post {p['name']}"),
                rules.label,
                state="done" if ok else "overdue",
                organization_id=p["organization_id"],
                system_id=p["system_id"],
                system=p["system"],
                post_id=p["id"],
                person=p["responsible"]["name"] if p["responsible"] else None,
                contact_id=p["responsible"]["id"] if p["responsible"] else None,
                hours=None,
                note="; ".join(p["violations"]) or None,
                required=float(rules.min_sharing),
                expected=float(p["sharing"]),
            )
        )
    return out


def _staff(read: Any) -> dict[int, str]:
    """Every person on a key post (responsible or sharing the duty): contact id → name."""
    _posts_, members, names = read
    staff = {
        p.responsible_id: names[p.responsible_id] for p, _o, _s in _posts_ if p.responsible_id is not None
    }
    staff.update((cid, n) for ms in members.values() for cid, n in ms)
    return staff


def _trainings(
    session: Session, years: range, today: dt.date, rules: Rules, staff: dict[int, str]
) -> list[dict[str, Any]]:
    if not staff or not years:
        return []
    sessions = session.execute(
        select(Training.contact_id, Training.held_on, Training.hours)
        .where(
            Training.contact_id.in_(staff),
            Training.held_on >= dt.date(years[0], 1, 1),
            Training.held_on <= dt.date(years[-1], 12, 31),
        )
        .order_by(Training.held_on, Training.id)
    )
    total: dict[tuple[int, int], float] = defaultdict(float)
    reached: dict[tuple[int, int], dt.date] = {}
    for cid, held_on, hours in sessions:
        k = (cid, held_on.year)
        total[k] += hours
        if k not in reached and total[k] >= rules.min_hours:
            reached[k] = held_on
    out = []
    for cid, name in sorted(staff.items(), key=lambda kv: (kv[1], kv[0])):
        for year in years:
            hours = round(total.get((cid, year), 0.0), 2)
            expected = round(rules.min_hours * year_share(year, today), 2)
            done_on = reached.get((cid, year))
            row = _row(
                "training",
                f"training:contact:{cid}:{year}",
                (
                    f"{name} {year} 年培训 ≥ {rules.min_hours:g} 学时",
                    f"{name}: {rules.min_hours:g} training hours in {year}",
                ),
                rules.label,
                due_on=dt.date(year, 12, 31),
                period=str(year),
                contact_id=cid,
                person=name,
                done_on=done_on,
                hours=hours,
                required=rules.min_hours,
                expected=expected,
                on_track=hours >= expected,
            )
            out.append(_dated(row, today, rules.due_window_days))
    return out


def obligations(
    session: Session,
    *,
    today: dt.date,
    start: dt.date | None = None,
    end: dt.date | None = None,
    state: str | None = None,
    kind: str | None = None,
    system_id: int | None = None,
    dated_only: bool = False,
) -> list[dict[str, Any]]:
    """Every obligation on ``today``: the yearly ones for each calendar year the range touches (default:
    from 1 January last year to a year from today), the assessment and filing ones of every assessment
    and grading round; dated ones by due date, then the standing ones (key posts). With ``dated_only``
    (the calendar) only dated obligations due inside the range."""
    check_choice("state", state, OBLIGATION_STATES)
    check_choice("kind", kind, OBLIGATION_KINDS)
    if system_id is not None and session.get(inv.System, system_id) is None:
        raise NotFound(f"system {system_id} does not exist")
    start, end = _window(today, start, end)
    rules = load_rules()
    years = range(start.year, end.year + 1)
    want = set(OBLIGATION_KINDS) if kind is None else {kind}
    rows: list[dict[str, Any]] = []
    if "cii_test" in want:
        rows += _cii_tests(session, years, today, rules, system_id)
    if "mlps_assessment" in want:
        rows += _assessments(session, today, rules, system_id)
    if "filing" in want:
        rows += _filings(session, today, rules, system_id)
    read = _posts(session) if system_id is None and want & {"training", "key_post"} else None
    if read is not None and "training" in want:
        rows += _trainings(session, years, today, rules, _staff(read))
    if dated_only:
        rows = [r for r in rows if start <= r["due_on"] <= end]
    rows.sort(key=lambda r: (r["due_on"], OBLIGATION_KINDS.index(r["kind"]), r["key"]))
    if not dated_only and "key_post" in want:
        posts = _key_posts(session, rules, read if read is not None else _posts(session))
        rows += [r for r in posts if system_id is None or r["system_id"] == system_id]
    return [r for r in rows if state is None or r["state"] == state]


def calendar(
    session: Session, *, today: dt.date, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """Every dated obligation due in ``start``–``end`` (derived and recorded), by due date, with its state."""
    return obligations(session, today=today, start=start, end=end, dated_only=True)


# --- recording --------------------------------------------------------------------------------------------


def _actor(session: Session) -> str:
    actor = session.info.get("actor") or current_actor()
    return str(actor.name)


def _contact(session: Session, contact_id: int) -> inv.Contact:
    c = session.get(inv.Contact, contact_id)
    if c is None:
        raise NotFound(f"contact {contact_id} does not exist")
    return c


def record_done(session: Session, *, data: DoneIn, today: dt.date) -> ObligationDone:
    """Evidence that a CII system's yearly security test and risk assessment was done."""
    system = session.get(inv.System, data.system_id)
    if system is None:
        raise NotFound(f"system {data.system_id} does not exist")
    if not system.is_cii:
        raise Invalid(f"system '{system.name}' is not a CII system: the yearly test is a CII obligation")
    if data.done_on > today:
        raise Invalid(f"done_on {data.done_on} is in the future")
    if data.assessment_id is not None:
        a = session.get(Assessment, data.assessment_id)
        if a is None:
            raise NotFound(f"assessment {data.assessment_id} does not exist")
        if a.system_id != system.id:
            raise Invalid(f"assessment {a.id} is of another system, not of '{system.name}'")
    dup = session.scalar(
        select(ObligationDone.id).where(
            ObligationDone.kind == data.kind,
            ObligationDone.system_id == system.id,
            ObligationDone.period == data.period,
        )
    )
    if dup is not None:
        raise Conflict(
            f"the {data.period} {data.kind} of '{system.name}' is already recorded as done ({dup})"
        )
    row = ObligationDone(
        kind=data.kind,
        system_id=system.id,
        period=data.period,
        done_on=data.done_on,
        done_by=data.done_by or _actor(session),
        note=data.note,
        assessment_id=data.assessment_id,
    )
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"the {data.period} {data.kind} of '{system.name}' was just recorded") from None
    return row


def _check_refs(
    session: Session, organization_id: int | None, system_id: int | None, responsible_id: int | None
) -> None:
    if organization_id is not None and session.get(inv.Organization, organization_id) is None:
        raise NotFound(f"organization {organization_id} does not exist")
    if system_id is not None and session.get(inv.System, system_id) is None:
        raise NotFound(f"system {system_id} does not exist")
    if responsible_id is not None:
        _contact(session, responsible_id)


def create_post(session: Session, *, data: KeyPostIn) -> KeyPost:
    """A key post, optionally with its responsible person and the people sharing its duty."""
    _check_refs(session, data.organization_id, data.system_id, data.responsible_id)
    if session.scalar(select(KeyPost.id).where(KeyPost.name == data.name)) is not None:
        raise Conflict(f"key post '{data.name}' already exists")
    post = KeyPost(
        name=data.name,
        organization_id=data.organization_id,
        system_id=data.system_id,
        responsible_id=data.responsible_id,
        description=data.description,
    )
    session.add(post)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"key post '{data.name}' was just created") from None
    for cid in dict.fromkeys(data.members):
        add_member(session, post_id=post.id, contact_id=cid)
    return post


def update_post(session: Session, *, post_id: int, changes: KeyPostUpdate) -> KeyPost:
    post = session.get(KeyPost, post_id, with_for_update=True)
    if post is None:
        raise NotFound(f"key post {post_id} does not exist")
    given = changes.model_dump(exclude_unset=True)
    if "name" in given and given["name"] is None:
        raise Invalid("name cannot be cleared")
    _check_refs(session, given.get("organization_id"), given.get("system_id"), given.get("responsible_id"))
    if given.get("name") not in (None, post.name) and session.scalar(
        select(KeyPost.id).where(KeyPost.name == given["name"])
    ):
        raise Conflict(f"key post '{given['name']}' already exists")
    rid = given.get("responsible_id")
    if rid is not None and session.scalar(
        select(KeyPostMember.id).where(KeyPostMember.post_id == post.id, KeyPostMember.contact_id == rid)
    ):
        raise Invalid(
            f"contact {rid} shares the duty of '{post.name}': remove them first to make them responsible"
        )
    for k, v in given.items():
        setattr(post, k, v)
    session.flush()
    return post


def add_member(session: Session, *, post_id: int, contact_id: int) -> KeyPostMember:
    post = session.get(KeyPost, post_id)
    if post is None:
        raise NotFound(f"key post {post_id} does not exist")
    c = _contact(session, contact_id)
    if post.responsible_id == contact_id:
        raise Invalid(
            f"{c.name} is the responsible person of '{post.name}': the people sharing the duty are others"
        )
    if session.scalar(
        select(KeyPostMember.id).where(
            KeyPostMember.post_id == post_id, KeyPostMember.contact_id == contact_id
        )
    ):
        raise Conflict(f"{c.name} already shares the duty of '{post.name}'")
    m = KeyPostMember(post_id=post_id, contact_id=contact_id)
    session.add(m)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"{c.name} was just added to '{post.name}'") from None
    return m


def remove_member(session: Session, *, post_id: int, contact_id: int) -> None:
    m = session.scalar(
        select(KeyPostMember).where(KeyPostMember.post_id == post_id, KeyPostMember.contact_id == contact_id)
    )
    if m is None:
        raise NotFound(f"contact {contact_id} is not on key post {post_id}")
    session.delete(m)
    session.flush()


def add_training(session: Session, *, data: TrainingIn, today: dt.date) -> Training:
    """A training session of one person (a future date is refused: hours count once held)."""
    _contact(session, data.contact_id)
    if data.held_on > today:
        raise Invalid(f"held_on {data.held_on} is in the future")
    t = Training(
        contact_id=data.contact_id, held_on=data.held_on, hours=data.hours, topic=data.topic, notes=data.notes
    )
    session.add(t)
    session.flush()
    return t


def list_training(
    session: Session, *, contact_id: int | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    """Training sessions, newest first."""
    if year is not None and not 1900 <= year <= 2199:
        raise Invalid(f"year {year} is out of range")
    stmt = select(Training, inv.Contact.name).join(inv.Contact, inv.Contact.id == Training.contact_id)
    if contact_id is not None:
        _contact(session, contact_id)
        stmt = stmt.where(Training.contact_id == contact_id)
    if year is not None:
        stmt = stmt.where(Training.held_on >= dt.date(year, 1, 1), Training.held_on <= dt.date(year, 12, 31))
    return [
        {
            "id": t.id,
            "contact_id": t.contact_id,
            "person": name,
            "held_on": t.held_on,
            "hours": t.hours,
            "topic": t.topic,
            "notes": t.notes,
        }
        for t, name in session.execute(stmt.order_by(Training.held_on.desc(), Training.id.desc()))
    ]
