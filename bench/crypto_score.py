"""Benchmark: the 密评 score of one stored system (``crypto.assessment.describe``: units, test objects,
compensation, profile, pass/fail), the path of ``ciimap crypto assess show`` and the workspace page.

    .venv/bin/python bench/crypto_score.py [--objects 20] [--runs 50] [--pg URL]

Builds one level-4 assessment with every unit of the level (technical units with OBJECTS test objects
each, a quarter of them compensated by another object; management units with a result) in an empty
SQLite file (or the PostgreSQL database given), then times RUNS calls. Target (issue 13): < 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

TARGET_MS = 50.0


def build(url: str, objects: int) -> int:
    from ciimap.core.db import Database
    from ciimap.core.migrate import upgrade
    from ciimap.crypto import assessment
    from ciimap.crypto.schemas import AssessmentIn, ObjectIn, UnitIn
    from ciimap.inventory.models import System

    upgrade(url)
    db = Database(url)
    with db.unit_of_work() as s:
        sysm = System(name="bench-密评", mlps_level=4)
        s.add(sysm)
        s.flush()
        a = assessment.create(
            s, data=AssessmentIn(system_id=sysm.id, assessed_on=dt.date.today(), assessor="bench")
        )
        cover: int | None = None
        for i, u in enumerate(assessment.units_table(4)):
            if u["layer"] in ("管理制度", "人员管理", "建设运行", "应急处置"):
                data = UnitIn(layer=u["layer"], unit=u["unit"], result=("符合", "部分符合", "不符合")[i % 3])
            else:
                objs = [
                    ObjectIn(
                        name=f"对象{j}",
                        d=j % 7 != 0,
                        a=j % 3 != 0,
                        k=j % 5 != 0,
                        ra=(1.0, 0.5, 0.2)[j % 3],
                        covered_by=cover if (cover and j % 4 == 0) else None,
                    )
                    for j in range(objects)
                ]
                assessment.set_unit(
                    s, assessment_id=a["id"], data=UnitIn(layer=u["layer"], unit=u["unit"], objects=objs)
                )
                cover = cover or assessment.describe(s, assessment_id=a["id"])["units"][0]["objects"][0]["id"]
                continue
            assessment.set_unit(s, assessment_id=a["id"], data=data)
    db.engine.dispose()
    return int(a["id"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=20)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--pg", help="PostgreSQL URL (an empty database)")
    args = ap.parse_args()
    url = args.pg or f"sqlite:///{Path(tempfile.mkdtemp(prefix='crypto-score-')) / 'score.db'}"
    aid = build(url, args.objects)

    from ciimap.core.db import Database
    from ciimap.crypto import assessment

    db = Database(url)
    times = []
    for _ in range(args.runs):
        with db.read_session() as s:
            t = time.perf_counter()
            out = assessment.describe(s, assessment_id=aid)
            times.append((time.perf_counter() - t) * 1000)
    n_obj = sum(len(u["objects"]) for u in out["units"])
    p50, p95 = statistics.median(times), sorted(times)[int(0.95 * (len(times) - 1))]
    print(f"{len(out['units'])} units, {n_obj} test objects, total {out['score']['total']}")
    print(
        f"score of one system: p50 {p50:.1f} ms, p95 {p95:.1f} ms; target {TARGET_MS:.0f} ms: ratio p95 {p95 / TARGET_MS:.2f}"
    )


if __name__ == "__main__":
    main()
