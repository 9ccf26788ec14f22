"""The supply-chain rule's (system, product) pairs (issue 12 performance), both databases: the ones
supply/foreign.py's usage finds, aggregated in the database, and kept until the map changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text

from ciimap.compliance import evidence_rules as rules
from ciimap.core.db import Database
from ciimap.inventory import models as m
from ciimap.supply import foreign
from ciimap.vulns.models import Advisory

from .test_evidence import _add, _endpoint, _finding, _seen, build

MANY = 20
LIMIT = 2


@pytest.fixture
def crowded(database: Database) -> dict[str, Any]:
    """The evidence map plus MANY undeclared, scanned servers of the BAD system, each with telnet open
    and no software inventory."""
    ids = build(database)
    with database.unit_of_work() as s:
        made = []
        for k in range(MANY):
            a = _add(
                s,
                m.Asset(name=f"crowd-{k:02d}", kind="server", system_id=ids["bad"], declared=False),
            )
            _seen(s, a)
            made.append((a.id, _endpoint(s, a, 23, "telnet").id))
    return {"ids": ids, "assets": [a for a, _e in made], "endpoints": [e for _a, e in made]}


class _Counting:
    """The session, with the largest number of rows any one statement returned."""

    def __init__(self, session: Any) -> None:
        self._s = session
        self.largest = 0

    def execute(self, stmt: Any, *args: Any, **kw: Any) -> Any:
        frozen = self._s.execute(stmt, *args, **kw).freeze()
        self.largest = max(self.largest, len(frozen.data))
        return frozen()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s, name)


def _ctx(s: Any) -> tuple[rules.Ctx, _Counting]:
    counting = _Counting(s)
    systems = {int(i): bool(c) for i, c in s.execute(text("SELECT id, is_cii FROM system"))}
    settings = rules.load_settings().data
    ctx = rules.Ctx(session=counting, settings=settings, today=dt.date.today(), systems=systems, limit=LIMIT)  # type: ignore[arg-type]
    return ctx, counting


def test_supply_chain_pairs_are_those_of_the_usage_paths(database, crowded) -> None:
    with database.read_session() as s:
        ctx, _c = _ctx(s)
        got = rules.product_pairs(ctx)
        expected = {(int(sid), pid) for (sid, pid) in foreign.usage(s) if sid is not None}
        assert got == expected
        assert got  # the evidence map's systems use products
        products = {int(p) for p in s.scalars(select(m.Product.id))}
    assert {p for _s, p in got} <= products


def test_supply_chain_pairs_are_kept_until_the_map_changes(database, crowded) -> None:
    """A change outside the map (a finding) reuses the pairs; a product installed on a system's asset
    (the map changed) is seen."""
    rules.clear_cache()
    with database.read_session() as s:
        first = rules.product_pairs(_ctx(s)[0])
    with database.unit_of_work() as s:
        adv = _add(s, Advisory(advisory_id="CVE-2099-0002", source="nvd"))
        _finding(s, adv, s.get(m.Asset, crowded["assets"][0]), "P1", dt.date(2020, 1, 1))
    with database.read_session() as s:
        assert rules.product_pairs(_ctx(s)[0]) is first
    with database.unit_of_work() as s:
        vendor = _add(s, m.Vendor(name="NewCo"))
        product = _add(s, m.Product(name="NewDB", vendor_id=vendor.id))
        _add(s, m.Software(asset_id=crowded["assets"][0], name="newdb", product_id=product.id))
        pid = product.id
    with database.read_session() as s:
        again = rules.product_pairs(_ctx(s)[0])
    assert again is not first and again == first | {(crowded["ids"]["bad"], pid)}
