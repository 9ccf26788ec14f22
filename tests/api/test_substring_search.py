"""Substring search on the entity lists (SQLite FTS5 trigram, PostgreSQL pg_trgm), on both databases:
the same rows as a plain scan, kept in sync on insert/update/delete, with filters, broad and narrow,
keyset pages; short queries stay prefix searches; without the index the lists fall back to prefix."""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest
from sqlalchemy import delete, select, update

from ciimap.core import entity, listing, textsearch
from ciimap.core.migrate import MIGRATIONS
from ciimap.demo import service as demo
from ciimap.inventory import models as m
from ciimap.inventory.service import ASSETS

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _asset(name: str, hostname: str, ip: str, **kw: object) -> m.Asset:
    return m.Asset(name=name, hostname=hostname, primary_ip=ip, kind=kw.pop("kind", "plc"), ips=[ip], **kw)


def _scan(session, spec, q: str, filters: dict | None = None) -> list[int]:
    """The expected ids: any searched column contains q (case-insensitive), or (assets) an address
    starts with q — computed in Python over every row."""
    low = q.strip().lower()
    out = set()
    for obj in session.scalars(select(spec.model)):
        if any(low in (getattr(obj, f) or "").lower() for f in spec.search) and all(
            getattr(obj, k) == v for k, v in (filters or {}).items()
        ):
            out.add(obj.id)
    for id_col, col in spec.extra_search:
        for oid, value in session.execute(select(id_col, col)):
            obj = session.get(spec.model, oid)
            if (value or "").lower().startswith(low) and all(
                getattr(obj, k) == v for k, v in (filters or {}).items()
            ):
                out.add(oid)
    return sorted(out)


def _all_pages(session, spec, q: str, filters: dict | None = None, limit: int = 10) -> tuple[list[int], int]:
    ids: list[int] = []
    after = None
    total = None
    while True:
        page = entity.list_page(session, spec, q=q, filters=filters, limit=limit, after=after)
        total = page["total"] if total is None else total
        ids += [o.id for o in page["items"]]
        if page["next_after"] is None:
            return ids, total
        after = page["next_after"]


def test_columns_are_declared_once_and_match_the_specs_and_the_migration():
    by_table = {
        spec.model.__tablename__: tuple(spec.search) for spec in entity.REGISTRY.values() if spec.search
    }
    assert by_table == textsearch.COLUMNS
    path = next((MIGRATIONS / "versions").glob("*_polish1_*.py"))
    mod_spec = importlib.util.spec_from_file_location("polish1", path)
    assert mod_spec and mod_spec.loader
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    assert mod.COLUMNS == textsearch.COLUMNS


def test_plc_is_found_inside_names_case_insensitive_and_in_chinese(database):
    with database.unit_of_work() as s:
        s.add_all(
            [
                _asset("1号PLC控制器", "hq-plc-01", "10.1.0.1"),
                _asset("2号plc控制器", "hq-ctl-02", "10.1.0.2"),
                _asset("工程师站", "eng-ws-01", "10.1.0.3", kind="workstation"),
                _asset("折扣50%_柜", "odd_name", "10.1.0.4", kind="server"),
            ]
        )
    expected = {"sqlite": "fts", "postgresql": "trgm"}["sqlite" if database.is_sqlite else "postgresql"]
    with database.read_session() as s:
        assert textsearch.mode(s, ASSETS, "PLC") == expected
        names = lambda q: sorted(a.name for a in entity.list_page(s, ASSETS, q=q)["items"])  # noqa: E731
        assert names("PLC") == ["1号PLC控制器", "2号plc控制器"]
        assert names("plc控制") == ["1号PLC控制器", "2号plc控制器"]
        assert names("控制器") == ["1号PLC控制器", "2号plc控制器"]
        assert names("ws-0") == ["工程师站"]  # inside the hostname
        assert names("50%") == ["折扣50%_柜"]  # LIKE wildcards are text
        assert names("0%_") == ["折扣50%_柜"]
        assert names('"x') == []  # FTS syntax is text too
        assert names("10.1.0.3") == ["工程师站"]  # addresses: still found by their prefix
        # one or two characters: prefix search, as before
        assert textsearch.mode(s, ASSETS, "号P") == "prefix"
        assert names("号P") == []
        assert names("工程") == ["工程师站"]


def test_the_index_follows_inserts_updates_and_deletes(database):
    with database.unit_of_work() as s:
        s.add(_asset("旧名称控制器", "old-host", "10.2.0.1"))
    with database.unit_of_work() as s:
        s.execute(update(m.Asset).values(name="新名称网关", hostname="new-host"))
    with database.read_session() as s:
        assert entity.list_page(s, ASSETS, q="控制器")["total"] == 0
        assert entity.list_page(s, ASSETS, q="old-h")["total"] == 0
        assert [a.name for a in entity.list_page(s, ASSETS, q="名称网")["items"]] == ["新名称网关"]
    with database.unit_of_work() as s:
        s.execute(delete(m.Asset))
    with database.read_session() as s:
        assert entity.list_page(s, ASSETS, q="名称网")["total"] == 0


@pytest.mark.parametrize("caps", [(10_000, 5_000), (6, 3)], ids=["narrow", "broad"])
def test_same_rows_as_a_scan_with_filters_and_keyset_pages(database, monkeypatch, caps):
    """Every entity with a search, against a Python scan; "broad" shrinks the count cap and the dense
    threshold so that the broad-search paths (per-branch filters, walking the primary key) run too."""
    monkeypatch.setattr(listing, "COUNT_CAP", caps[0])
    monkeypatch.setattr(listing, "DENSE", caps[1])
    listing._count_cache.clear()
    with database.unit_of_work() as s:
        demo.load(s, scale=500, seed=5, now=NOW)
    with database.read_session() as s:
        for spec in entity.REGISTRY.values():
            first = s.execute(select(spec.model).order_by(spec.model.id.desc()).limit(1)).scalar_one_or_none()
            if first is None or not spec.search:
                continue
            value = next((getattr(first, f) for f in spec.search if getattr(first, f)), None)
            if not isinstance(value, str) or len(value) < 5:
                continue
            queries = [value[1:4], value[-4:].upper(), value[2:]]
            for q in queries:
                want = _scan(s, spec, q)
                got, total = _all_pages(s, spec, q)
                assert got == want and total == len(want), (spec.name, q)
            for key in spec.filters:
                fval = getattr(first, key)
                if fval is None:
                    continue
                q = value[1:4]
                want = _scan(s, spec, q, {key: fval})
                got, total = _all_pages(s, spec, q, {key: fval})
                assert got == want and total == len(want), (spec.name, q, key)
                break


def test_without_the_index_the_lists_keep_the_prefix_search(database, monkeypatch):
    with database.unit_of_work() as s:
        s.add(_asset("1号PLC控制器", "ctl-01", "10.3.0.1"))
    with database.read_session() as s:
        url = str(s.get_bind().engine.url)
        monkeypatch.setitem(textsearch._available, url, frozenset())
        listing._count_cache.clear()
        assert textsearch.mode(s, ASSETS, "PLC") == "prefix"
        assert entity.list_page(s, ASSETS, q="PLC")["total"] == 0  # "1号PLC..." does not start with it
        assert entity.list_page(s, ASSETS, q="ctl-0")["total"] == 1
    textsearch.clear_cache()


def test_search_index_command_recreates_a_missing_index(database):
    from typer.testing import CliRunner

    from ciimap.cli import app

    with database.engine.begin() as c:
        stmts = (
            textsearch.sqlite_drop("vendor")
            if database.is_sqlite
            else textsearch.pg_drop("vendor", textsearch.COLUMNS["vendor"])
        )
        for stmt in stmts:
            c.exec_driver_sql(stmt)
    textsearch.clear_cache()
    with database.unit_of_work() as s:
        s.add(m.Vendor(name="和利时自动化", country="CN"))
    with database.read_session() as s:
        spec = entity.REGISTRY["vendors"]
        assert textsearch.mode(s, spec, "利时自") == "prefix"
    result = CliRunner().invoke(app, ["db", "search-index", "--json"])
    assert result.exit_code == 0, result.output
    assert '"created": ["vendor"]' in result.output
    with database.read_session() as s:
        assert textsearch.mode(s, spec, "利时自") in ("fts", "trgm")
        assert [v.name for v in entity.list_page(s, spec, q="利时自")["items"]] == ["和利时自动化"]
