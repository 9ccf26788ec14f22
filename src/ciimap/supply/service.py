"""Vendor profiles (供应商档案) and the vendor register with usage figures.

Inventory, findings and substitution plans live in ``foreign``, ``findings`` and ``plans``; this
module is the entry point other domains use (``from ciimap.supply import service as supply``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Invalid, NotFound
from ciimap.inventory import models as inv
from ciimap.supply import foreign
from ciimap.supply.models import VendorProfile
from ciimap.supply.schemas import VendorProfileIn, VendorProfileRead

PROFILE_FIELDS = tuple(VendorProfileIn.model_fields)


def resolve_vendor(session: Session, ref: str | int) -> inv.Vendor:
    """A vendor by id, exact name, case-insensitive name or alias — what people type on the CLI."""
    text = str(ref).strip()
    if text.isdigit():
        vendor = session.get(inv.Vendor, int(text))
        if vendor is not None:
            return vendor
    vendor = session.scalar(select(inv.Vendor).where(inv.Vendor.name == text))
    if vendor is not None:
        return vendor
    low = text.lower()
    matches = [
        v
        for v in session.scalars(select(inv.Vendor))
        if v.name.lower() == low or low in (a.lower() for a in (v.aliases or []))
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise Invalid(f"vendor '{text}' is ambiguous: {', '.join(f'{v.id} {v.name}' for v in matches)}")
    raise NotFound(f"vendor '{text}' does not exist")


def get_profile(session: Session, *, vendor_id: int) -> VendorProfile:
    profile = session.scalar(select(VendorProfile).where(VendorProfile.vendor_id == vendor_id))
    if profile is None:
        if session.get(inv.Vendor, vendor_id) is None:
            raise NotFound(f"vendor {vendor_id} does not exist")
        raise NotFound(f"vendor {vendor_id} has no supply-chain profile yet")
    return profile


def set_profile(session: Session, *, vendor_id: int, changes: dict[str, Any]) -> VendorProfile:
    """Create or update a vendor's profile; the merged profile is validated as a whole (audited)."""
    if session.get(inv.Vendor, vendor_id) is None:
        raise NotFound(f"vendor {vendor_id} does not exist")
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise Invalid(
            f"unknown profile field(s): {', '.join(sorted(unknown))} (fields: {', '.join(PROFILE_FIELDS)})"
        )
    profile = session.scalar(select(VendorProfile).where(VendorProfile.vendor_id == vendor_id))
    current = {k: getattr(profile, k) for k in PROFILE_FIELDS} if profile else {}
    try:
        parsed = VendorProfileIn.model_validate({**current, **changes})
    except ValidationError as e:
        raise Invalid(format_validation_error(e)) from None
    if profile is None:
        profile = VendorProfile(vendor_id=vendor_id)
        session.add(profile)
    for key in PROFILE_FIELDS:
        value = getattr(parsed, key)
        if key == "certifications":
            value = [c.model_dump(mode="json") for c in value]
        if getattr(profile, key, None) != value:
            setattr(profile, key, value)
    session.flush()
    return profile


def delete_profile(session: Session, *, vendor_id: int) -> None:
    session.delete(get_profile(session, vendor_id=vendor_id))
    session.flush()


def vendor_usage(
    session: Session, *, pairs: foreign.Pairs | None = None, with_assets: bool = True
) -> dict[int, dict[str, Any]]:
    """Per vendor: products in use, systems and CII systems using them, distinct assets (all / on CII).

    ``with_assets=False`` skips the distinct-asset scan when only systems matter (findings).
    """
    prods = foreign.products(session)
    sysmap = foreign.systems(session)
    out: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"products": set(), "systems": set(), "cii_systems": set(), "assets": 0, "cii_assets": 0}
    )
    for (sys_id, prod_id), _use in (pairs if pairs is not None else foreign.usage(session)).items():
        info = prods.get(prod_id)
        if info is None:
            continue
        u = out[info.vendor_id]
        u["products"].add(prod_id)
        if sys_id is not None:
            u["systems"].add(sys_id)
            if sysmap.get(sys_id, ("", False))[1]:
                u["cii_systems"].add(sys_id)
    if not with_assets:
        return out
    a, s, p, sy = inv.Asset, inv.Software, inv.Product, inv.System
    q = (
        select(p.vendor_id, sy.is_cii, func.count(func.distinct(a.id)))
        .select_from(s)
        .join(a, s.asset_id == a.id)
        .join(p, s.product_id == p.id)
        .outerjoin(sy, a.system_id == sy.id)
        .where(a.lifecycle_status != "retired")
        .group_by(p.vendor_id, sy.is_cii)
    )
    for vendor_id, is_cii, n in session.execute(q):
        out[vendor_id]["assets"] += n
        if is_cii:
            out[vendor_id]["cii_assets"] += n
    return out


def list_vendors(
    session: Session,
    *,
    domestic: bool | None = None,
    used_only: bool = False,
    pairs: foreign.Pairs | None = None,
) -> list[dict[str, Any]]:
    """The vendor register: identity, profile and how widely each vendor's products are used."""
    stmt = select(inv.Vendor).order_by(inv.Vendor.name)
    if domestic is not None:
        stmt = stmt.where(inv.Vendor.is_domestic == domestic)
    profiles = {p.vendor_id: p for p in session.scalars(select(VendorProfile))}
    use = vendor_usage(session, pairs=pairs)
    out = []
    for v in session.scalars(stmt):
        u = use.get(v.id)
        if used_only and not u:
            continue
        prof = profiles.get(v.id)
        out.append(
            {
                "id": v.id,
                "name": v.name,
                "country": v.country,
                "is_domestic": v.is_domestic,
                "products_in_use": len(u["products"]) if u else 0,
                "systems": len(u["systems"]) if u else 0,
                "cii_systems": len(u["cii_systems"]) if u else 0,
                "assets": u["assets"] if u else 0,
                "cii_assets": u["cii_assets"] if u else 0,
                "profile": VendorProfileRead.model_validate(prof).model_dump(mode="json") if prof else None,
            }
        )
    return out
