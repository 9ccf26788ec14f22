"""Supply-chain findings derived from vendor profiles and product usage on CII systems.

Each rule mirrors an obligation or lesson: contracts and confidentiality agreements with suppliers
(CII Regulation), controlled vendor remote maintenance, 网络安全审查 for products on CII systems, and
the 19 July 2024 outage (a foreign vendor able to push kernel-level content to many critical hosts).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.core.errors import NotFound
from ciimap.inventory import models as inv
from ciimap.supply import foreign, service
from ciimap.supply.models import VendorProfile

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
#: code -> (severity, 中文, English)
RULES: dict[str, tuple[str, str, str]] = {
    "no_profile": (
        "medium",
        "CII系统使用的厂商未建立供应商档案",
        "vendor used on CII systems has no profile",
    ),
    "contract_expired": ("medium", "合同已过期", "contract expired"),
    "contract_expiring": ("low", "合同将在90天内到期", "contract expires within 90 days"),
    "nda_missing": (
        "high",
        "有远程运维权限但未签订保密协议",
        "remote access without a confidentiality agreement",
    ),
    "nda_expired": (
        "high",
        "有远程运维权限但保密协议已过期",
        "remote access with an expired confidentiality agreement",
    ),
    "permanent_remote_cii": (
        "high",
        "对CII系统开通常驻远程运维",
        "permanent remote maintenance on CII systems",
    ),
    "remote_review_stale": (
        "medium",
        "远程运维权限超过一年未复核",
        "remote access not reviewed for over a year",
    ),
    "foreign_privileged_update_cii": (
        "high",
        "国外厂商可向CII资产自动推送内核级更新",
        "foreign vendor auto-updates CII assets with kernel privilege",
    ),
    "security_review_pending": (
        "high",
        "CII系统使用的产品网络安全审查未完成",
        "cybersecurity review not completed for products used on CII systems",
    ),
    "security_review_failed": (
        "critical",
        "CII系统使用的产品未通过网络安全审查",
        "products used on CII systems failed the cybersecurity review",
    ),
    "certificate_expired": ("low", "资质证书已过期", "a certification has expired"),
}
EXPIRY_WARNING_DAYS = 90
REVIEW_INTERVAL_DAYS = 365


def _finding(
    code: str, vendor: inv.Vendor, detail: dict[str, Any], severity: str | None = None
) -> dict[str, Any]:
    sev, zh, en = RULES[code]
    return {
        "code": code,
        "severity": severity or sev,
        "vendor_id": vendor.id,
        "vendor": vendor.name,
        "country": vendor.country,
        "is_domestic": vendor.is_domestic,
        "title_zh": zh,
        "title_en": en,
        "detail": detail,
    }


def _profile_findings(vendor: inv.Vendor, p: VendorProfile, cii: int, today: dt.date) -> list[dict[str, Any]]:
    out = []
    if p.contract_end and p.contract_end < today:
        out.append(
            _finding(
                "contract_expired",
                vendor,
                {"contract_end": str(p.contract_end)},
                "high" if p.remote_access != "none" else None,
            )
        )
    elif p.contract_end and (p.contract_end - today).days <= EXPIRY_WARNING_DAYS:
        out.append(_finding("contract_expiring", vendor, {"contract_end": str(p.contract_end)}))
    if p.remote_access != "none":
        if not p.nda_signed:
            out.append(_finding("nda_missing", vendor, {"remote_access": p.remote_access}))
        elif p.nda_expires and p.nda_expires < today:
            out.append(_finding("nda_expired", vendor, {"nda_expires": str(p.nda_expires)}))
        reviewed = p.remote_reviewed_on
        if reviewed is None or (today - reviewed).days > REVIEW_INTERVAL_DAYS:
            out.append(_finding("remote_review_stale", vendor, {"remote_reviewed_on": str(reviewed or "")}))
        if p.remote_access == "permanent" and cii:
            out.append(
                _finding("permanent_remote_cii", vendor, {"cii_systems": cii, "channel": p.remote_channel})
            )
    if cii and p.security_review in ("required", "pending"):
        out.append(
            _finding(
                "security_review_pending", vendor, {"security_review": p.security_review, "cii_systems": cii}
            )
        )
    elif cii and p.security_review == "failed":
        out.append(_finding("security_review_failed", vendor, {"cii_systems": cii}))
    expired = [
        c.get("name")
        for c in p.certifications or []
        if c.get("valid_until") and str(c["valid_until"]) < today.isoformat()
    ]
    if expired:
        out.append(_finding("certificate_expired", vendor, {"certifications": expired}))
    return out


def _privileged_updates(session: Session, pairs: foreign.Pairs) -> dict[int, list[dict[str, Any]]]:
    """Foreign auto-updating products with kernel privilege, with their CII assets (per vendor)."""
    prods = foreign.products(session)
    sysmap = foreign.systems(session)
    per: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for (sys_id, prod_id), use in pairs.items():
        info = prods.get(prod_id)
        if (
            info is None
            or info.is_domestic
            or not info.auto_update
            or info.update_privilege != "kernel"
            or sys_id is None
            or not sysmap.get(sys_id, ("", False))[1]
        ):
            continue
        row = per[info.vendor_id].setdefault(
            prod_id, {"product_id": prod_id, "product": info.name, "cii_assets": 0, "cii_systems": 0}
        )
        row["cii_assets"] += use.assets
        row["cii_systems"] += 1
    return {v: list(rows.values()) for v, rows in per.items()}


def _today() -> dt.date:
    return dt.date.today()


def findings(
    session: Session,
    *,
    today: dt.date | None = None,
    vendor_id: int | None = None,
    pairs: foreign.Pairs | None = None,
) -> list[dict[str, Any]]:
    """All findings, most severe first."""
    today = today or _today()
    if vendor_id is not None and session.get(inv.Vendor, vendor_id) is None:
        raise NotFound(f"vendor {vendor_id} does not exist")
    pairs = foreign.usage(session) if pairs is None else pairs
    use = service.vendor_usage(session, pairs=pairs, with_assets=False)
    profiles = {p.vendor_id: p for p in session.scalars(select(VendorProfile))}
    kernel = _privileged_updates(session, pairs)
    stmt = select(inv.Vendor).order_by(inv.Vendor.name)
    if vendor_id is not None:
        stmt = stmt.where(inv.Vendor.id == vendor_id)
    out: list[dict[str, Any]] = []
    for vendor in session.scalars(stmt):
        cii = len(use[vendor.id]["cii_systems"]) if vendor.id in use else 0
        prof = profiles.get(vendor.id)
        if prof is None and cii:
            out.append(_finding("no_profile", vendor, {"cii_systems": cii}))
        elif prof is not None:
            out.extend(_profile_findings(vendor, prof, cii, today))
        if vendor.id in kernel:
            rows = kernel[vendor.id]
            out.append(
                _finding(
                    "foreign_privileged_update_cii",
                    vendor,
                    {"products": rows, "cii_assets": sum(r["cii_assets"] for r in rows)},
                )
            )
    out.sort(key=lambda f: (SEVERITY_ORDER[f["severity"]], f["vendor"], f["code"]))
    return out
