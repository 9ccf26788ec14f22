"""The graph shared on disk: one build serves every server process and survives restarts."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from ciimap.graph import build, store
from ciimap.graph.impact import impact, impact_many
from ciimap.graph.schemas import Selector
from ciimap.inventory import models as m

from .mapkit import crowdstrike_map


def _same(a: build.Graph, b: build.Graph) -> None:
    for name in store.ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert set(a.ids) == set(b.ids) and all(np.array_equal(a.ids[t], b.ids[t]) for t in a.ids)
    assert (a.version, a.n, a.start, a.names) == (b.version, b.n, b.start, b.names)
    assert (a.group_name, a.products, a.vendor_domestic) == (b.group_name, b.products, b.vendor_domestic)


def _summary(res) -> tuple:  # noqa: ANN001
    return (
        sorted((n.name, n.status) for n in res.services + res.systems),
        res.assets_total,
        [n.path_text for n in res.services],
    )


def _falcon(s, g):  # noqa: ANN001
    return impact_many(s, selectors=[Selector(kind="vendor", ref="CrowdStrike")], graph=g)


def test_a_stored_graph_is_mapped_read_only_and_equals_a_fresh_build(database):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    with database.read_session() as s:
        fresh = build.build_graph(s, use_cache=False)
        want = _summary(_falcon(s, fresh))
        first = build.build_graph(s)  # builds once and writes it
    assert store.stored(str(database.engine.url)) == [fresh.version]
    build.clear_cache()  # as a second server process or a restarted server starts
    with database.read_session() as s:
        mapped = build.build_graph(s)
        assert mapped is not first and isinstance(mapped.members, np.memmap)
        assert not mapped.members.flags.writeable  # shared pages: nobody may write them
        _same(fresh, mapped)
        assert _summary(_falcon(s, mapped)) == want
        assert _summary(impact(s, kind="vendor", ref="CrowdStrike")) == want


def test_another_process_maps_the_graph_instead_of_building(database):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    with database.read_session() as s:
        g = build.build_graph(s)
    code = (
        "import sys; import ciimap.registry\n"
        "from ciimap.core.db import Database, set_database\n"
        "from ciimap.graph import build\n"
        "def refuse(*a, **k): raise SystemExit('built again instead of mapping the stored graph')\n"
        "build._build = refuse\n"
        "db = Database(sys.argv[1]); set_database(db)\n"
        "with db.read_session() as s: g = build.build_graph(s)\n"
        "print(g.version, g.n, type(g.rev_group).__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, database.url], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == [g.version, str(g.n), "memmap"]


def test_a_changed_map_gets_a_new_version_and_the_old_one_goes(database):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    with database.read_session() as s:
        old = build.build_graph(s)
    with database.unit_of_work() as s:
        s.add(m.Vendor(name="新厂商", country="CN", is_domestic=True))
    with database.read_session() as s:
        new = build.build_graph(s)
    assert new.version != old.version and len(new.version) == 32
    assert new.ids["vendor"].size == old.ids["vendor"].size + 1
    assert store.stored(str(database.engine.url)) == [new.version]


def test_same_ids_different_history_never_share_a_version(database):
    """A database restored from a backup and then changed differently reaches the same ids and audit ids;
    the audit chain hash in the version still tells the maps apart, so the store cannot serve the old one."""
    from conftest import _empty

    with database.unit_of_work() as s:
        s.add(m.Vendor(name="甲厂商", country="CN"))
    with database.read_session() as s:
        first = build.build_graph(s)
    _empty(database)  # back to the empty backup, ids restart
    with database.unit_of_work() as s:
        s.add(m.Vendor(name="乙厂商", country="US"))
    with database.read_session() as s:
        second = build.build_graph(s)
        assert second.version != first.version
        assert second.names["vendor"] == ["乙厂商"]


def test_a_damaged_store_is_rebuilt_and_an_unusable_one_is_skipped(database, monkeypatch, tmp_path):
    from ciimap.config import get_settings

    with database.unit_of_work() as s:
        crowdstrike_map(s)
    with database.read_session() as s:
        g = build.build_graph(s)
        fresh = build.build_graph(s, use_cache=False)
    members = store.root(str(database.engine.url)) / g.version / "members.npy"
    members.write_bytes(members.read_bytes()[:40])  # cut short: not a valid array any more
    build.clear_cache()
    with database.read_session() as s:
        _same(fresh, build.build_graph(s))  # rebuilt, not a crash or a wrong graph
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setattr(get_settings(), "data_dir", blocker)  # the data directory cannot hold the store
    build.clear_cache()
    with database.read_session() as s:
        kept = build.build_graph(s)
    _same(fresh, kept)
    assert not isinstance(kept.members, np.memmap)  # in this process's memory only


def test_a_map_changed_during_the_build_is_built_again_before_it_is_shared(database, monkeypatch):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    real, calls = build._build, []

    def build_while_an_import_commits(session, version):  # noqa: ANN001, ANN202
        g = real(session, version)
        calls.append(version)
        if len(calls) == 1:  # the first build read the map just before this change committed
            with database.unit_of_work() as other:
                other.add(m.Vendor(name="导入中途新增", country="CN"))
        return g

    monkeypatch.setattr(build, "_build", build_while_an_import_commits)
    with database.read_session() as s:
        g = build.build_graph(s)
        current = build.map_version(s)
    assert len(calls) == 2 and calls[0] != calls[1] == current
    assert g.version == current and "导入中途新增" in g.names["vendor"]
    assert store.stored(str(database.engine.url)) == [current]  # shared under what it was built from
