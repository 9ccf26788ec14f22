"""Shared helpers for the vulnerability tests: real OSV subsets, the real SBOM, small map builders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ciimap.inventory.models import Asset, NetworkZone, ServiceEndpoint, Software, System

#: The shared data folder beside the checkout (nearest ancestor holding shared/data: a worktree may sit deeper).
SHARED = next(
    (p / "shared" / "data" for p in Path(__file__).resolve().parents if (p / "shared" / "data").is_dir()),
    Path(__file__).resolve().parents[2].parent / "shared" / "data",
)
DATA = Path(__file__).resolve().parents[1] / "data" / "vulns"
OSV = SHARED / "osv-pypi" / "vulns"
SBOM = SHARED / "sbom" / "python-app-sbom.cdx.json"
KEV_JSON = SHARED / "kev" / "known_exploited_vulnerabilities.json"
KEV_CSV = SHARED / "kev" / "known_exploited_vulnerabilities.csv"
SUBSET = ("jinja2", "pyyaml", "numpy", "sqlalchemy", "requests", "urllib3", "werkzeug", "flask", "salt")


def osv_subset(tmp: Path, packages: tuple[str, ...] = SUBSET) -> Path:
    """A copy of a few real package directories of the PyPI OSV database."""
    out = tmp / "osv"
    for p in packages:
        shutil.copytree(OSV / p, out / p)
    return out


def sbom_components() -> list[dict[str, Any]]:
    return json.loads(SBOM.read_text("utf-8"))["components"]


def sbom_system(s: Session, *, name: str = "payments", mlps: int = 3, cii: bool = True) -> System:
    """A system carrying the real python-app SBOM's components as Software rows."""
    system = System(name=name, mlps_level=mlps, is_cii=cii)
    s.add(system)
    s.flush()
    for c in sbom_components():
        s.add(
            Software(
                system_id=system.id, name=c["name"], version=c["version"], purl=c["purl"], kind="library"
            )
        )
    s.flush()
    return system


def asset(s: Session, name: str, *, internet: bool = False, system: System | None = None) -> Asset:
    zone = NetworkZone(
        name=f"zone-{name}", kind="dmz" if internet else "production", internet_facing=internet
    )
    s.add(zone)
    s.flush()
    a = Asset(name=name, zone_id=zone.id, system_id=system.id if system else None)
    s.add(a)
    s.flush()
    return a


def endpoint(s: Session, a: Asset, port: int, cpes: list[str], state: str = "open") -> ServiceEndpoint:
    e = ServiceEndpoint(asset_id=a.id, port=port, protocol="tcp", state=state, cpes=cpes)
    s.add(e)
    s.flush()
    return e
