"""Software and listening services per asset stack (the ``stack`` of a profile).

Each function returns ``(software, endpoints)`` as partial rows: software is
``(product key | None, name, version, kind, purl | None)``, endpoints are
``(port, protocol, service name, product, version, product key for the CPE | None, method)``.
Some versions are deliberately old and vulnerable so vulnerability matching has real hits.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ciimap.demo.catalog_tech import AGENT, PYPI_PINS, VULNERABLE

Soft = tuple[str | None, str, str, str, str | None]
Port = tuple[int, str, str, str | None, str | None, str | None, str]
Stack = tuple[list[Soft], list[Port]]

AGENT_VERSIONS = ("7.11.18110", "7.11.18209", "7.10.17706")
#: Share of Windows hosts with the auto-updating endpoint agent.
AGENT_SHARE = 0.9

WIN_PORTS: list[Port] = [
    (135, "tcp", "msrpc", "Microsoft Windows RPC", None, None, "probed"),
    (445, "tcp", "microsoft-ds", None, None, None, "table"),
    (3389, "tcp", "ms-wbt-server", "Microsoft Terminal Services", None, None, "probed"),
]
SSH: Port = (22, "tcp", "ssh", "OpenSSH", "7.4", None, "probed")


def _v(rnd: random.Random, key: str, bad: float) -> str:
    vulnerable, fixed = VULNERABLE[key]
    return vulnerable if rnd.random() < bad else fixed


def _agent(rnd: random.Random, share: float = AGENT_SHARE) -> list[Soft]:
    if rnd.random() >= share:
        return []
    return [(AGENT, "Falconridge Sentinel Endpoint Agent", rnd.choice(AGENT_VERSIONS), "installed", None)]


def win_ws(rnd: random.Random) -> Stack:
    soft = _agent(rnd)
    if rnd.random() < 0.8:
        soft.append(("wps", "WPS Office", "11.1.0.14309", "installed", None))
    return soft, list(WIN_PORTS)


def xc_ws(rnd: random.Random) -> Stack:
    return (
        [
            ("tianqing", "天擎终端安全管理系统", "10.0.0.3000", "installed", None),
            ("wps", "WPS Office for Linux", "11.1.0.11704", "installed", None),
        ],
        [SSH],
    )


def hmi(rnd: random.Random) -> Stack:
    soft = _agent(rnd, 0.85)
    soft.append(("wincc", "SIMATIC WinCC", rnd.choice(("7.4 SP1", "7.5 SP2")), "installed", None))
    return soft, list(WIN_PORTS[:2]) + [
        (4840, "tcp", "opcua-tcp", "Siemens OPC UA Server", None, "wincc", "probed")
    ]


def afc(rnd: random.Random) -> Stack:
    return _agent(rnd), [WIN_PORTS[1]]


def plc(rnd: random.Random) -> Stack:
    if rnd.random() < 0.5:
        return [], [(102, "tcp", "iso-tsap", "Siemens S7 PLC", None, None, "probed")]
    return [], [(502, "tcp", "modbus", "Modbus TCP", None, None, "probed")]


def cam(rnd: random.Random) -> Stack:
    return [], [
        (80, "tcp", "http", "Hikvision IP camera httpd", None, None, "probed"),
        (554, "tcp", "rtsp", None, None, None, "table"),
        (8000, "tcp", "http-alt", None, None, None, "table"),
    ]


def _java(rnd: random.Random) -> Stack:
    tomcat = _v(rnd, "tomcat", 0.3)
    log4j = _v(rnd, "log4j", 0.15)
    return (
        [
            ("tomcat", "Apache Tomcat", tomcat, "installed", f"pkg:generic/apache-tomcat@{tomcat}"),
            (
                "log4j",
                "log4j-core",
                log4j,
                "library",
                f"pkg:maven/org.apache.logging.log4j/log4j-core@{log4j}",
            ),
        ],
        [(8080, "tcp", "http", "Apache Tomcat", tomcat, "tomcat", "probed")],
    )


def _openssl(rnd: random.Random) -> Soft:
    v = _v(rnd, "openssl", 0.25)
    return ("openssl", "openssl", v, "library", f"pkg:generic/openssl@{v}")


def server(rnd: random.Random, windows: bool) -> Stack:
    if windows:
        soft, ports = _agent(rnd), list(WIN_PORTS)
        if rnd.random() < 0.3:
            soft.append(("mssql", "Microsoft SQL Server", "15.0.2000.5", "installed", None))
            ports.append(
                (1433, "tcp", "ms-sql-s", "Microsoft SQL Server 2019", "15.00.2000", "mssql", "probed")
            )
        return soft, ports
    soft, ports = [_openssl(rnd)], [SSH]
    if rnd.random() < 0.5:
        js, jp = _java(rnd)
        soft += js
        ports += jp
    return soft, ports


def pod(rnd: random.Random) -> Stack:
    soft = [_openssl(rnd)]
    ports: list[Port] = []
    if rnd.random() < 0.6:
        js, jp = _java(rnd)
        soft += js
        ports += jp
    return soft, ports


def web(rnd: random.Random) -> Stack:
    v = _v(rnd, "nginx", 0.3)
    return (
        [("nginx", "nginx", v, "installed", f"pkg:generic/nginx@{v}"), _openssl(rnd)],
        [
            SSH,
            (80, "tcp", "http", "nginx", v, "nginx", "probed"),
            (443, "tcp", "https", "nginx", v, "nginx", "probed"),
        ],
    )


def pyapp(rnd: random.Random) -> Stack:
    soft: list[Soft] = [_openssl(rnd)]
    for key in ("django", "requests"):
        v = _v(rnd, key, 0.5)
        soft.append((key, key, v, "library", f"pkg:pypi/{key}@{v}"))
    for name, v in PYPI_PINS:
        if rnd.random() < 0.5:
            soft.append((None, name, v, "library", f"pkg:pypi/{name}@{v}"))
    return soft, [SSH, (8000, "tcp", "http", "gunicorn", "19.9.0", None, "probed")]


def net(rnd: random.Random) -> Stack:
    return [], [
        SSH,
        (161, "udp", "snmp", "SNMPv3 server", None, None, "probed"),
        (443, "tcp", "https", None, None, None, "table"),
    ]


def sec(rnd: random.Random) -> Stack:
    return [], [(443, "tcp", "https", None, None, None, "probed"), SSH]


def stor(rnd: random.Random) -> Stack:
    return [], [
        (443, "tcp", "https", "OceanStor DeviceManager", None, None, "probed"),
        (3260, "tcp", "iscsi", None, None, None, "table"),
    ]


STACKS: dict[str, Callable[[random.Random], Stack]] = {
    "win_ws": win_ws,
    "xc_ws": xc_ws,
    "hmi": hmi,
    "afc": afc,
    "plc": plc,
    "cam": cam,
    "pod": pod,
    "web": web,
    "pyapp": pyapp,
    "net": net,
    "sec": sec,
    "stor": stor,
}


def stack_for(name: str, rnd: random.Random, windows: bool) -> Stack:
    if name == "server":
        return server(rnd, windows)
    return STACKS[name](rnd)
