"""NetBox-style query-count baseline: every GET route of the API and every page, on both databases.

Each route is requested on a small map and on a map with three times the rows of everything. A
route must run the same number of SQL statements on both (a count that grows with the rows is an
N+1: a query per row), and no more than its entry in ``query_counts.json`` (a regression in the
constant part). A new route without an entry fails until it is measured. The counts are those of a
warm request (the second of two): caches such as the graph's make the first one differ.

Refresh the baseline after a deliberate change (and review the diff of the JSON file):

    CIIMAP_UPDATE_QUERY_BASELINE=1 .venv/bin/python -m pytest -q -n 0 -p no:xdist tests/structure/test_query_counts.py
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from ciimap.core import entity
from ciimap.core.db import Database
from ciimap.core.routes import iter_api_routes
from conftest import _empty, _settle, make_user
from structure import mapdata

BASELINE = Path(__file__).with_name("query_counts.json")
UPDATE = os.environ.get("CIIMAP_UPDATE_QUERY_BASELINE") == "1"
REFRESH = (
    "refresh the baseline with: CIIMAP_UPDATE_QUERY_BASELINE=1 .venv/bin/python -m pytest -q "
    "-p no:xdist tests/structure/test_query_counts.py (then review the diff of tests/structure/query_counts.json)"
)
PASSWORD = "correct-horse-1"
#: Rows per thing on the small map; the large map has SCALE times as many.
SMALL, SCALE = 2, 3

#: List routes whose answer must hold all 2 n rows of the seeded map (the comparison needs every row shown).
ROWS_SHOWN = {
    "/api/assets": lambda body: body["items"],
    "/api/software": lambda body: body["items"],
    "/api/vulns/findings": lambda body: body["items"],
    "/api/changes": lambda body: body["items"],
}

#: GET routes not counted here, with the reason.
SKIPPED = {
    "/api/ui/basemap": "returns the uploaded base-map file from the data directory: no database access",
    "/api/sitemap/basemap": "the base map's metadata file in the data directory: no database access",
    # list downloads read the whole list in batches (one batch of statements per 200-1,000 rows, by
    # design); their rows, filters and audit are tested in tests/web/test_list_export*.py
    "/entities/{name}/export": "a streamed list download: statements grow with rows / batch by design",
    **{
        f"/export/{name}": "a streamed list download: statements grow with rows / batch by design"
        for name in ("findings", "changes", "incidents", "alerts", "warnings")
    },
}


def _concrete(app: Any, first: dict[str, Any]) -> dict[str, list[str]]:
    """Every GET route pattern → the URLs that exercise it, path parameters filled from the seed."""
    specs = sorted(entity.REGISTRY)
    by_path: dict[str, list[str]] = {}
    special: dict[str, list[str]] = {
        "/api/jobs/{job_id}": [f"/api/jobs/{first['job']}"],
        "/api/runs/{run_id}": [f"/api/runs/{first['run']}"],
        "/api/assets/{asset_id}/why": [f"/api/assets/{first['assets']}/why"],
        "/api/scan-scopes/{name}": [f"/api/scan-scopes/{first['scope']}"],
        "/api/graph/impact": [f"/api/graph/impact?fail=system:{first['systems']}"],
        "/api/graph/impact/{kind}/{ref}": [f"/api/graph/impact/system/{first['systems']}"],
        "/api/graph/scenarios/compare": [
            f"/api/graph/scenarios/compare?a={first['scenario']}&b={first['scenario_b']}"
        ],
        "/api/graph/scenarios/{ref}": [f"/api/graph/scenarios/{first['scenario']}"],
        "/api/graph/scenarios/{ref}/rerun": [f"/api/graph/scenarios/{first['scenario']}/rerun"],
        "/api/graph/rollouts/preview": [f"/api/graph/rollouts/preview?product={first['product_names'][0]}"],
        "/api/graph/rollouts/{plan_id}": [f"/api/graph/rollouts/{first['rollout']}"],
        "/api/supply/vendors/{vendor_id}/profile": [f"/api/supply/vendors/{first['vendors']}/profile"],
        "/api/supply/plans/{plan_id}": [f"/api/supply/plans/{first['plan']}"],
        "/api/vulns/findings/{finding_id}": [f"/api/vulns/findings/{first['finding']}"],
        "/api/alerts/{alert_id}": [f"/api/alerts/{first['alert']}"],
        "/api/alerts/warnings/{warning_id}": [f"/api/alerts/warnings/{first['warning']}"],
        "/api/intel/indicators/{indicator_id}": [f"/api/intel/indicators/{first['indicator']}"],
        "/api/notify/attempts": ["/api/notify/attempts?subject=incident:1"],
        "/incidents/{incident_id}": [f"/incidents/{first['incident']}"],
        "/api/incidents/assess": ["/api/incidents/assess?reporter=cii&pi_leaked=1000000"],
        **{
            f"/api/incidents/{{incident_id}}{tail}": [f"/api/incidents/{first['incident']}{tail}"]
            for tail in (
                "",
                "/timeline",
                "/related",
                "/what-if",
                "/evidence",
                "/reports",
                "/reports/draft",
                "/submissions",
            )
        },  # fmt: skip
        "/api/incidents/evidence/{evidence_id}/file": [
            f"/api/incidents/evidence/{first['incident_evidence']}/file"
        ],
        "/api/incidents/reports/{report_id}/export": [
            f"/api/incidents/reports/{first['incident_report']}/export?fmt=docx"
        ],
        "/incidents/plans/{plan_id}": [f"/incidents/plans/{first['incident_plan']}"],
        "/incidents/drills/{drill_id}": [f"/incidents/drills/{first['incident_drill']}"],
        "/incidents/drills": ["/incidents/drills", f"/incidents/drills?system={first['system_ids'][0]}"],
        "/api/incidents/plans/{plan_id}": [f"/api/incidents/plans/{first['incident_plan']}"],
        "/api/incidents/plans/{plan_id}/check": [f"/api/incidents/plans/{first['incident_plan']}/check"],
        "/api/incidents/drills/scenarios": [
            "/api/incidents/drills/scenarios",
            f"/api/incidents/drills/scenarios?kind=ransomware&target={first['system_ids'][0]}",
        ],
        "/api/incidents/drills/{drill_id}": [f"/api/incidents/drills/{first['incident_drill']}"],
        "/api/incidents/drills/{drill_id}/score": [f"/api/incidents/drills/{first['incident_drill']}/score"],
        "/api/incidents/drills/{drill_id}/report": [
            f"/api/incidents/drills/{first['incident_drill']}/report?fmt=docx"
        ],
        "/api/alerts/console/groups/{group_id}": [f"/api/alerts/console/groups/{first['alert_group']}"],
        "/api/alerts/console/warnings/{warning_id}": [f"/api/alerts/console/warnings/{first['warning']}"],
        "/alerts/groups/{group_id}": [f"/alerts/groups/{first['alert_group']}"],
        "/warnings/{warning_id}": [f"/warnings/{first['warning']}"],
        "/intel/{indicator_id}": [f"/intel/{first['indicator']}"],
        "/api/compliance/gradings/{grading_id}": [f"/api/compliance/gradings/{first['grading']}"],
        "/api/crypto/assessments/{assessment_id}": [f"/api/crypto/assessments/{first['crypto_assessment']}"],
        "/api/crypto/assessments/{assessment_id}/report": [
            f"/api/crypto/assessments/{first['crypto_assessment']}/report"
        ],
        "/api/compliance/assessments/{assessment_id}": [f"/api/compliance/assessments/{first['assessment']}"],
        "/api/compliance/assessments/{assessment_id}/items": [
            f"/api/compliance/assessments/{first['assessment']}/items",
            f"/api/compliance/assessments/{first['assessment']}/items?result=unset",
        ],
        "/api/compliance/assessments/{assessment_id}/score": [
            f"/api/compliance/assessments/{first['assessment']}/score"
        ],
        "/api/compliance/results/{result_id}": [f"/api/compliance/results/{first['result']}"],
        "/api/compliance/evidence/{evidence_id}": [f"/api/compliance/evidence/{first['evidence']}"],
        "/api/compliance/rectifications/{rectification_id}": [
            f"/api/compliance/rectifications/{first['rectification']}"
        ],
        "/api/compliance/reports/{kind}/{ref_id}": [
            f"/api/compliance/reports/grading/{first['grading']}?format=docx",
            f"/api/compliance/reports/assessment/{first['assessment']}?format=xlsx",
            f"/api/compliance/reports/rectification/{first['systems']}?format=docx",
        ],
        "/api/compliance/conclude": ["/api/compliance/conclude?score=85&high_risks=0&medium_risks=1"],
        "/api/compliance/systems/{system_id}/evidence": [
            f"/api/compliance/systems/{first['systems']}/evidence"
        ],
        "/api/compliance/grade": [
            "/api/compliance/grade?s_object=rights&s_degree=especially_serious&a_object=order&a_degree=general"
        ],
        "/api/data/resources/{resource_id}": [f"/api/data/resources/{first['data_resource']}"],
        "/api/data/resources/{resource_id}/gradings": [
            f"/api/data/resources/{first['data_resource']}/gradings"
        ],
        "/api/data/grade": ["/api/data/grade?impact=national:general&impact=economy:serious"],
        "/api/data/at-risk": [f"/api/data/at-risk?system_id={first['systems']}"],
        "/api/data/register/export": [
            "/api/data/register/export?format=xlsx",
            "/api/data/register/export?format=docx",
        ],
        "/data/{resource_id}": [f"/data/{first['data_resource']}"],
        "/api/vulns/where": ["/api/vulns/where?q=CVE-2026-0000", "/api/vulns/where?q=pkg:generic/p1"],
        "/api/ui/topology/neighbours": [f"/api/ui/topology/neighbours?type=system&id={first['systems']}"],
        "/api/graph/topology/neighbours": [
            f"/api/graph/topology/neighbours?type=system&id={first['systems']}"
        ],
        "/api/ui/impact": [f"/api/ui/impact?type=system&id={first['systems']}"],
        "/api/graph/impact/export": [f"/api/graph/impact/export?fail=system:{first['systems']}&fmt=xlsx"],
        **{
            f"/api/{p}/topology/{r}": [u]
            for p in ("ui", "graph")
            for r, u in (
                ("cluster", f"/api/{p}/topology/cluster?id=cluster:{first['systems']}:{first['zones']}"),
                ("search", f"/api/{p}/topology/search?q=a"),
                (
                    "path",
                    f"/api/{p}/topology/path?src=system:{first['systems']}&dst=cluster:{first['systems']}:{first['zones']}",
                ),
            )
        },
        "/jobs/{job_id}/progress": [f"/jobs/{first['job']}/progress"],
        "/compliance/systems/{system_id}": [f"/compliance/systems/{first['systems']}"],
        "/crypto/systems/{system_id}": [f"/crypto/systems/{first['systems']}"],
        "/crypto/assessments/{assessment_id}": [f"/crypto/assessments/{first['crypto_assessment']}"],
        "/compliance/assessments/{assessment_id}": [f"/compliance/assessments/{first['assessment']}"],
        "/entities/{name}": [f"/entities/{s}" for s in specs],
        "/entities/{name}/new": [f"/entities/{s}/new" for s in specs],
        "/entities/{name}/{obj_id}": [f"/entities/{s}/{first[s]}" for s in specs],
        "/entities/{name}/{obj_id}/edit": [f"/entities/{s}/{first[s]}/edit" for s in specs],
    }
    for path, route in iter_api_routes(app):
        if "GET" not in route.methods or path in SKIPPED:
            continue
        if path in special:
            by_path[path] = special[path]
        elif m := re.fullmatch(r"/api/([a-z-]+)/\{obj_id\}", path):
            by_path[path] = [f"/api/{m.group(1)}/{first[m.group(1)]}"]
        elif "{" in path:
            by_path[path] = []  # reported as "no URL" by the test: add it to ``special``
        else:
            by_path[path] = [path]
    return by_path


class _Counter:
    def __init__(self) -> None:
        self.on = False
        self.n = 0

    def __call__(self, *args: Any) -> None:
        if self.on:
            self.n += 1


@contextmanager
def _counting(db: Database) -> Iterator[_Counter]:
    c = _Counter()
    event.listen(db.engine, "before_cursor_execute", c)
    try:
        yield c
    finally:
        event.remove(db.engine, "before_cursor_execute", c)


def _measure(
    app: Any, db: Database, n: int, only: set[str] | None = None
) -> tuple[dict[str, int], list[str]]:
    """Seed a map with ``n`` of everything; return {url: statements of a warm request} and the
    routes that have no URL to measure."""
    seeded = mapdata.build(db, n)
    headers = make_user(db, "qc-admin", "admin", PASSWORD)
    urls = _concrete(app, seeded.first)
    if only is not None:
        urls = {p: us for p, us in urls.items() if p in only}
    counts: dict[str, int] = {}
    with TestClient(app) as client, _counting(db) as counter:
        r = client.post("/login", data={"username": "qc-admin", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, r.text
        for url in sorted(u for us in urls.values() for u in us):
            kw: dict[str, Any] = {"headers": headers} if url.startswith("/api") else {}
            first = client.get(url, follow_redirects=False, **kw)
            assert first.status_code == 200, f"GET {url} -> {first.status_code}: {first.text[:300]}"
            counter.n, counter.on = 0, True
            try:
                again = client.get(url, follow_redirects=False, **kw)
            finally:
                counter.on = False
            assert again.status_code == 200, f"GET {url} -> {again.status_code}"
            counts[url] = counter.n
            if url in ROWS_SHOWN:  # the large map really shows more rows (else growth cannot show)
                assert len(ROWS_SHOWN[url](again.json())) == 2 * n, f"GET {url}: expected {2 * n} rows"
    return counts, sorted(p for p, us in urls.items() if not us)


def _key(url: str) -> str:
    """Baseline key: the URL with ids replaced by the parameter name's placeholder (stable across runs)."""
    return "GET " + re.sub(r"(?<=[/=:])\d+(?=/|$|\?|&)", "{id}", url)


def _load() -> dict[str, dict[str, int]]:
    """The baseline as {backend: {key: count}} (the file holds one number when both backends agree)."""
    raw = json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}
    out: dict[str, dict[str, int]] = {"sqlite": {}, "postgresql": {}}
    for key, v in raw.items():
        if key.startswith("_"):
            continue
        for backend in out:
            if isinstance(v, int):
                out[backend][key] = v
            elif backend in v:
                out[backend][key] = v[backend]
    return out


def _save(per_backend: dict[str, dict[str, int]]) -> None:
    keys = sorted(set(per_backend["sqlite"]) | set(per_backend["postgresql"]))
    raw: dict[str, Any] = {
        "_about": "SQL statements of one warm GET per route; see tests/structure/test_query_counts.py",
    }
    for k in keys:
        vals = {b: per_backend[b][k] for b in ("sqlite", "postgresql") if k in per_backend[b]}
        raw[k] = vals["sqlite"] if len(set(vals.values())) == 1 and len(vals) == 2 else vals
    BASELINE.write_text(json.dumps(raw, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _growth(small: dict[str, int], large: dict[str, int]) -> list[str]:
    """Routes whose statement count changed with the number of rows."""
    return [
        f"{k}: {small[k]} statements with {SMALL} of each row, {large[k]} with {SMALL * SCALE}"
        for k in sorted(small)
        if k in large and large[k] != small[k]
    ]


def _regressions(counts: dict[str, int], known: dict[str, int]) -> list[str]:
    """What is wrong against the baseline: routes without an entry, routes over their entry."""
    new = [f"{k}: {counts[k]} statements" for k in sorted(counts) if k not in known]
    more = [
        f"{k}: baseline {known[k]}, now {counts[k]}"
        for k in sorted(counts)
        if k in known and counts[k] > known[k]
    ]
    problems = []
    if new:
        problems.append(
            "routes without a baseline entry (new routes must be measured):\n  " + "\n  ".join(new)
        )
    if more:
        problems.append("routes that now run MORE statements than their baseline:\n  " + "\n  ".join(more))
    return problems


def _both_sizes(
    app: Any, db: Database, only: set[str] | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    small_urls, unmeasured = _measure(app, db, SMALL, only)
    assert not unmeasured, (
        f"GET routes with path parameters this test cannot fill: {unmeasured}; add them to _concrete's "
        f"'special' table in {__file__} (or to SKIPPED with a reason)"
    )
    _settle()
    _empty(db)
    large_urls, _ = _measure(app, db, SMALL * SCALE, only)
    return {_key(u): c for u, c in small_urls.items()}, {_key(u): c for u, c in large_urls.items()}


def test_query_counts_are_constant_and_within_baseline(app: Any, database: Database) -> None:
    backend = "sqlite" if database.is_sqlite else "postgresql"
    counts, large = _both_sizes(app, database)
    grows = _growth(counts, large)
    assert not grows, (
        f"[{backend}] statement counts that grow with the number of rows (an N+1 query?):\n  "
        + "\n  ".join(grows)
    )
    baseline = _load()
    if UPDATE:
        assert not os.environ.get("PYTEST_XDIST_WORKER"), (
            "refresh the baseline in one process: add -p no:xdist"
        )
        baseline[backend] = counts
        _save(baseline)
        return
    problems = _regressions(counts, baseline[backend])
    assert not problems, f"[{backend}] " + "\n".join(problems) + f"\nIf the change is deliberate, {REFRESH}"


def test_a_query_per_row_is_caught(app: Any, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself: a list route made to query once per row fails the size comparison."""
    from sqlalchemy import select

    from ciimap.discovery import service
    from ciimap.discovery.models import ScanScope

    original = service.list_scopes

    def one_query_per_row(session: Any) -> Any:
        rows = original(session)
        for row in rows:
            session.execute(select(ScanScope.name).where(ScanScope.id == row.id)).scalar()
        return rows

    monkeypatch.setattr(service, "list_scopes", one_query_per_row)
    small, large = _both_sizes(app, database, only={"/api/scan-scopes"})
    grows = _growth(small, large)
    assert grows == [
        f"GET /api/scan-scopes: {small['GET /api/scan-scopes']} statements with {SMALL} of each row, "
        f"{small['GET /api/scan-scopes'] + SMALL * (SCALE - 1)} with {SMALL * SCALE}"
    ]


def test_baseline_comparison_reports_new_and_costlier_routes() -> None:
    known = {"GET /a": 3, "GET /b": 5}
    assert _regressions({"GET /a": 3, "GET /b": 4}, known) == []  # fewer is fine
    problems = _regressions({"GET /a": 4, "GET /b": 5, "GET /c": 1}, known)
    assert len(problems) == 2
    assert "GET /c: 1 statements" in problems[0] and "without a baseline" in problems[0]
    assert "GET /a: baseline 3, now 4" in problems[1] and "GET /b" not in problems[1]


def test_baseline_file_covers_both_backends() -> None:
    """Every entry has a count for each backend (a number when both agree)."""
    loaded = _load()
    assert loaded["sqlite"] and set(loaded["sqlite"]) == set(loaded["postgresql"])
