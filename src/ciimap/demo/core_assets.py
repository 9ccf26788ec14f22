"""The redundant heart of each system: app clusters, database primary/standby pairs, RAC platforms,
hypervisor and Kubernetes clusters, core switches and the internet edge.

Each system ``runs_on`` its core assets through edges that share a ``redundancy_group`` (see
docs/architecture.md, "Dependency semantics"), so impact analysis can tell *degraded* (one node of
a pair down) from *failed* (all down). A standby also has a ``replica_of`` edge to its primary.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ciimap.demo import profiles as pf

if TYPE_CHECKING:
    from ciimap.demo.assets import AssetStream
    from ciimap.demo.stacks import Port, Soft

LINUX = (pf.RHEL, pf.KYLIN, pf.CENTOS)

DB_STACKS = {
    "oracle_db": ("Oracle Database", "19.3.0.0", 1521, "oracle-tns"),
    "dm8": ("达梦数据库管理系统 DM8", "8.1.2.128", 5236, "dmdb"),
    "mysql": ("MySQL", "5.7.38", 3306, "mysql"),
    "kingbase": ("KingbaseES", "V008R006C005", 54321, "kingbase"),
}


def cluster_count(scale: int, kinds: tuple[str, ...], per: int, minimum: int) -> int:
    share = sum(p.weight for p in pf.PROFILES if p.kind in kinds) / pf.TOTAL_WEIGHT
    return max(minimum, math.ceil(scale * share / per))


def _site(stream: AssetStream, zone: str) -> tuple[int | None, str]:
    plan = stream.plan
    if zone.startswith("line_ot:"):
        return plan.stations[int(zone.split(":")[1])][0]
    if zone.startswith("depot"):
        return plan.depots[0]
    if zone == "video":
        return plan.sites["occ"]
    site_id = plan.zones[zone].site_id
    return next(((sid, code) for sid, code in plan.sites.values() if sid == site_id), plan.sites["dc"])


def _server(
    stream: AssetStream,
    code: str,
    zone: str,
    role: str,
    role_zh: str,
    stack: str = "server",
    db: str | None = None,
    windows: bool = False,
) -> int:
    site_id, site_code = _site(stream, zone)
    os = pf.WINSRV if windows else stream.rnd.choice(LINUX)
    soft: tuple[Soft, ...] = ()
    ports: tuple[Port, ...] = ()
    if db:
        name, version, port, service = _db(db)
        soft = ((db, name, version, "installed", None),)
        ports = ((port, "tcp", service, name, version, db, "probed"),)
    return stream.asset(
        kind="server",
        zone=zone,
        site_id=site_id,
        site_code=site_code,
        role=role,
        role_zh=role_zh,
        os=os,
        hw=stream.rnd.choice(pf.SERVERS),
        system=code,
        stack=stack,
        criticality="high",
        dept="信息中心",
        extra_soft=soft,
        extra_ports=ports,
    )


def _db(key: str) -> tuple[str, str, int, str]:
    return DB_STACKS[key]


def _group(stream: AssetStream, code: str, ids: list[int], label: str, roles: list[str]) -> None:
    sid = stream.plan.systems[code]["id"]
    for aid, role in zip(ids, roles, strict=True):
        stream._edge("system", sid, "runs_on", "asset", aid, f"{code}-{label}", role)


def _db_pair(stream: AssetStream, code: str, zone: str, db: str, cii: bool) -> None:
    primary = _server(stream, code, zone, "db", "数据库主库", db=db)
    standby = _server(stream, code, "bcc_prod" if cii else zone, "db", "数据库备库", db=db)
    _group(stream, code, [primary, standby], "数据库主备", ["主库", "备库(灾备中心)" if cii else "备库"])
    stream._edge("asset", standby, "replica_of", "asset", primary, None, "数据库复制")


def _system(stream: AssetStream, code: str, row: dict) -> None:
    pattern, zone, cii = row["pattern"], row["zone"], row["is_cii"]
    windows = code in ("BAS", "CLOCK", "BCAST")
    if pattern in ("it", "shared", "ot"):
        zone_app = zone
        label = "服务器冗余" if pattern == "ot" else "应用集群"
        apps = [_server(stream, code, zone_app, "app", "应用服务器", windows=windows) for _ in range(2)]
        _group(stream, code, apps, label, ["节点1", "节点2"])
        if pattern == "it":
            _db_pair(
                stream,
                code,
                zone if zone not in ("video", "mgmt") else "prod",
                "kingbase" if stream.rnd.random() < 0.4 else "mysql",
                cii,
            )
    elif pattern == "web":
        webs = [_server(stream, code, "dmz", "web", "Web服务器", stack="web") for _ in range(2)]
        _group(stream, code, webs, "Web集群", ["节点1", "节点2"])
        _db_pair(stream, code, "prod", "mysql", cii)
    elif pattern == "dbp":
        db = "oracle_db" if code == "DBP-ORA" else "dm8"
        nodes = [_server(stream, code, "prod", "rac", "数据库集群节点", db=db) for _ in range(2)]
        standby = _server(stream, code, "bcc_prod", "db", "灾备数据库", db=db)
        _group(stream, code, [*nodes, standby], "数据库集群", ["RAC节点1", "RAC节点2", "Data Guard 备库"])
        stream._edge("asset", standby, "replica_of", "asset", nodes[0], None, "Data Guard 复制")
    elif pattern == "net":
        sw = [_switch(stream, code, "mgmt", "核心交换机") for _ in range(2)]
        _group(stream, code, sw, "核心交换冗余", ["主", "备"])


def _switch(stream: AssetStream, code: str, zone: str, role_zh: str) -> int:
    site_id, site_code = _site(stream, zone)
    return stream.asset(
        kind="network_device",
        zone=zone,
        site_id=site_id,
        site_code=site_code,
        role="core",
        role_zh=role_zh,
        os=None,
        hw=pf.SWITCHES[0],
        system=code,
        stack="net",
        criticality="critical",
        dept="信息中心",
    )


def _clusters(stream: AssetStream) -> None:
    scale = stream.plan.scale
    for c in range(cluster_count(scale, ("vm",), 300, 2)):
        hosts = [_esx(stream) for _ in range(4)]
        stream.hosts.append(hosts)
        _group(stream, "CLOUD", hosts, f"vSphere集群{c + 1:03d}", [f"主机{i + 1}" for i in range(4)])
    for c in range(cluster_count(scale, ("container",), 1500, 1)):
        nodes = [_server(stream, "CLOUD", "cloud", "k8s", "容器节点") for _ in range(3)]
        stream.nodes.append(nodes)
        _group(stream, "CLOUD", nodes, f"k8s{c + 1:02d}", [f"节点{i + 1}" for i in range(3)])


def _esx(stream: AssetStream) -> int:
    site_id, site_code = _site(stream, "cloud")
    return stream.asset(
        kind="server",
        zone="cloud",
        site_id=site_id,
        site_code=site_code,
        role="esx",
        role_zh="虚拟化主机",
        os=pf.ESXI,
        hw=stream.rnd.choice(pf.SERVERS),
        system="CLOUD",
        stack="net",
        criticality="critical",
        dept="信息中心",
        extra_ports=((902, "tcp", "vmware-auth", "VMware Authentication Daemon", None, None, "probed"),),
    )


def _edge_routers(stream: AssetStream) -> None:
    site_id, site_code = _site(stream, "internet")
    ids = [
        stream.asset(
            kind="network_device",
            zone="internet",
            site_id=site_id,
            site_code=site_code,
            role="border",
            role_zh="互联网出口路由器",
            os=None,
            hw=pf.SWITCHES[2],
            system="DCN",
            stack="net",
            criticality="critical",
            dept="信息中心",
        )
        for _ in range(2)
    ]
    _group(stream, "DCN", ids, "互联网出口", ["电信线路", "联通线路"])
    fws = [
        stream.asset(
            kind="security_appliance",
            zone="internet",
            site_id=site_id,
            site_code=site_code,
            role="fw",
            role_zh="边界防火墙",
            os=pf.FIRMWARE,
            hw=pf.SECURITY[2],
            system="DCN",
            stack="sec",
            criticality="critical",
            dept="网络安全部",
        )
        for _ in range(2)
    ]
    _group(stream, "DCN", fws, "边界防火墙", ["主", "备"])


def build_core(stream: AssetStream) -> None:
    """Append every core asset and its edges to the stream's current chunk."""
    for code, row in stream.plan.systems.items():
        _system(stream, code, row)
    _clusters(stream)
    _edge_routers(stream)
