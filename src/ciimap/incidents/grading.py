"""Incident grading and the reporting clock of the 2025 measures, over ``criteria.yaml`` (pure; no database).

Grading: every criterion the facts reach gives a grade; the highest wins, and each reached criterion is
named in the explanation. Deadlines: the first report is due ``first_report_minutes`` after discovery
for the reporter type, for grades from 较大; the escalation clock (重大 and 特别重大) is the reporter's
``escalation_minutes``; the summary report is due ``summary_report_days`` after handling ends. The
thresholds are data (``criteria.yaml``), never code: they changed between the 2023 draft and the final
text. Checked by tests/incidents/test_grading.py (every threshold at, below and above its boundary).
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ciimap.core.errors import Invalid
from ciimap.core.schemas import INT32_MAX, Schema
from ciimap.incidents.models import REPORTERS, DataThreat, Grade, Reporter
from ciimap.incidents.models import Level as PortalLevel


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    label: str
    unit: str
    thresholds: dict[Grade, float] = {}
    by_level: dict[PortalLevel, dict[Grade, float]] = {}
    values: dict[DataThreat, Grade] = {}
    verify: bool = False


class ReporterRule(_Strict):
    label: str
    first_report_minutes: int = Field(gt=0)
    first_report_to: list[str]
    escalation_minutes: int = Field(gt=0)
    escalation_to: list[str]


class Criteria(_Strict):
    version: str
    title: str
    grades: list[Grade]
    codes: dict[Grade, str]
    reportable_from: Grade
    criteria: dict[str, Criterion]
    reporters: dict[Reporter, ReporterRule]
    escalate_from: Grade
    summary_report_days: int = Field(gt=0)
    reminder_minutes: list[int]

    def rank(self, grade: str) -> int:
        """0 for the highest grade (特别重大) … 3 for 一般."""
        return self.grades.index(grade)  # type: ignore[arg-type]

    def must_report(self, grade: str) -> bool:
        return self.rank(grade) <= self.rank(self.reportable_from)

    def escalates(self, grade: str) -> bool:
        return self.rank(grade) <= self.rank(self.escalate_from)


@functools.cache
def criteria() -> Criteria:
    """The criteria in force (the package's ``criteria.yaml``; validated once)."""
    text = resources.files("ciimap.incidents").joinpath("criteria.yaml").read_text("utf-8")
    try:
        return Criteria.model_validate(yaml.safe_load(text))
    except ValidationError as e:  # a packaging error, not user input
        raise RuntimeError(f"ciimap/incidents/criteria.yaml is malformed: {e}") from None


class Facts(Schema):
    """What is known about an incident's impact (any subset; unknown is ``None``)."""

    pi_leaked: int | None = Field(
        default=None, ge=0, le=INT32_MAX, description="people whose personal information leaked"
    )
    economic_loss: float | None = Field(default=None, ge=0, le=1e15, description="direct economic loss, yuan")
    cii_outage_minutes: float | None = Field(default=None, ge=0, le=10**8)
    cii_main_function_outage_minutes: float | None = Field(default=None, ge=0, le=10**8)
    people_affected: int | None = Field(default=None, ge=0, le=INT32_MAX)
    population_share_pct: float | None = Field(default=None, ge=0, le=100)
    population_level: PortalLevel | None = None
    portal_level: PortalLevel | None = None
    portal_outage_minutes: float | None = Field(default=None, ge=0, le=10**8)
    data_threat: DataThreat | None = None


def _top(thresholds: dict[Grade, float], value: float | None, c: Criteria) -> str | None:
    """The highest grade whose threshold ``value`` reaches (>=: "以上" includes the number itself)."""
    if value is None:
        return None
    reached = [g for g, limit in thresholds.items() if value >= limit]
    return min(reached, key=c.rank) if reached else None


def _levelled(crit: Criterion, level: str | None, value: float | None, c: Criteria) -> str | None:
    if value is None or level is None:
        return None
    return _top(crit.by_level.get(level, {}), value, c)  # type: ignore[call-overload]


def grade(facts: Facts) -> dict[str, Any]:
    """``{"grade", "code", "reached": [{"criterion", "label", "value", "grade"}], "version"}``."""
    c = criteria()
    if facts.portal_outage_minutes is not None and facts.portal_level is None:
        raise Invalid("--portal-outage-minutes needs --portal-level (provincial or city)")
    if facts.population_share_pct is not None and facts.population_level is None:
        raise Invalid("population share needs its level (provincial or city)")
    reached: list[dict[str, Any]] = []
    for key, crit in c.criteria.items():
        if key == "portal_outage_minutes":
            value: Any = facts.portal_outage_minutes
            g = _levelled(crit, facts.portal_level, value, c)
        elif key == "population_share_pct":
            value = facts.population_share_pct
            g = _levelled(crit, facts.population_level, value, c)
        elif key == "data_threat":
            value = facts.data_threat
            g = crit.values.get(value) if value else None  # type: ignore[call-overload]
        else:
            value = getattr(facts, key)
            g = _top(crit.thresholds, value, c)
        if g is not None:
            reached.append({"criterion": key, "label": crit.label, "value": value, "grade": g})
    reached.sort(key=lambda r: c.rank(r["grade"]))
    top = reached[0]["grade"] if reached else c.grades[-1]
    return {"grade": top, "code": c.codes[top], "reached": reached, "version": c.version}


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def clock(
    *,
    grade: str,
    reporter: str,
    discovered_at: dt.datetime | None = None,
    handling_closed_at: dt.date | None = None,
) -> dict[str, Any]:
    """The deadlines for ``grade`` and ``reporter`` (times keep ``discovered_at``'s offset; naive is UTC)."""
    c = criteria()
    if reporter not in c.reporters:
        raise Invalid(f"unknown reporter '{reporter}' (choose from {', '.join(REPORTERS)})")
    rule = c.reporters[reporter]  # type: ignore[index]
    must = c.must_report(grade)
    minutes = rule.first_report_minutes if must else None
    due = None
    if minutes is not None and discovered_at is not None:
        due = _aware(discovered_at) + dt.timedelta(minutes=minutes)
    summary = None
    if must and handling_closed_at is not None:
        summary = handling_closed_at + dt.timedelta(days=c.summary_report_days)
    return {
        "must_report": must,
        "deadline_minutes": minutes,
        "report_due_at": due,
        "escalation_minutes": rule.escalation_minutes if c.escalates(grade) else None,
        "summary_report_due": summary,
        "first_report_to": rule.first_report_to if must else [],
        "escalation_to": rule.escalation_to if c.escalates(grade) else [],
    }


def assess(
    facts: Facts,
    *,
    reporter: str,
    discovered_at: dt.datetime | None = None,
    handling_closed_at: dt.date | None = None,
) -> dict[str, Any]:
    """``ciimap incidents assess``: the grade and the deadlines; nothing stored."""
    g = grade(facts)
    out = clock(
        grade=g["grade"],
        reporter=reporter,
        discovered_at=discovered_at,
        handling_closed_at=handling_closed_at,
    )
    return {
        "grade": g["grade"],
        "must_report": out["must_report"],
        "deadline_minutes": out["deadline_minutes"],
        "report_due_at": out["report_due_at"].isoformat() if out["report_due_at"] else None,
        "escalation_minutes": out["escalation_minutes"],
        "summary_report_due": out["summary_report_due"].isoformat() if out["summary_report_due"] else None,
    }
