"""Vendor and product concentration: who relies on what, and who can push privileged code to how much.

"Relies on" means transitively needs (the node would fail or degrade if the vendor/product failed), so
the counts use the same dependency graph and semantics as the what-if impact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from ciimap.core.errors import Invalid
from ciimap.graph.build import CRIT, Graph, build_graph
from ciimap.graph.propagate import Propagation, propagate
from ciimap.graph.schemas import ConcentrationReport, ConcentrationRow, Finding
from ciimap.inventory.models import UPDATE_PRIVILEGE

#: Defaults (documented in docs/impact.md). Shares are fractions 0..1.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "cii_system_share_medium": 0.2,  # vendor/product relied on by >= 20% of CII systems -> medium
    "cii_system_share_high": 0.5,  # ... by >= 50% -> high
    "privileged_auto_update_cii_host_share": 0.1,  # auto-update with kernel (critical) / admin (high) rights
    "critical_services_min": 3,  # relied on by >= 3 high/critical business services -> medium
    "foreign_cii_system_share": 0.3,  # non-domestic vendor under >= 30% of CII systems -> medium
}
_PRIV = UPDATE_PRIVILEGE  # lowest first


def thresholds(overrides: dict[str, Any] | None) -> dict[str, float]:
    out = dict(DEFAULT_THRESHOLDS)
    for k, v in (overrides or {}).items():
        if k not in out:
            raise Invalid(f"unknown threshold '{k}' (known: {', '.join(out)})")
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            raise Invalid(f"threshold {k}: '{v}' is not a number") from None
    return out


def _row(g: Graph, prop: Propagation, totals: dict[str, int], **kw: Any) -> ConcentrationRow:
    seen = prop.failed | prop.degraded
    sysm = seen[g.mask("system")]
    ysl = g.mask("system")
    asl = g.mask("asset")
    cii_sys = int((sysm & g.cii[ysl]).sum())
    cii_hosts = int((seen[asl] & g.cii[asl]).sum())
    svc = g.mask("business_service")
    return ConcentrationRow(
        assets=int(seen[asl].sum()),
        systems=int(sysm.sum()),
        cii_systems=cii_sys,
        cii_system_share=round(cii_sys / totals["cii_systems"], 4) if totals["cii_systems"] else 0.0,
        cii_hosts=cii_hosts,
        cii_host_share=round(cii_hosts / totals["cii_hosts"], 4) if totals["cii_hosts"] else 0.0,
        critical_services=int((seen[svc] & (g.crit[svc] >= CRIT["high"])).sum()),
        systems_failed=int(prop.failed[ysl].sum()),
        cii_systems_failed=int((prop.failed[ysl] & g.cii[ysl]).sum()),
        critical_services_failed=int((prop.failed[svc] & (g.crit[svc] >= CRIT["high"])).sum()),
        **kw,
    )


def concentration(
    session: Session, *, overrides: dict[str, Any] | None = None, graph: Graph | None = None
) -> ConcentrationReport:
    """Per vendor and product: assets, systems, CII share, critical services, update rights; findings."""
    th = thresholds(overrides)
    g = graph or build_graph(session)
    totals = {
        "assets": len(g.ids["asset"]),
        "systems": len(g.ids["system"]),
        "cii_systems": int(g.cii[g.mask("system")].sum()),
        "cii_hosts": int(g.cii[g.mask("asset")].sum()),
        "critical_services": int((g.crit[g.mask("business_service")] >= CRIT["high"]).sum()),
    }
    products = []
    by_vendor: dict[int, list[dict[str, Any]]] = {}
    for pid, attrs in g.products.items():
        vid = int(attrs["vendor_id"])  # type: ignore[call-overload]
        by_vendor.setdefault(vid, []).append(attrs)
        i = g.index("product", pid)
        seen = propagate(g, np.array([i], np.int64))
        vname = _vendor_name(g, vid)
        products.append(
            _row(
                g,
                seen,
                totals,
                type="product",
                id=pid,
                name=str(attrs["name"]),
                vendor=vname,
                auto_update=bool(attrs["auto_update"]),
                update_privilege=str(attrs["update_privilege"]),
                update_channel=attrs["update_channel"],
            )
        )
    vendors = []
    for k, vid in enumerate(g.ids["vendor"].tolist()):
        i = g.start["vendor"] + k
        seen = propagate(g, np.array([i], np.int64))
        prods = by_vendor.get(vid, [])
        auto = [p for p in prods if p["auto_update"]]
        priv = max((_PRIV.index(str(p["update_privilege"])) for p in (auto or prods)), default=0)
        vendors.append(
            _row(
                g,
                seen,
                totals,
                type="vendor",
                id=vid,
                name=g.names["vendor"][k],
                is_domestic=g.vendor_domestic.get(vid),
                auto_update=bool(auto),
                update_privilege=_PRIV[priv],
            )
        )
    vendors.sort(key=lambda r: (-r.cii_systems, -r.assets, r.name))
    products.sort(key=lambda r: (-r.cii_systems, -r.assets, r.name))
    return ConcentrationReport(
        thresholds=th,
        totals=totals,
        vendors=vendors,
        products=products,
        findings=findings(vendors + products, th),
    )


def _vendor_name(g: Graph, vid: int) -> str | None:
    i = g.index("vendor", vid)
    return g.label(i) if i is not None else None


_SEV = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def findings(rows: list[ConcentrationRow], th: dict[str, float]) -> list[Finding]:
    """Apply the threshold rules to concentration rows; most severe first."""
    out: list[Finding] = []
    for r in rows:
        out.extend(_share_findings(r, th))
        if (
            r.type == "product"
            and r.auto_update
            and r.update_privilege in ("kernel", "admin")
            and r.cii_hosts
            and r.cii_host_share >= th["privileged_auto_update_cii_host_share"]
        ):
            sev = "critical" if r.update_privilege == "kernel" else "high"
            pct = round(r.cii_host_share * 100)
            out.append(
                _f(
                    sev,
                    "privileged_auto_update",
                    r,
                    r.cii_host_share,
                    th["privileged_auto_update_cii_host_share"],
                    f"{r.update_privilege}-level auto-update of {r.name} on {pct}% of CII hosts "
                    f"({r.cii_hosts})",
                    f"{r.name} 以{_zh_priv(r.update_privilege)}权限自动更新，覆盖 {pct}% 的关基主机（{r.cii_hosts} 台）",
                )
            )
        if r.critical_services >= th["critical_services_min"]:
            out.append(
                _f(
                    "medium",
                    "critical_services",
                    r,
                    r.critical_services,
                    th["critical_services_min"],
                    f"{r.critical_services} high/critical business services rely on {r.type} {r.name}",
                    f"{r.critical_services} 项重要/关键业务依赖 {r.name}",
                )
            )
    out.sort(key=lambda f: (_SEV[f.severity], -f.value, f.name))
    return out


def _share_findings(r: ConcentrationRow, th: dict[str, float]) -> list[Finding]:
    out = []
    share, pct = r.cii_system_share, round(r.cii_system_share * 100)
    if r.cii_systems and share >= th["cii_system_share_medium"]:
        high = share >= th["cii_system_share_high"]
        out.append(
            _f(
                "high" if high else "medium",
                "cii_system_share",
                r,
                share,
                th["cii_system_share_high" if high else "cii_system_share_medium"],
                f"{pct}% of CII systems ({r.cii_systems}) rely on {r.type} {r.name}; "
                f"{r.cii_systems_failed} would fail outright",
                f"{pct}% 的关基系统（{r.cii_systems} 个）依赖 {r.name}，其中 {r.cii_systems_failed} 个会直接中断",
            )
        )
    if (
        r.type == "vendor"
        and r.is_domestic is False
        and r.cii_systems
        and share >= th["foreign_cii_system_share"]
    ):
        out.append(
            _f(
                "medium",
                "foreign_dependency",
                r,
                share,
                th["foreign_cii_system_share"],
                f"foreign vendor {r.name} under {pct}% of CII systems",
                f"境外厂商 {r.name} 支撑 {pct}% 的关基系统",
            )
        )
    return out


def _zh_priv(p: str) -> str:
    return {"kernel": "内核级", "admin": "管理员"}.get(p, p)


def _f(sev: Any, rule: str, r: ConcentrationRow, value: float, threshold: float, en: str, zh: str) -> Finding:
    return Finding(
        severity=sev,
        rule=rule,
        type=r.type,
        id=r.id,
        name=r.name,
        message=en,
        message_zh=zh,
        value=float(value),
        threshold=float(threshold),
    )
