"""Scoped suppressions: a rule on one target (an asset, or an address when the target is unmapped),
optionally from one attacker address, with a reason, who made it and an expiry.

A suppression is never global: it names one rule *and* one target, so suppressing a noisy rule on one
host never hides it on another (the well-known Wazuh complaint about rule-wide silencing). Suppressed
alerts are still stored and counted; they carry ``suppression_id`` and are left out of groups' open
counts and of early warnings. Matching happens at load time against the suppressions active then
(not expired); creating or deleting one is audited (``__audited__``) and does not rewrite old alerts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ciimap.alerts.groups import aware
from ciimap.alerts.models import AlertSuppression
from ciimap.core.audit import current_actor
from ciimap.core.db import utcnow
from ciimap.core.errors import Invalid, NotFound, check_choice
from ciimap.inventory.models import Asset
from ciimap.sources import kinds


def _address(value: str | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise Invalid(f"{name}: not an IP address: {value!r}") from None


def to_dict(s: AlertSuppression) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": s.id,
        "rule_id": s.rule_id,
        "kind": s.kind,
        "asset_id": s.asset_id,
        "address": s.address,
        "attacker_ip": s.attacker_ip,
        "reason": s.reason,
        "created_by": s.created_by,
        "created_at": aware(s.created_at),
        "expires_at": None if s.expires_at is None else aware(s.expires_at),
        "active": s.expires_at is None or aware(s.expires_at) > now,
    }


def add(
    session: Session,
    *,
    rule_id: str,
    reason: str,
    asset_id: int | None = None,
    address: str | None = None,
    attacker_ip: str | None = None,
    kind: str | None = None,
    expires_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Create a suppression of ``rule_id`` on exactly one target: ``asset_id`` or ``address``."""
    rule_id = (rule_id or "").strip()
    if not rule_id or len(rule_id) > 64:
        raise Invalid("rule_id: required, at most 64 characters")
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise Invalid("reason: required, at most 500 characters")
    if (asset_id is None) == (address is None or address == ""):
        raise Invalid("a suppression names exactly one target: asset_id or address (never a whole rule)")
    check_choice("kind", kind, kinds("alerts"))
    if asset_id is not None and session.get(Asset, asset_id) is None:
        raise NotFound(f"asset {asset_id} does not exist")
    if expires_at is not None:
        expires_at = aware(expires_at)
        if expires_at <= utcnow():
            raise Invalid("expires_at: must be in the future")
    s = AlertSuppression(
        rule_id=rule_id,
        kind=kind,
        asset_id=asset_id,
        address=_address(address, "address"),
        attacker_ip=_address(attacker_ip, "attacker_ip"),
        reason=reason,
        created_by=(session.info.get("actor") or current_actor()).name,
        expires_at=expires_at,
    )
    session.add(s)
    session.flush()
    return to_dict(s)


def list_(session: Session, *, active: bool | None = None) -> list[dict[str, Any]]:
    """Suppressions, newest first; ``active`` True: not expired, False: expired."""
    stmt = select(AlertSuppression)
    now = utcnow()
    live = or_(AlertSuppression.expires_at.is_(None), AlertSuppression.expires_at > now)
    if active is True:
        stmt = stmt.where(live)
    elif active is False:
        stmt = stmt.where(~live)
    rows = session.scalars(stmt.order_by(AlertSuppression.id.desc()))
    return [to_dict(s) for s in rows]


def remove(session: Session, *, suppression_id: int) -> dict[str, Any]:
    s = session.get(AlertSuppression, suppression_id)
    if s is None:
        raise NotFound(f"suppression {suppression_id} does not exist")
    data = to_dict(s)
    session.delete(s)
    session.flush()
    return data
