"""List pages at scale — one engine for the API, the CLI and the web lists.

A page is found in two steps: the ids of the page from small index queries, then its rows by id.

- **Filters only**: one keyset (``after``) or offset query on the filter columns.
- **Search only**: each search *branch* (one indexed column per bound prefix, or a child-table
  column such as the asset's addresses) yields its first ``offset + limit`` ids; the page is the
  first ids of their merge — the same result as ``id IN (union of every match)`` without
  materialising 250,000 matches of a broad prefix. A branch with more than :data:`DENSE` matches
  walks the primary key instead (its index disabled with ``col || ''``) and stops after N hits.
- **Filters and search**: when the search alone matches at most ``COUNT_CAP`` rows (index-only
  counts), those rows are tested against the filters; a broader search runs the same branches with
  the filters added (child-table branches join the entity) — without a composite index a broad
  prefix in a large filter that share few rows can still take a few hundred ms (once a minute for
  the total).

Totals: up to :data:`COUNT_CAP` matches are counted exactly on every request (capped counts, cheap
at any table size); larger totals are counted exactly once per :data:`COUNT_TTL` seconds per
(database, entity, filters, search) and reused. The per-branch capped counts also tell which
branches are dense.

Every statement is built once per entity and shape with bound parameters: building, caching and
compiling SQLAlchemy statements per request was a third of the CPU of a search page at 1M assets.
``page_json`` returns the API's JSON directly from column rows (no ORM objects, no re-validation of
rows that were validated when written), for read schemas that are plain column projections. Like the
read schemas (:data:`ciimap.core.schemas.UtcDateTime`) it marks naive timestamps (SQLite's) as UTC, so
the JSON carries the offset the OpenAPI ``date-time`` format requires.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic_core
from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    union,
)
from sqlalchemy.orm import Session

from ciimap.core import textsearch
from ciimap.core.errors import Invalid

MAX_LIMIT = 500
#: A search branch with more matches than this is "dense": its first ids are found faster by walking
#: the primary key and testing rows (~table/matches x limit rows) than by sorting every match.
DENSE = 5_000
#: Totals up to this many rows are counted exactly on every request (the count stops at the cap).
COUNT_CAP = 10_000
#: Larger totals are counted exactly once and reused for this many seconds (see docs/demo.md).
COUNT_TTL = 60.0
_count_cache: dict[tuple[Any, ...], tuple[float, int, tuple[int, ...]]] = {}
_count_lock = threading.Lock()
_plans: dict[tuple[Any, ...], Any] = {}
_fts_tables: dict[str, Any] = {}


def _bp(name: str) -> Any:
    return bindparam(name, type_=Integer) if name in ("n", "cap", "limit", "offset") else bindparam(name)


def _cached(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = build()
    return plan


@dataclass(frozen=True)
class Branch:
    """Ids whose ``col`` lies in [lo, hi) — a prefix search on one column, by one bound pair —
    among the entity's rows that pass the page's filters (bound as ``f_<name>``)."""

    model: Any
    id_col: Any
    col: Any
    own: bool  # ``col`` is on the entity's table: ids are unique and ``cond`` is a row condition
    n: int  # position: binds lo<n>/hi<n>
    orig: bool = False  # bound to the query's original casing (columns not stored lower-case)
    filters: tuple[str, ...] = ()

    def cond(self, indexed: bool = True) -> Any:
        col = self.col if indexed else self.col.concat(literal_column("''"))  # || '': no index
        return and_(col >= bindparam(f"lo{self.n}"), col < bindparam(f"hi{self.n}"))

    def _select(self, indexed: bool = True) -> Select[Any]:
        stmt = select(self.id_col)
        if self.filters and not self.own:  # a child table: filter on the entity it belongs to
            stmt = stmt.join(self.model, self.model.id == self.id_col)
        return stmt.where(
            self.cond(indexed), *[getattr(self.model, k) == bindparam(f"f_{k}") for k in self.filters]
        )

    def ids(self) -> Select[Any]:
        return self._select()

    def first(self, *, dense: bool, after: bool) -> Select[Any]:
        stmt = self._select(indexed=not dense)
        if after:
            stmt = stmt.where(self.id_col > bindparam("after"))
        if not self.own:
            stmt = stmt.group_by(self.id_col)
        # sparse: "id + 0" makes the planner read the column's index range and sort the top N
        # instead of walking the primary key (a full scan when matches are rare)
        return stmt.order_by(self.id_col if dense else self.id_col + 0).limit(_bp("n"))

    def capped(self) -> Select[Any]:
        inner = self._select()
        inner = inner if self.own else inner.distinct()
        return select(func.count()).select_from(inner.limit(_bp("cap")).subquery())


@dataclass(frozen=True)
class SubstringBranch(Branch):
    """Ids whose searched columns contain the query (binds ``m<n>``) — PostgreSQL: ``col ILIKE
    '%q%'`` on each column, answered by the pg_trgm GIN indexes (see :mod:`ciimap.core.textsearch`).
    ``cols`` are the entity's searched columns; ``col`` is the first (unused by this class)."""

    cols: tuple[Any, ...] = ()

    def cond(self, indexed: bool = True) -> Any:
        pattern: Any = bindparam(f"m{self.n}")
        cols = self.cols if indexed else tuple(c.concat(literal_column("''")) for c in self.cols)
        return or_(*[c.ilike(pattern, escape="\\") for c in cols])


@dataclass(frozen=True)
class FtsBranch(Branch):
    """Ids whose searched columns contain the query — SQLite: the FTS5 trigram table
    ``<table>_fts MATCH :m<n>`` (rowids in ascending order, so "first n" stops early)."""

    def _fts(self) -> tuple[Any, Any]:
        name = textsearch.fts_table(self.model.__tablename__)
        fts = _fts_tables.get(name)
        if fts is None:  # one object per table: two would be two FROM entries
            fts = _fts_tables[name] = table(name, column("rowid", Integer))
        return fts, literal_column(name).op("MATCH")(bindparam(f"m{self.n}"))

    def cond(self, indexed: bool = True) -> Any:
        fts, match = self._fts()
        return self.model.id.in_(select(fts.c.rowid).where(match))

    def _select(self, indexed: bool = True) -> Select[Any]:
        fts, match = self._fts()
        if not self.filters:
            return select(fts.c.rowid.label("id")).where(match)
        return (
            select(self.model.id)
            .where(self.model.id.in_(select(fts.c.rowid).where(match)))
            .where(*[getattr(self.model, k) == bindparam(f"f_{k}") for k in self.filters])
        )

    def first(self, *, dense: bool, after: bool) -> Select[Any]:
        fts, match = self._fts()
        id_col = self.model.id if self.filters else fts.c.rowid
        stmt = self._select()
        if after:
            stmt = stmt.where(id_col > bindparam("after"))
        return stmt.order_by(id_col).limit(_bp("n"))


@dataclass
class SearchPlan:
    branches: list[Branch]
    counts: Select[Any]  # one row: each branch's count, capped at :cap
    capped: dict[int, Select[Any]]  # one branch's count, capped at :cap
    first: dict[tuple[int, bool, bool], Select[Any]]  # (branch, dense, after) -> first :n ids


def search_bounds(q: str) -> tuple[tuple[str, str], tuple[str, str] | None]:
    """Lower-cased prefix bounds, and the original casing's when it differs."""
    raw = q.strip()
    low = raw.lower()
    return (low, low + "\U0010ffff"), ((raw, raw + "\U0010ffff") if raw != low else None)


def _own_branches(spec: Any, mixed: bool, filters: tuple[str, ...], how: str) -> list[Branch]:
    """The branches over the entity's own searched columns: one prefix branch per column (and
    casing), or a single substring branch over all of them (``how`` = "fts" or "trgm")."""
    model = spec.model
    cols = [getattr(model, f) for f in spec.search]
    if how == "fts":
        return [FtsBranch(model, model.id, cols[0], True, 0, False, filters)]
    if how == "trgm":
        return [SubstringBranch(model, model.id, cols[0], True, 0, False, filters, tuple(cols))]
    branches: list[Branch] = []
    for col in cols:
        for orig in (False, True) if mixed else (False,):
            branches.append(Branch(model, model.id, col, True, len(branches), orig, filters))
    return branches


def search_plan(spec: Any, mixed: bool, filters: tuple[str, ...] = (), how: str = "prefix") -> SearchPlan:
    """``how``: "prefix", "fts" (SQLite substring) or "trgm" (PostgreSQL substring); the child-table
    branches (an asset's addresses) stay prefix searches."""

    def build() -> SearchPlan:
        model = spec.model
        branches = _own_branches(spec, mixed, filters, how)
        for id_col, col in spec.extra_search:
            branches.append(Branch(model, id_col, col, False, len(branches), False, filters))
        capped = {b.n: b.capped() for b in branches}
        counts = select(*[c.scalar_subquery() for c in capped.values()])
        first = {
            (b.n, d, a): b.first(dense=d, after=a)
            for b in branches
            for d in (False, True)
            for a in (False, True)
        }
        return SearchPlan(branches, counts, capped, first)

    return _cached(("search", spec.name, mixed, filters, how), build)  # type: ignore[no-any-return]


def search_params(
    spec: Any, q: str, filters: dict[str, Any] | None = None, how: str = "prefix"
) -> tuple[SearchPlan, dict[str, Any]]:
    low, orig = search_bounds(q)
    plan = search_plan(spec, orig is not None and how == "prefix", tuple(sorted(filters or {})), how)
    params: dict[str, Any] = {f"f_{k}": v for k, v in (filters or {}).items()}
    for b in plan.branches:
        if isinstance(b, FtsBranch):
            params[f"m{b.n}"] = textsearch.fts_query(q)
        elif isinstance(b, SubstringBranch):
            params[f"m{b.n}"] = textsearch.like_pattern(q)
        else:
            params[f"lo{b.n}"], params[f"hi{b.n}"] = orig if b.orig and orig else low
    return plan, params


def _conn(session: Session) -> Any:
    return session.connection()


def _filters(spec: Any, filters: dict[str, Any] | None) -> dict[str, Any]:
    active = {k: v for k, v in (filters or {}).items() if v is not None}
    for key in active:
        if key not in spec.filters:
            raise Invalid(
                f"cannot filter {spec.name} by '{key}' (filters: {', '.join(spec.filters) or 'none'})"
            )
    return active


def _cache_key(session: Session, spec: Any, filters: dict[str, Any], q: str | None) -> tuple[Any, ...]:
    return (
        str(session.get_bind().engine.url),
        spec.name,
        tuple(sorted(filters.items())),
        (q or "").strip().lower(),
    )


def _cached_total(key: tuple[Any, ...]) -> tuple[int, tuple[int, ...]] | None:
    with _count_lock:
        hit = _count_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < COUNT_TTL:
        return hit[1], hit[2]
    return None


def _remember_total(key: tuple[Any, ...], total: int, counts: tuple[int, ...] = ()) -> None:
    with _count_lock:
        if len(_count_cache) > 10_000:
            _count_cache.clear()
        _count_cache[key] = (time.monotonic(), total, counts)


# -- search ------------------------------------------------------------------------------------------


def _search_ids(
    session: Session,
    spec: Any,
    q: str,
    filters: dict[str, Any],
    *,
    limit: int,
    offset: int,
    after: int | None,
    with_total: bool,
) -> tuple[list[int], int | None]:
    conn = _conn(session)
    how = textsearch.mode(session, spec, q)
    key = _cache_key(session, spec, filters, q)
    hit = _cached_total(key) if with_total else None
    alone: tuple[int, ...] | None = None
    if filters and hit is None:
        # Filters and a search: when the search alone matches few rows (index-only capped counts),
        # test just those rows against the filters; a broad prefix goes branch by branch below.
        plain, plain_params = search_params(spec, q, how=how)
        alone = tuple(
            int(c or 0) for c in conn.execute(plain.counts, {**plain_params, "cap": COUNT_CAP + 1}).one()
        )
        if sum(alone) <= COUNT_CAP:
            return _few_matches(
                conn,
                spec,
                plain,
                {**plain_params, **{f"f_{k}": v for k, v in filters.items()}},
                filters,
                limit=limit,
                offset=offset,
                after=after,
                with_total=with_total,
            )
    plan, params = search_params(spec, q, filters, how)
    if hit is not None:
        total: int | None = hit[0]
        counts = hit[1]
    else:
        cap = (COUNT_CAP if with_total else DENSE) + 1
        if alone is None:
            counts = tuple(int(c or 0) for c in conn.execute(plan.counts, {**params, "cap": cap}).one())
        else:  # with filters, count only the branches the search alone reaches
            counts = tuple(
                int(conn.execute(plan.capped[b.n], {**params, "cap": cap}).scalar() or 0) if alone[b.n] else 0
                for b in plan.branches
            )
        total = _search_total(session, spec, plan, params, counts, key) if with_total else None
    n = limit if after is not None else offset + limit
    found: set[int] = set()
    for b in plan.branches:
        if not counts[b.n]:
            continue
        stmt = plan.first[(b.n, counts[b.n] > DENSE, after is not None)]
        found.update(conn.execute(stmt, {**params, "n": n, "after": after}).scalars())
    ordered = sorted(found)
    return (ordered[:limit] if after is not None else ordered[offset : offset + limit]), total


def _few_matches(
    conn: Any,
    spec: Any,
    plain: SearchPlan,
    params: dict[str, Any],
    filters: dict[str, Any],
    *,
    limit: int,
    offset: int,
    after: int | None,
    with_total: bool,
) -> tuple[list[int], int | None]:
    """Filters and a search that matches at most COUNT_CAP rows: ``id IN (matches) AND filters``
    (``plain``: the search's branches without filters; ``params`` binds both)."""
    model = spec.model
    live = [b.ids() for b in plain.branches]
    matches = union(*live).scalar_subquery() if len(live) > 1 else live[0].scalar_subquery()
    base = select(model.id).where(
        model.id.in_(matches), *[getattr(model, k) == bindparam(f"f_{k}") for k in sorted(filters)]
    )
    page = base.order_by(model.id)
    page = page.where(model.id > after) if after is not None else page.offset(offset)
    ids = list(conn.execute(page.limit(limit), params).scalars())
    total = (
        int(conn.execute(select(func.count()).select_from(base.subquery()), params).scalar() or 0)
        if with_total
        else None
    )
    return ids, total


def _search_total(
    session: Session,
    spec: Any,
    plan: SearchPlan,
    params: dict[str, str],
    counts: tuple[int, ...],
    key: tuple[Any, ...],
) -> int:
    conn = _conn(session)
    live = [b for b in plan.branches if counts[b.n]]
    if max(counts, default=0) <= COUNT_CAP:  # exact from the capped counts, or a small union
        if len(live) <= 1:
            return counts[live[0].n] if live else 0
        both = union(*[b.ids() for b in live]).subquery()
        return int(conn.execute(select(func.count()).select_from(both), params).scalar() or 0)
    dense = [b for b in live if counts[b.n] > DENSE]
    if len(dense) == 1 and dense[0].own:
        # |A u B| = |A| + |B without A|: one index count plus a small set, instead of de-duplicating
        # every match of a broad prefix (0.4-0.9 s -> 40-160 ms for "hq-ws-" at 1M assets)
        big = dense[0]
        total = int(
            conn.execute(select(func.count()).select_from(big.ids().subquery()), params).scalar() or 0
        )
        others = [b for b in live if b is not big]
        if others:
            rest = (
                select(func.count())
                .select_from(spec.model)
                .where(
                    spec.model.id.in_(
                        union(*[b.ids() for b in others]).scalar_subquery()
                        if len(others) > 1
                        else others[0].ids().scalar_subquery()
                    ),
                    not_(big.cond()),
                )
            )
            total += int(conn.execute(rest, params).scalar() or 0)
    else:
        every = union(*[b.ids() for b in live]).subquery()
        total = int(conn.execute(select(func.count()).select_from(every), params).scalar() or 0)
    _remember_total(key, total, counts)
    return total


# -- filters (with or without search) ----------------------------------------------------------------


def _filter_plan(spec: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        model = spec.model
        conds = [getattr(model, k) == bindparam(f"f_{k}") for k in keys]
        ids = select(model.id).where(*conds)
        return {
            "ids": ids.order_by(model.id).limit(_bp("limit")).offset(_bp("offset")),
            "ids_after": ids.where(model.id > bindparam("after")).order_by(model.id).limit(_bp("limit")),
            "capped": select(func.count()).select_from(ids.limit(_bp("cap")).subquery()),
            "exact": select(func.count()).select_from(model).where(*conds),
        }

    return _cached(("filter", spec.name, keys), build)  # type: ignore[no-any-return]


def _filter_ids(
    session: Session,
    spec: Any,
    filters: dict[str, Any],
    *,
    limit: int,
    offset: int,
    after: int | None,
    with_total: bool,
) -> tuple[list[int], int | None]:
    conn = _conn(session)
    keys = tuple(sorted(filters))
    stmts = _filter_plan(spec, keys)
    params: dict[str, Any] = {f"f_{k}": v for k, v in filters.items()}
    if after is not None:
        ids = list(conn.execute(stmts["ids_after"], {**params, "after": after, "limit": limit}).scalars())
    else:
        ids = list(conn.execute(stmts["ids"], {**params, "limit": limit, "offset": offset}).scalars())
    if not with_total:
        return ids, None
    key = _cache_key(session, spec, filters, None)
    hit = _cached_total(key)  # a large total counted less than COUNT_TTL ago
    if hit is not None:
        return ids, hit[0]
    n = int(conn.execute(stmts["capped"], {**params, "cap": COUNT_CAP + 1}).scalar() or 0)
    if n <= COUNT_CAP:
        return ids, n
    total = int(conn.execute(stmts["exact"], params).scalar() or 0)
    _remember_total(key, total)
    return ids, total


# -- pages -------------------------------------------------------------------------------------------


def page_ids(
    session: Session,
    spec: Any,
    *,
    filters: dict[str, Any] | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
    after: int | None = None,
    with_total: bool = True,
) -> tuple[list[int], int | None]:
    """The ids of one page (ascending) and the total (None without ``with_total``)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise Invalid("offset must not be negative")
    active = _filters(spec, filters)
    q = (q or "").strip() or None
    if q:
        return _search_ids(
            session, spec, q, active, limit=limit, offset=offset, after=after, with_total=with_total
        )
    return _filter_ids(session, spec, active, limit=limit, offset=offset, after=after, with_total=with_total)


def _by_ids(spec: Any, kind: str) -> Select[Any]:
    def build() -> Select[Any]:
        model = spec.model
        what = (
            select(model)
            if kind == "orm"
            else select(*[getattr(model, f).label(f) for f in json_fields(spec) or ()])
        )
        return what.where(model.id.in_(bindparam("ids", expanding=True))).order_by(model.id)

    return _cached(("rows", spec.name, kind), build)  # type: ignore[no-any-return]


def list_page(session: Session, spec: Any, **kw: Any) -> dict[str, Any]:
    """A page of ORM objects (CLI, web pages): ``{items, total, limit, offset, next_after}``."""
    ids, total = page_ids(session, spec, **kw)
    items = list(session.scalars(_by_ids(spec, "orm"), {"ids": ids})) if ids else []
    return _page(items, ids, total, kw)


def _page(items: list[Any], ids: list[int], total: int | None, kw: dict[str, Any]) -> dict[str, Any]:
    limit = kw.get("limit", 50)
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": kw.get("offset", 0),
        "next_after": ids[-1] if ids and len(ids) == limit else None,
    }


def json_fields(spec: Any) -> list[str] | None:
    """The read schema's fields when it is a plain projection of columns (every field a mapped
    column; no model validators, serializers or computed fields); else None.

    Field validators that read schemas inherit from their create schemas (normalising a CIDR, a
    country code, a purl) are input checks: rows were validated when written, or come from an
    importer that keeps what the source said, and a list shows what is stored."""

    def build() -> list[str] | None:
        read = spec.read
        decorators = read.__pydantic_decorators__
        if any(
            (
                decorators.root_validators,
                decorators.field_serializers,
                decorators.model_serializers,
                decorators.model_validators,
                decorators.computed_fields,
            )
        ):
            return None
        columns = set(spec.model.__mapper__.column_attrs.keys())
        fields = list(read.model_fields)
        if any(f not in columns or read.model_fields[f].alias for f in fields):
            return None
        return fields

    return _cached(("json_fields", spec.name), build)  # type: ignore[no-any-return]


def _timestamp_fields(spec: Any) -> list[str]:
    """The json fields that are timestamp columns (SQLite returns them naive)."""

    def build() -> list[str]:
        columns = spec.model.__mapper__.columns
        return [
            f for f in json_fields(spec) or () if getattr(columns[f].type, "python_type", None) is dt.datetime
        ]

    return _cached(("timestamp_fields", spec.name), build)  # type: ignore[no-any-return]


def _mark_utc(rows: list[dict[str, Any]], fields: list[str]) -> None:
    for row in rows:
        for f in fields:
            value = row[f]
            if value is not None and value.tzinfo is None:
                row[f] = value.replace(tzinfo=dt.UTC)


def page_json(session: Session, spec: Any, **kw: Any) -> bytes:
    """The API's JSON for one page, from column rows; only for specs with :func:`json_fields`."""
    ids, total = page_ids(session, spec, **kw)
    fields = json_fields(spec) or []
    rows = (
        [
            dict(zip(fields, r, strict=True))
            for r in _conn(session).execute(_by_ids(spec, "json"), {"ids": ids}).all()
        ]
        if ids
        else []
    )
    stamps = _timestamp_fields(spec)
    if stamps and rows:
        _mark_utc(rows, stamps)
    return pydantic_core.to_json(_page(rows, ids, total, kw))


def build_query(spec: Any, *, filters: dict[str, Any] | None = None, q: str | None = None) -> Select[Any]:
    """Filters and prefix search as one ORM statement (for composing: topology, filters with a
    search). List pages use :mod:`ciimap.core.listing`, which answers from small index queries."""
    model = spec.model
    stmt = select(model)
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if key not in spec.filters:
            raise Invalid(
                f"cannot filter {spec.name} by '{key}' (filters: {', '.join(spec.filters) or 'none'})"
            )
        stmt = stmt.where(getattr(model, key) == value)
    if q and q.strip():
        (lo, hi), orig = search_bounds(q)
        parts = []
        for f in spec.search:
            col = getattr(model, f)
            for a, b in [(lo, hi)] + ([orig] if orig else []):  # original casing too
                parts.append(select(model.id).where(col >= a, col < b))  # type: ignore[attr-defined]
        parts += [select(id_col).where(col >= lo, col < hi) for id_col, col in spec.extra_search]
        ids = union(*parts).scalar_subquery() if len(parts) > 1 else parts[0].scalar_subquery()
        stmt = stmt.where(model.id.in_(ids))  # type: ignore[attr-defined]
    return stmt
