"""Benchmark: reports (issue 12 target: the DOCX and the PDF report of one level-3 system < 5 s each).

Builds a level-3 system with ``--objects`` assets (default 5) in a fresh database, starts an assessment
with them as test objects (211 items × 5 objects = 1,055 item-result rows), fills every pair (a 不符合
with notes every seventh item), then times the assessment summary (the largest report) as DOCX, PDF
and XLSX, end to end: the queries, the document and the file bytes (library imports included in the
first run, so the first figure is the cold one a CLI call pays).

    .venv/bin/python bench/compliance_report.py                          # SQLite in a temp dir
    .venv/bin/python bench/compliance_report.py --pg-url postgresql+psycopg://...  # an empty database
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

TARGET_S = 5.0


def run(url: str, objects: int, repeat: int) -> None:
    from ciimap.compliance import assessment, reports
    from ciimap.compliance.schemas import AssessmentIn, BulkIn
    from ciimap.core.db import Database, set_database
    from ciimap.core.migrate import upgrade
    from ciimap.inventory import models as m

    upgrade(url)
    db = Database(url)
    set_database(db)
    with db.unit_of_work() as s:
        system = m.System(name="调度系统（基准）", code="BENCH3", mlps_level=3)
        s.add(system)
        s.flush()
        s.add_all(m.Asset(name=f"主机-{i:03d}", system_id=system.id) for i in range(objects))
        s.flush()
        aid = assessment.create_assessment(s, data=AssessmentIn(system_id=system.id, include_assets=True)).id
    with db.unit_of_work() as s:
        assessment.bulk_set(
            s, assessment_id=aid, data=BulkIn(result="pass", method="check", assessor="测评人")
        )
    with db.read_session() as s:
        item_ids = [r["id"] for r in assessment.items(s, assessment_id=aid)]
    with db.unit_of_work() as s:
        assessment.bulk_set(
            s,
            assessment_id=aid,
            data=BulkIn(result="fail", items=item_ids[::7], method="test", assessor="测评人"),
        )
    print(f"{url.split('://')[0]}: 211 items x {objects} objects, {len(item_ids[::7])} items failed")
    for fmt in ("docx", "pdf", "xlsx"):
        times, cpu = [], []
        size = 0
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            with db.read_session() as s:
                data, _name, _media = reports.render(s, kind="assessment", ref_id=aid, fmt=fmt)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            size = len(data)
        verdict = "ok" if max(times) < TARGET_S else "MISSED"
        runs = ", ".join(f"{x:.2f}" for x in times)
        cpus = ", ".join(f"{x:.2f}" for x in cpu)
        # CPU time too: on a shared machine the wall time says as much about the neighbours
        print(
            f"{fmt:<5} wall {runs} s, cpu {cpus} s ({size / 1024:.0f} KiB)  target < {TARGET_S:.0f} s: {verdict}"
        )
    db.engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg-url", help="an empty PostgreSQL database (default: SQLite in a temp dir)")
    ap.add_argument("--objects", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    if args.pg_url:
        run(args.pg_url, args.objects, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.objects, args.repeat)


if __name__ == "__main__":
    main()
