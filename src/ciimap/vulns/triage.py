"""Triage: people's decisions, kept apart from findings so re-matching never loses them.

A decision is keyed by (scope, package identity, advisory) — scope is the asset the component runs on
(or the system whose SBOM lists it), package identity is the purl/CPE without version. Re-importing
software (new Software ids), re-matching, or a version change therefore find the same decision.

Rules (docs/vulnerabilities.md):
- ``not_affected`` (needs a CycloneDX justification) and ``confirmed`` stay until someone changes them.
- ``risk_accepted`` needs an expiry date; once it has passed the decision reopens (state ``new``).
- ``fixed`` is *verified* once a match run no longer finds the package vulnerable in the scope. It
  reopens when it matches again after that, or matches at a different version than the one recorded
  when it was marked fixed ("the vulnerable version reappeared"). A fixed mark on a still-matching,
  unchanged version is kept (distribution backports).
- A finding that no longer matches shows ``fixed`` unless it was marked ``not_affected``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.core.audit import current_actor
from ciimap.core.db import chunks, utcnow
from ciimap.core.errors import Invalid, NotFound
from ciimap.vulns.models import TRIAGE_STATES, Finding, Triage

#: CycloneDX 1.5/1.6 ``analysis.justification`` values (accepted for ``not_affected``).
JUSTIFICATIONS = (
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
)


def triage_key(scope_type: str, scope_id: int | None, package: str, advisory_id: str) -> str:
    return f"{scope_type}:{scope_id}|{package}|{advisory_id}"[:500]


def _validate(state: str, justification: str | None, expires: dt.date | None, today: dt.date) -> None:
    if state not in TRIAGE_STATES:
        raise Invalid(f"unknown triage state '{state}' (expected one of: {', '.join(TRIAGE_STATES)})")
    if state == "not_affected" and justification not in JUSTIFICATIONS:
        raise Invalid("not_affected needs --justification, one of: " + ", ".join(JUSTIFICATIONS))
    if state == "risk_accepted" and (expires is None or expires <= today):
        raise Invalid("risk_accepted needs an expiry date in the future (--expires YYYY-MM-DD)")


def set_state(
    session: Session,
    *,
    finding_id: int,
    state: str,
    justification: str | None = None,
    detail: str | None = None,
    expires: dt.date | None = None,
    today: dt.date | None = None,
    actor: str | None = None,
) -> Triage:
    """Record a decision for a finding's (scope, package, advisory) and apply it to matching findings."""
    today = today or dt.date.today()
    _validate(state, justification, expires, today)
    f = session.get(Finding, finding_id)
    if f is None:
        raise NotFound(f"finding {finding_id} does not exist")
    actor = actor or current_actor().name
    t = session.scalars(select(Triage).where(Triage.key == f.triage_key)).first()
    entry = {
        "at": utcnow().isoformat(),
        "actor": actor,
        "state": state,
        "justification": justification,
        "detail": detail,
        "expires": expires.isoformat() if expires else None,
        "version": f.version,
    }
    if t is None:
        scope_type, scope_id = f.triage_key.split("|", 1)[0].split(":", 1)
        t = Triage(
            key=f.triage_key,
            scope_type=scope_type,
            scope_id=int(scope_id),
            package=f.package,
            advisory_id=f.advisory_id,
            history=[],
        )
        session.add(t)
    t.state, t.justification, t.detail = state, justification if state == "not_affected" else None, detail
    t.expires = expires if state == "risk_accepted" else None
    t.version, t.actor, t.verified_at = f.version, actor, None
    t.history = [*(t.history or []), entry]
    session.flush()
    for other in session.scalars(select(Finding).where(Finding.triage_key == f.triage_key)):
        other.status = status_for(t, active=other.active)
    return t


def status_for(t: Triage | None, *, active: bool) -> str:
    if not active:
        return "not_affected" if t is not None and t.state == "not_affected" else "fixed"
    return t.state if t is not None else "new"


def reopen(t: Triage, reason: str) -> None:
    """Back to ``new`` with the reason in the history (ORM change: audited as the current actor)."""
    t.history = [
        *(t.history or []),
        {"at": utcnow().isoformat(), "actor": "system", "state": "new", "reason": reason},
    ]
    t.state, t.expires, t.actor = "new", None, "system"


def reopen_expired(session: Session, today: dt.date | None = None) -> int:
    """Reopen risk acceptances whose expiry has passed; one query, few rows."""
    today = today or dt.date.today()
    rows = list(
        session.scalars(select(Triage).where(Triage.state == "risk_accepted", Triage.expires < today))
    )
    for t in rows:
        reopen(t, f"risk acceptance expired on {t.expires}")
    if rows:
        session.flush()
        keys = [t.key for t in rows]
        for f in session.scalars(
            select(Finding).where(Finding.triage_key.in_(keys), Finding.active.is_(True))
        ):
            f.status = "new"
    return len(rows)


def load(session: Session, keys: set[str]) -> dict[str, Triage]:
    """Triage rows for these keys: all in one query while the table is small (decisions are made by
    people, so it usually is), else chunked IN lists."""
    from sqlalchemy import func

    if (session.scalar(select(func.count()).select_from(Triage)) or 0) <= max(5000, len(keys) // 4):
        return {t.key: t for t in session.scalars(select(Triage)) if t.key in keys}
    out: dict[str, Triage] = {}
    for part in chunks(sorted(keys)):
        out.update((t.key, t) for t in session.scalars(select(Triage).where(Triage.key.in_(part))))
    return out


def verify_fixed(
    session: Session, matched_keys: set[str], *, asset_ids: set[int] | None, system_ids: set[int] | None
) -> int:
    """Mark ``fixed`` decisions in the matched scope as verified when nothing matched for them."""
    stmt = select(Triage).where(Triage.state == "fixed", Triage.verified_at.is_(None))
    rows = list(session.scalars(stmt))  # few rows: decisions, not findings
    if asset_ids is not None or system_ids is not None:
        rows = [
            t
            for t in rows
            if (t.scope_type == "asset" and t.scope_id in (asset_ids or ()))
            or (t.scope_type == "system" and t.scope_id in (system_ids or ()))
        ]
    done = 0
    for t in rows:
        if t.key not in matched_keys:
            t.verified_at = utcnow()
            done += 1
    return done


def apply_on_match(
    t: Triage | None, *, was_active: bool | None, version: str | None
) -> tuple[str, dict[str, Any] | None]:
    """Status of a finding that matched in this run; reopens a contradicted ``fixed``."""
    if (
        t is not None
        and t.state == "fixed"
        and (
            t.verified_at is not None
            or was_active is False
            or (t.version is not None and version != t.version)
        )
    ):
        reopen(t, f"vulnerable version {version} matched again after being marked fixed")
        return "new", {"reopened": True}
    return status_for(t, active=True), None
