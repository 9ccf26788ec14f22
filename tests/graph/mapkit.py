"""A tiny builder for hand-made maps in graph tests (ORM objects, so the audit hooks run too)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ciimap.inventory import models as m


class Map:
    """Create map rows by short names; ``ids[name]`` gives the database id."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.obj: dict[str, Any] = {}

    def _add(self, key: str, obj: Any) -> Any:
        self.s.add(obj)
        self.s.flush()
        self.obj[key] = obj
        return obj

    def id(self, key: str) -> int:
        return int(self.obj[key].id)

    def vendor(self, name: str, **kw: Any) -> Any:
        return self._add(name, m.Vendor(name=name, **kw))

    def product(self, name: str, vendor: str, **kw: Any) -> Any:
        return self._add(name, m.Product(name=name, vendor_id=self.id(vendor), **kw))

    def site(self, name: str) -> Any:
        return self._add(name, m.Site(name=name))

    def zone(self, name: str, **kw: Any) -> Any:
        return self._add(name, m.NetworkZone(name=name, **kw))

    def system(self, name: str, **kw: Any) -> Any:
        return self._add(name, m.System(name=name, **kw))

    def service(self, name: str, **kw: Any) -> Any:
        return self._add(name, m.BusinessService(name=name, **kw))

    def asset(
        self,
        name: str,
        *,
        system: str | None = None,
        site: str | None = None,
        zone: str | None = None,
        software: list[str | tuple[str, str]] = (),
        **kw: Any,
    ) -> Any:
        a = self._add(
            name,
            m.Asset(
                name=name,
                hostname=name,
                system_id=self.id(system) if system else None,
                site_id=self.id(site) if site else None,
                zone_id=self.id(zone) if zone else None,
                **kw,
            ),
        )
        for sw in software:
            prod, ver = (sw, None) if isinstance(sw, str) else sw
            self.s.add(m.Software(asset_id=a.id, product_id=self.id(prod), name=prod, version=ver))
        self.s.flush()
        return a

    def need(self, src: str, dst: str, group: str | None = None, kind: str = "depends_on") -> Any:
        a, b = self.obj[src], self.obj[dst]
        return self._add(
            f"{src}->{dst}",
            m.Edge(
                src_type=_type(a),
                src_id=a.id,
                kind=kind,
                dst_type=_type(b),
                dst_id=b.id,
                redundancy_group=group,
            ),
        )


def _type(obj: Any) -> str:
    t = obj.__tablename__
    return "zone" if t == "network_zone" else t


def crowdstrike_map(s: Session) -> Map:
    """Payments (critical) needs Core (CII, L3) and, via 2 replicas, the Web system.

    Core runs on db1 and db2 (a replica set, so Core degrades on one loss); Web runs on web1 only.
    Every Windows host runs the Falcon agent (kernel auto-update). The HR service (low) needs HR on hr1.
    """
    mp = Map(s)
    mp.vendor("CrowdStrike", country="US")
    mp.vendor("Microsoft", country="US")
    mp.vendor("Kylin", country="CN", is_domestic=True)
    mp.product(
        "Falcon",
        "CrowdStrike",
        layer="security",
        auto_update=True,
        update_privilege="kernel",
        update_channel="falcon-content",
    )
    mp.product("Windows Server", "Microsoft", layer="os")
    mp.product("Kylin OS", "Kylin", layer="os")
    mp.site("DC1")
    mp.site("DC2")
    mp.system("Core", is_cii=True, mlps_level=3, criticality="critical")
    mp.system("Web", mlps_level=2, criticality="high")
    mp.system("HR", mlps_level=1, criticality="low")
    mp.service("Payments", criticality="critical")
    mp.service("HRsvc", criticality="low")
    mp.asset("db1", system="Core", site="DC1", software=[("Windows Server", "2019"), "Falcon"])
    mp.asset("db2", system="Core", site="DC2", software=["Kylin OS"])
    mp.need("db1", "db2", kind="replica_of")
    mp.asset("web1", system="Web", site="DC1", software=[("Windows Server", "2022"), "Falcon"])
    mp.asset("hr1", system="HR", site="DC2", software=["Kylin OS"])
    mp.need("Payments", "Core")
    mp.need("Payments", "Web")
    mp.need("HRsvc", "HR")
    return mp
