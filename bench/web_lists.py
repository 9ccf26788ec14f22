"""Every entity list page at 1M assets: server-side p95 over N requests per page vs 300 ms.

    .venv/bin/python bench/web_lists.py --scale 20000          # quick
    .venv/bin/python bench/web_lists.py                        # 1,000,000 assets (slow to load)
    .venv/bin/python bench/web_lists.py --db sqlite:////path/to/existing.db

Each page is requested through the ASGI app in-process (TestClient, a logged-in session): first page,
a filtered page, a search and a keyset "next" page — everything the list handler does, no browser.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

BASELINE_MS = 300.0
#: Substring searches: frequent in the demo (a third of the hostnames hold "app"), rare (one asset
#: number), Chinese (a third of the names hold "服务器") and a miss.
SUBSTRINGS = ("app", "0012345", "服务器", "zzq")
#: The list pages that are not entity lists (their own services, offset paging).
OTHER_LISTS = ("/findings", "/changes", "/incidents", "/alerts", "/warnings", "/data")
PASSWORD = "bench-password"


def load(url: str | None, scale: int) -> None:
    d = tempfile.mkdtemp(prefix="ciimap-bench-lists-")
    os.environ["CIIMAP_DATA_DIR"] = d
    os.environ["CIIMAP_DATABASE_URL"] = url or f"sqlite:///{d}/bench.db"
    from ciimap.core.migrate import upgrade
    from ciimap.registry import load_all

    load_all()
    upgrade()
    if url is None:
        from ciimap.demo.service import load_demo

        t0 = time.perf_counter()
        load_demo(scale=scale, seed=42)
        print(f"demo operator loaded: {scale:,} assets in {time.perf_counter() - t0:.0f}s")
    from ciimap.auth import service as auth
    from ciimap.core.db import get_database

    with get_database().unit_of_work() as s:
        try:
            auth.get_user(s, "bench-lists")
        except Exception:
            auth.create_user(s, username="bench-lists", password=PASSWORD, role="auditor")


def urls(client: object) -> list[tuple[str, str]]:
    """(label, url) per entity: plain, filtered, searched and second (keyset) page."""
    import re

    from ciimap.core import entity

    out = []
    for name, spec in entity.REGISTRY.items():
        base = f"/entities/{name}"
        out.append((f"{name}", base))
        first = client.get(base).text  # type: ignore[attr-defined]
        nxt = re.search(r'href="\?([^"]*after=\d+[^"]*)"', first)
        if nxt:
            out.append((f"{name} next page", base + "?" + nxt.group(1).replace("&amp;", "&")))
        if spec.search:
            out.append((f"{name} search", base + "?q=a"))  # one character: a prefix search
            for q in SUBSTRINGS:  # three or more: the trigram index (FTS5 / pg_trgm)
                out.append((f"{name} q={q}", f"{base}?q={q}"))
        for key, typ in spec.filters.items():
            if typ is bool:
                out.append((f"{name} {key}=true", f"{base}?{key}=true"))
                break
            if typ is str and key in ("kind", "lifecycle_status", "layer", "state"):
                val = {
                    "kind": "server" if name == "assets" else "",
                    "lifecycle_status": "missing",
                    "layer": "database",
                    "state": "open",
                }.get(key) or ""
                if val:
                    out.append((f"{name} {key}={val}", f"{base}?{key}={val}"))
                    break
    out += [(f"{u} (other list)", u) for u in OTHER_LISTS]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="reuse this database URL (already loaded)")
    ap.add_argument("--scale", type=int, default=1_000_000, help="demo assets when --db is not given")
    ap.add_argument("-n", type=int, default=20, help="requests per page")
    a = ap.parse_args()
    load(a.db, a.scale)
    from fastapi.testclient import TestClient

    from ciimap.app import create_app

    client = TestClient(create_app())
    r = client.post("/login", data={"username": "bench-lists", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    worst = 0.0
    print(f"{'page':45} {'p50 ms':>8} {'p95 ms':>8} {'vs 300 ms':>10}")
    for label, url in urls(client):
        times = []
        for _ in range(a.n):
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (url, resp.status_code)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        worst = max(worst, p95)
        print(f"{label:45} {statistics.median(times):8.1f} {p95:8.1f} {p95 / BASELINE_MS:9.0%}")
    print(
        f"worst p95 {worst:.1f} ms = {worst / BASELINE_MS:.0%} of the 300 ms budget "
        f"({'PASS' if worst < BASELINE_MS else 'FAIL'}); load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
