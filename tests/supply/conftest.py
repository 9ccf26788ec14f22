"""A small hand-made map with domestic and foreign products, used by every supply-chain test."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ciimap.core.db import Database
from ciimap.inventory import models as m

EVIL = '=HYPERLINK("http://evil.example/x","点击")'
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def _same_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """The product's "today" is the day the tests computed their dates on, even across midnight."""
    from ciimap.supply import findings, plans

    monkeypatch.setattr(plans, "_today", lambda: TODAY)
    monkeypatch.setattr(findings, "_today", lambda: TODAY)


def _add(session: Any, obj: Any) -> Any:
    session.add(obj)
    session.flush()
    return obj


def build_map(db: Database) -> dict[str, int]:
    """Two systems (one CII), six vendors, assets with software, system software and an edge.

    Expected inventory for 调度系统 (CII): os = Windows (2 assets) + 麒麟 (1); security = Falcon (2);
    database = Oracle (1) + 达梦 (1); application = EvilApp via an edge. The retired asset is ignored.
    """
    ids: dict[str, int] = {}
    with db.unit_of_work() as s:
        cii = _add(s, m.System(name="调度系统", is_cii=True, mlps_level=3))
        office = _add(s, m.System(name="办公系统", is_cii=False, mlps_level=2))
        vendors = {
            "ms": m.Vendor(name="Microsoft", country="US", is_domestic=False, aliases=["微软"]),
            "oracle": m.Vendor(name="Oracle", country="US", is_domestic=False),
            "cs": m.Vendor(name="CrowdStrike", country="US", is_domestic=False),
            "kylin": m.Vendor(name="麒麟软件", country="CN", is_domestic=True),
            "dm": m.Vendor(name="达梦数据库", country="CN", is_domestic=True),
            "evil": m.Vendor(name=EVIL, country="US", is_domestic=False),
        }
        for k, v in vendors.items():
            ids[f"v_{k}"] = _add(s, v).id
        prods = {
            "win": m.Product(vendor_id=ids["v_ms"], name="Windows Server", layer="os"),
            "ora": m.Product(vendor_id=ids["v_oracle"], name="Oracle Database", layer="database"),
            "falcon": m.Product(
                vendor_id=ids["v_cs"],
                name="Falcon Sensor",
                layer="security",
                auto_update=True,
                update_privilege="kernel",
            ),
            "kylin": m.Product(vendor_id=ids["v_kylin"], name="银河麒麟服务器操作系统", layer="os"),
            "dm8": m.Product(vendor_id=ids["v_dm"], name="DM8", layer="database"),
            "evilapp": m.Product(vendor_id=ids["v_evil"], name="EvilApp", layer="application"),
        }
        for k, p in prods.items():
            ids[f"p_{k}"] = _add(s, p).id
        assets = {
            "a1": (cii.id, "active"),
            "a2": (cii.id, "active"),
            "a3": (cii.id, "active"),
            "a4": (office.id, "active"),
            "a5": (None, "active"),
            "a6": (cii.id, "retired"),
        }
        for k, (sys_id, life) in assets.items():
            ids[k] = _add(s, m.Asset(name=k, system_id=sys_id, lifecycle_status=life)).id
        installs = {
            "a1": ["win", "falcon"],
            "a2": ["win", "falcon", "ora"],
            "a3": ["kylin", "dm8"],
            "a4": ["win"],
            "a5": ["ora"],
            "a6": ["win"],
        }
        for a, plist in installs.items():
            for p in plist:
                ids[f"sw_{a}_{p}"] = _add(s, m.Software(asset_id=ids[a], product_id=ids[f"p_{p}"], name=p)).id
        ids["sw_office_ora"] = _add(
            s, m.Software(system_id=office.id, product_id=ids["p_ora"], name="ojdbc", kind="library")
        ).id
        _add(
            s,
            m.Edge(
                src_type="system", src_id=cii.id, kind="uses", dst_type="product", dst_id=ids["p_evilapp"]
            ),
        )
        ids["owner"] = _add(s, m.Contact(name="张工")).id
        ids["cii"], ids["office"] = cii.id, office.id
    return ids


@pytest.fixture
def supply_map(database: Database) -> dict[str, int]:
    return build_map(database)
