"""Saved what-if scenarios: save a failed set with a snapshot of its result, list, compare, re-run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.core.audit import current_actor
from ciimap.core.errors import Conflict, NotFound
from ciimap.graph.impact import impact_many
from ciimap.graph.models import Scenario
from ciimap.graph.schemas import ImpactResult, ScenarioDiff, Selector


def _snapshot(res: ImpactResult) -> dict[str, Any]:
    """What a scenario keeps: counts and the hit services/systems with status and path (no asset list)."""
    keep = res.model_dump(mode="json", include={"counts", "services", "systems", "assets_total", "seeds"})
    return keep


def save_scenario(
    session: Session, *, name: str, selectors: list[Selector], description: str | None = None
) -> Scenario:
    """Run the what-if now and store it under ``name``."""
    if session.scalar(select(Scenario.id).where(Scenario.name == name)) is not None:
        raise Conflict(f"a scenario named '{name}' already exists")
    res = impact_many(session, selectors=selectors)
    sc = Scenario(
        name=name,
        description=description,
        selectors=[s.model_dump() for s in selectors],
        result=_snapshot(res),
        map_version=res.map_version,
        created_by=current_actor().name,
    )
    session.add(sc)
    session.flush()
    return sc


def get_scenario(session: Session, ref: str | int) -> Scenario:
    ref = str(ref)
    stmt = (
        select(Scenario).where(Scenario.id == int(ref))
        if ref.isdigit()
        else select(Scenario).where(Scenario.name == ref)
    )
    sc = session.scalar(stmt)
    if sc is None:
        raise NotFound(f"no scenario '{ref}'")
    return sc


def list_scenarios(session: Session) -> list[Scenario]:
    return list(session.scalars(select(Scenario).order_by(Scenario.id)))


def delete_scenario(session: Session, ref: str | int) -> None:
    session.delete(get_scenario(session, ref))
    session.flush()


def rerun_scenario(session: Session, ref: str | int) -> ImpactResult:
    """The scenario's failed set evaluated against today's map."""
    sc = get_scenario(session, ref)
    return impact_many(session, selectors=[Selector(**s) for s in sc.selectors])


def _statuses(result: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    out = {}
    for key in ("services", "systems"):
        for n in result.get(key, []):
            out[(n["type"], n["id"])] = {
                "type": n["type"],
                "id": n["id"],
                "name": n["name"],
                "status": n["status"],
            }
    return out


def compare_scenarios(session: Session, *, a: str | int, b: str | int) -> ScenarioDiff:
    """Which services and systems only one scenario hits, and which it hits differently."""
    sa, sb = get_scenario(session, a), get_scenario(session, b)
    ra, rb = _statuses(sa.result), _statuses(sb.result)
    changed = [
        {**ra[k], "status_a": ra[k]["status"], "status_b": rb[k]["status"]}
        for k in sorted(ra.keys() & rb.keys())
        if ra[k]["status"] != rb[k]["status"]
    ]
    for c in changed:
        c.pop("status")
    return ScenarioDiff(
        a=sa.name,
        b=sb.name,
        only_in_a=[ra[k] for k in sorted(ra.keys() - rb.keys())],
        only_in_b=[rb[k] for k in sorted(rb.keys() - ra.keys())],
        changed=changed,
        counts_a=sa.result.get("counts", {}),
        counts_b=sb.result.get("counts", {}),
    )
