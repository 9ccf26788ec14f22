"""Benchmark: dependency graph build, vendor what-if, SPOF of all critical services, peak memory.

    .venv/bin/python bench/graph.py --scale 20000          # quick
    .venv/bin/python bench/graph.py                          # 1,000,000 assets (the issue's target)

Loads ``ciimap demo --scale N --seed 1`` into a SQLite file (once, in a child process so its memory
does not count), then measures ciimap's graph code, then the same computations on plain networkx
(DiGraph built from the same needs; the same propagation and killer-set algorithms written against
networkx adjacency) in the same run, and prints the ratios.
Targets: vendor impact < 1 s, SPOF for all critical services < 30 s, peak RSS < 2 GB.
"""

from __future__ import annotations

import argparse
import collections
import gc
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_demo(url: str, scale: int) -> None:
    from sqlalchemy import text

    from ciimap.core.db import Database
    from ciimap.core.migrate import upgrade

    upgrade(url)
    db = Database(url)
    with db.read_session() as s:
        n = s.execute(text("SELECT COUNT(*) FROM asset")).scalar()
    db.engine.dispose()
    if n:
        print(f"map present: {n:,} assets")
        return
    t = time.perf_counter()
    code = (
        "import sys; from ciimap.core.db import Database, set_database; set_database(Database(sys.argv[1])); "
        "from ciimap.demo.service import load_demo; r = load_demo(scale=int(sys.argv[2]), seed=1); "
        "print(r['counts'])"
    )
    subprocess.run([sys.executable, "-c", code, url, str(scale)], check=True)
    print(f"demo loaded in {time.perf_counter() - t:.1f} s (not part of the figures)")


def pick_vendor(g) -> tuple[str, str]:  # noqa: ANN001
    """The endpoint-security-style vendor: kernel auto-update product on the most hosts, else the largest."""
    from ciimap.graph.propagate import reach

    best = None
    for pid, a in g.products.items():
        if a["auto_update"] and a["update_privilege"] == "kernel":
            n = int(reach(g, np.array([g.index("product", pid)]))[g.mask("asset")].sum())
            if best is None or n > best[0]:
                best = (n, a["vendor_id"])
    if best is None:
        counts = np.diff(g.rev_ptr)[g.mask("vendor")]
        vid = int(g.ids["vendor"][int(np.argmax(counts))])
    else:
        vid = int(best[1])
    return "vendor", str(vid)


def ours(url: str) -> tuple[dict, object, tuple[str, str]]:
    from ciimap.core.db import Database
    from ciimap.graph.build import build_graph, clear_cache
    from ciimap.graph.concentration import concentration
    from ciimap.graph.impact import impact
    from ciimap.graph.rollout import propose
    from ciimap.graph.spof import spof_report

    db = Database(url)
    out = {}
    with db.read_session() as s:
        t = time.perf_counter()
        g = build_graph(s, use_cache=False)
        out["build_s"] = time.perf_counter() - t
        print(
            f"graph: {g.n:,} nodes, {len(g.group_parent):,} need-groups, {len(g.members):,} member links; "
            f"built in {out['build_s']:.2f} s"
        )
        t = time.perf_counter()
        build_graph(s)  # builds again and writes the shared store (ciimap.graph.store)
        out["store_s"] = time.perf_counter() - t
        clear_cache()
        t = time.perf_counter()
        mapped = build_graph(s)  # what a second server process (or a restarted server) does
        out["map_s"] = time.perf_counter() - t
        print(
            f"build + write the shared store: {out['store_s']:.2f} s; another process maps it in "
            f"{out['map_s'] * 1000:.0f} ms"
        )
        g = mapped
        sel = pick_vendor(g)
        vname = g.label(g.index("vendor", int(sel[1])))
        impact(s, kind=sel[0], ref=sel[1])  # warm (first query compiles SQL, touches caches)
        t = time.perf_counter()
        res = impact(s, kind=sel[0], ref=sel[1])
        out["impact_s"] = time.perf_counter() - t
        print(
            f"vendor impact ({vname}): {out['impact_s'] * 1000:.0f} ms — failed {res.counts['failed']}, "
            f"degraded {res.counts['degraded']}"
        )
        t = time.perf_counter()
        rep = spof_report(s)
        out["spof_s"] = time.perf_counter() - t
        out["spof_services"] = len(rep)
        print(
            f"SPOF of {len(rep)} high/critical services: {out['spof_s']:.2f} s "
            f"(median SPOFs per service: {int(np.median([sum(r.counts.values()) for r in rep] or [0]))})"
        )
        t = time.perf_counter()
        conc = concentration(s)
        out["concentration_s"] = time.perf_counter() - t
        print(
            f"concentration ({len(conc.vendors)} vendors, {len(conc.products)} products, "
            f"{len(conc.findings)} findings): {out['concentration_s']:.2f} s"
        )
        agent = max(
            (pid for pid, a in g.products.items() if a["vendor_id"] == int(sel[1])),
            key=lambda pid: int(np.diff(g.rev_ptr)[g.index("product", pid)]),
        )
        t = time.perf_counter()
        plan = propose(s, product=str(agent))
        out["rollout_s"] = time.perf_counter() - t
        print(
            f"rollout plan for {g.products[agent]['name']} ({plan.targets:,} hosts): {out['rollout_s']:.2f} s — "
            + ", ".join(f"{r.name} {len(r.members):,}" for r in plan.rings)
            + f"; {len(plan.moves)} redundancy moves"
        )
        out["peak_mb"] = rss_mb()
        print(f"peak RSS so far: {out['peak_mb']:.0f} MB")
    db.engine.dispose()
    return out, g, sel


# --- two server processes at once: shared store vs. a private graph each ----------------------

TWIN = """
import sys, time
import psutil
import ciimap.registry
from ciimap.core.db import Database, set_database
from ciimap.graph.build import build_graph
from ciimap.graph.impact import impact
db = Database(sys.argv[1]); set_database(db)
t = time.perf_counter()
with db.read_session() as s:
    g = build_graph(s, use_cache=sys.argv[2] == "shared")
    impact(s, kind="vendor", ref=sys.argv[3])
    took = time.perf_counter() - t
    mem = psutil.Process().memory_full_info()
    hwm = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))  # ru_maxrss survives exec
    print(f"{took:.2f} {hwm / 1024:.0f} {mem.uss / 2**20:.0f} "
          f"{mem.pss / 2**20:.0f}")
"""


def twins(url: str, vendor_id: str) -> None:
    """What `ciimap serve --workers 2` does on its first what-if: both processes need the graph."""
    import shutil

    from sqlalchemy.engine import make_url

    from ciimap.graph import store

    for mode in ("private", "shared"):
        shutil.rmtree(store.root(str(make_url(url))), ignore_errors=True)
        t = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", TWIN, url, mode, vendor_id], stdout=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        rows = [p.communicate()[0].split() for p in procs]
        wall = time.perf_counter() - t
        print(
            f"2 processes, {mode:7} graph: both answered in {wall:.1f} s; per process (s / peak RSS MB / "
            f"USS MB / PSS MB): " + "; ".join(" / ".join(r) for r in rows)
        )


# --- the same computations on networkx ----------------------------------------------------------


def nx_build(g):  # noqa: ANN001, ANN201
    """DiGraph child -> parent, edge attribute 'g' = need-group id; group sizes alongside."""
    import networkx as nx

    t = time.perf_counter()
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n))
    sizes = np.diff(g.group_ptr)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    G.add_edges_from(
        (int(c), int(g.group_parent[k]), {"g": int(k)}) for c, k in zip(g.members, owner, strict=True)
    )
    return G, sizes.tolist(), time.perf_counter() - t


def nx_propagate(G, sizes, seeds) -> tuple[set, set]:  # noqa: ANN001
    alive = {}
    failed = set(seeds)
    queue = collections.deque(failed)
    while queue:
        u = queue.popleft()
        for p, d in G.succ[u].items():
            k = d["g"]
            alive[k] = alive.get(k, sizes[k]) - 1
            if alive[k] == 0 and p not in failed:
                failed.add(p)
                queue.append(p)
    frontier = list(failed)
    seen = set(failed)
    while frontier:
        nxt = []
        for u in frontier:
            for p in G.succ[u]:
                if p not in seen:
                    seen.add(p)
                    nxt.append(p)
        frontier = nxt
    return failed, seen - failed


def nx_killers(G, g, roots) -> dict:  # noqa: ANN001
    """The same least-fixpoint killer sets, on networkx adjacency (pred = what a node needs).

    Like ciimap, degrade-only member links (soft groups) are skipped: they can never fail anything.
    """
    import networkx as nx

    soft = set(np.nonzero(g.soft)[0].tolist()) if len(g.soft) else set()
    within = set(roots)
    stack = list(roots)
    while stack:
        u = stack.pop()
        for c, d in G.pred[u].items():
            if d["g"] not in soft and c not in within:
                within.add(c)
                stack.append(c)
    H = G.subgraph(within)
    try:
        order = list(nx.topological_sort(H))
    except nx.NetworkXUnfeasible:
        order = list(H)
    groups = collections.defaultdict(lambda: collections.defaultdict(list))
    for c, p, d in H.edges(data="g"):
        if d not in soft:
            groups[p][d].append(c)
    b = {}
    intern = {}
    for n in order:
        acc = set()
        for mem in groups[n].values():
            if len(mem) == 1:
                acc.add(mem[0])
                acc |= b.get(mem[0], frozenset())
            else:
                inter = None
                for m in mem:
                    s = b.get(m, frozenset()) | {m}
                    inter = set(s) if inter is None else inter & s
                acc |= inter or set()
        fs = frozenset(acc)
        b[n] = intern.setdefault(fs, fs)
    return {r: b[r] - {r} for r in roots}


def baseline(g, sel, ours_fig: dict) -> None:  # noqa: ANN001
    from ciimap.graph.build import CRIT

    G, sizes, build_s = nx_build(g)
    print(f"networkx: DiGraph built from the same needs in {build_s:.2f} s (excludes reading the database)")
    vnode = g.index("vendor", int(sel[1]))
    t = time.perf_counter()
    failed, degraded = nx_propagate(G, sizes, [vnode])
    imp_s = time.perf_counter() - t
    print(
        f"networkx vendor impact: {imp_s * 1000:.0f} ms ({len(failed):,} failed, {len(degraded):,} degraded nodes)"
    )
    roots = [
        int(i)
        for i in np.nonzero(g.crit[g.mask("business_service")] >= CRIT["high"])[0]
        + g.start["business_service"]
    ]
    t = time.perf_counter()
    ks = nx_killers(G, g, roots)
    spof_s = time.perf_counter() - t
    print(
        f"networkx SPOF of {len(roots)} services: {spof_s:.2f} s (median SPOFs per service: "
        f"{int(np.median([len(v) for v in ks.values()] or [0]))}); peak RSS now {rss_mb():.0f} MB"
    )
    print("\nratios (networkx / ciimap, higher = ciimap faster):")
    print(f"  build   {build_s / ours_fig['build_s']:.2f}x   (networkx excludes the database read)")
    print(
        f"  impact  {imp_s / ours_fig['impact_s']:.2f}x   (ciimap includes name lookups, paths and ranking)"
    )
    print(f"  spof    {spof_s / ours_fig['spof_s']:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1_000_000, help="demo assets (default 1,000,000)")
    ap.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite under var/)")
    ap.add_argument("--no-networkx", action="store_true", help="skip the networkx baseline")
    ap.add_argument(
        "--twins", action="store_true", help="also: two processes at once, shared vs private graph"
    )
    a = ap.parse_args()
    url = a.database or f"sqlite:///{ROOT / 'var' / f'bench-graph-{a.scale}.db'}"
    from ciimap.registry import load_all

    load_all()
    ensure_demo(url, a.scale)
    gc.collect()
    fig, g, sel = ours(url)
    ok = fig["impact_s"] < 1 and fig["spof_s"] < 30 and fig["peak_mb"] < 2048
    print(f"targets (impact < 1 s, SPOF < 30 s, peak < 2048 MB): {'met' if ok else 'NOT met'}")
    if a.twins:
        twins(url, sel[1])
    if not a.no_networkx:
        baseline(g, sel, fig)


if __name__ == "__main__":
    main()
