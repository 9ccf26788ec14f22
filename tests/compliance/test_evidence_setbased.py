"""Evidence rules aggregate in the database (issue 12 performance), both databases: a rule fetches the
records it lists (``record_limit`` per system) and one counting row per system, never every matching
row, and its counts stay complete; the supply-chain pairs are the ones supply/foreign.py's usage finds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text

from ciimap.compliance import evidence_rules as rules
from ciimap.core.db import Database
from ciimap.inventory import models as m
from ciimap.supply import foreign

from .test_evidence import _add, _endpoint, _seen, build

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


@pytest.mark.parametrize(
    ("code", "count", "ids_of"),
    [
        ("cleartext", "cleartext_login", "endpoints"),
        ("asset_register", "unmanaged", "assets"),
        ("endpoint_protection", "no_inventory", "assets"),
    ],
)
def test_rule_fetches_the_listed_records_only_and_counts_all(database, crowded, code, count, ids_of) -> None:
    with database.read_session() as s:
        ctx, counting = _ctx(s)
        out = getattr(rules, code)(ctx)
        full_ctx, _c = _ctx(s)
        full_ctx.limit = 10_000
        full = getattr(rules, code)(full_ctx)
    bad = out[crowded["ids"]["bad"]]
    assert {sid: o.counts for sid, o in out.items()} == {sid: o.counts for sid, o in full.items()}
    assert {sid: o.result for sid, o in out.items()} == {sid: o.result for sid, o in full.items()}
    bound = (LIMIT + 1) * len(ctx.systems)  # the records listed and one counting row per system
    assert counting.largest <= bound < MANY
    assert bad.counts[count] >= MANY  # complete, not capped at the limit
    listed = [r["id"] for r in bad.records if r["type"] in ("asset", "endpoint")]
    assert len(listed) == LIMIT
    every = [r["id"] for r in full[crowded["ids"]["bad"]].records if r["type"] in ("asset", "endpoint")]
    assert set(crowded[ids_of]) <= set(every)
    assert listed == sorted(every)[:LIMIT]  # the first by id, as before


def test_supply_chain_pairs_are_those_of_the_usage_paths(database, crowded) -> None:
    with database.read_session() as s:
        ctx, _c = _ctx(s)
        got = rules.product_pairs(ctx)
        expected = {(int(sid), pid) for (sid, pid) in foreign.usage(s) if sid is not None}
        assert got == expected
        assert got  # the evidence map's systems use products
        products = {int(p) for p in s.scalars(select(m.Product.id))}
    assert {p for _s, p in got} <= products
