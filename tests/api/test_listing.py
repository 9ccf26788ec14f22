"""The API's list JSON (straight from column rows) equals the validated response model, for
every entity, on filters, search, keyset and offset pages; mixed-case and child-table search."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from ciimap.core import entity, listing
from ciimap.core.schemas import Page
from ciimap.demo import service as demo
from ciimap.inventory import models as m
from ciimap.inventory.service import ASSETS

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _validated(session, spec, **kw) -> dict:
    page = entity.list_page(session, spec, **kw)
    return Page[spec.read].model_validate(page).model_dump(mode="json")  # type: ignore[name-defined]


def test_fast_json_equals_the_response_model_for_every_entity(database):
    with database.unit_of_work() as s:
        demo.load(s, scale=500, seed=3, now=NOW)
    fast = [spec for spec in entity.REGISTRY.values() if listing.json_fields(spec) is not None]
    assert {"assets", "systems", "zones", "vendors", "endpoints", "software", "edges"} <= {
        s.name for s in fast
    }
    with database.read_session() as s:
        for spec in fast:
            first = s.execute(select(spec.model).order_by(spec.model.id).limit(1)).scalar_one_or_none()
            if first is None:
                continue
            cases: list[dict] = [{"limit": 7}, {"limit": 3, "offset": 2}, {"limit": 5, "after": first.id}]
            if spec.search:
                value = getattr(first, spec.search[0])
                if isinstance(value, str) and value:
                    cases.append({"q": value[:2], "limit": 9})
            for key in spec.filters:
                value = getattr(first, key)
                if value is not None:
                    cases.append({"filters": {key: value}, "limit": 4})
                    break
            for kw in cases:
                got = json.loads(listing.page_json(s, spec, **kw))
                assert got == _validated(s, spec, **kw), (spec.name, kw)


def test_search_is_case_insensitive_and_covers_every_address(database):
    with database.unit_of_work() as s:
        s.add(
            m.Asset(
                name="Mixed-Case-Host",
                hostname="mixed-case-host",
                kind="server",
                primary_ip="10.9.8.7",
                ips=["10.9.8.7", "172.31.0.9"],
            )
        )
        s.flush()
        s.add_all(
            [m.IpAddress(asset_id=a.id, address=ip) for a in s.scalars(select(m.Asset)) for ip in a.ips]
        )
    with database.read_session() as s:
        for q in ("MIXED-", "Mixed-Case", "mixed-c", "172.31.", "10.9.8.7"):
            page = entity.list_page(s, ASSETS, q=q)
            assert [a.name for a in page["items"]] == ["Mixed-Case-Host"] and page["total"] == 1, q
        assert entity.list_page(s, ASSETS, q="172.32.")["total"] == 0


def test_limits_are_checked(database):
    from ciimap.core.errors import Invalid

    with database.read_session() as s:
        for kw in ({"limit": 0}, {"limit": listing.MAX_LIMIT + 1}, {"offset": -1}):
            with pytest.raises(Invalid):
                listing.page_ids(s, ASSETS, **kw)
        with pytest.raises(Invalid, match="cannot filter assets by 'colour'"):
            listing.page_ids(s, ASSETS, filters={"colour": "red"})
