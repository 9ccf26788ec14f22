"""Rebuild the demo's bundled advisory slice (src/ciimap/demo/data/advisories/) from the real feeds.

Keeps only what matches the demo's software: the PyPI OSV records (unchanged files) whose ranges or
version lists contain a version the demo installs, and the CISA KEV entries whose CVE is an alias of
a bundled advisory (same catalogue header, ``count`` set to the slice's size).

    .venv/bin/python scripts/demo_advisories.py [/path/to/shared/data]   # default: ../shared/data
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml

from ciimap.demo.catalog_tech import PYPI_PINS, VULNERABLE
from ciimap.vulns import versions as V
from ciimap.vulns.feeds.osv import to_record

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src/ciimap/demo/data/advisories"


def demo_pypi() -> dict[str, set[str]]:
    """PyPI package → every version the demo may install (vulnerable and fixed ones)."""
    out: dict[str, set[str]] = {name: {v} for name, v in PYPI_PINS}
    for key in ("django", "requests"):
        out[key] = set(VULNERABLE[key])
    return out


def matches(doc: dict, wanted: dict[str, set[str]]) -> bool:
    rec = to_record(doc, {"skipped_git_ranges": 0, "skipped_other_ranges": 0})
    if rec.withdrawn:
        return False
    for r in rec.ranges:
        if r["ecosystem"] != "pypi" or r["package"] not in wanted:
            continue
        for v in wanted[r["package"]]:
            if r["range_type"] == "EXPLICIT":
                if V.canonical("pypi", v) in r["versions_canonical"]:
                    return True
            elif V.in_interval(
                "pypi",
                v,
                introduced=r["introduced"],
                fixed=r["fixed"],
                last_affected=r["last_affected"],
                limit=r["limit"],
            ):
                return True
    return False


def main(shared: Path) -> None:
    wanted = demo_pypi()
    osv_out = OUT / "osv"
    for old in osv_out.glob("PYSEC-*.yaml"):
        old.unlink()
    aliases: set[str] = set()
    kept = 0
    for name in sorted(wanted):
        for f in sorted((shared / "osv-pypi/vulns" / name).glob("*.yaml")):
            doc = yaml.safe_load(f.read_text(encoding="utf-8"))
            if matches(doc, wanted):
                shutil.copyfile(f, osv_out / f.name)
                aliases.update(a for a in [doc["id"], *(doc.get("aliases") or [])] if a.startswith("CVE-"))
                kept += 1
    for f in osv_out.glob("*.json"):  # the hand-transcribed non-PyPI records
        doc = json.loads(f.read_text(encoding="utf-8"))
        aliases.update(a for a in [doc["id"], *(doc.get("aliases") or [])] if a.startswith("CVE-"))
    kev = json.loads((shared / "kev/known_exploited_vulnerabilities.json").read_text(encoding="utf-8"))
    kev["vulnerabilities"] = [v for v in kev["vulnerabilities"] if v["cveID"] in aliases]
    kev["count"] = len(kev["vulnerabilities"])
    (OUT / "kev").mkdir(exist_ok=True)
    (OUT / "kev/known_exploited_vulnerabilities.json").write_text(
        json.dumps(kev, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(
        f"osv: {kept} PyPI records; kev: {kev['count']} entries ({', '.join(v['cveID'] for v in kev['vulnerabilities'])})"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")  # as tests/conftest.py
