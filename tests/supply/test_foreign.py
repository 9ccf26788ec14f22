"""Foreign-product inventory per system and layer, on a hand-made map (both databases)."""

from __future__ import annotations

import pytest

from ciimap.core.errors import Invalid, NotFound
from ciimap.supply import foreign


def _rows(inv, system_id):
    return {r["layer"]: r for r in inv["rows"] if r["system_id"] == system_id}


def test_inventory_per_system_and_layer(database, supply_map):
    ids = supply_map
    with database.read_session() as s:
        inv = foreign.inventory(s)
    cii = _rows(inv, ids["cii"])
    assert set(cii) == {"os", "security", "database", "application"}
    os_ = cii["os"]
    assert (os_["products"], os_["foreign_products"], os_["domestic_products"]) == (2, 1, 1)
    assert os_["domestic_share"] == 0.5
    assert (os_["foreign_assets"], os_["domestic_assets"]) == (2, 1)  # retired a6 is not counted
    assert [(f["product"], f["vendor"], f["assets"], f["via"]) for f in os_["foreign"]] == [
        ("Windows Server", "Microsoft", 2, ["asset"])
    ]
    assert cii["security"]["domestic_share"] == 0.0 and cii["security"]["foreign_assets"] == 2
    assert cii["database"]["foreign_assets"] == 1 and cii["database"]["domestic_assets"] == 1
    app = cii["application"]["foreign"][0]
    assert app["product"] == "EvilApp" and app["via"] == ["edge"] and app["assets"] == 0
    office = _rows(inv, ids["office"])
    assert office["os"]["foreign_assets"] == 1
    ora = office["database"]["foreign"][0]
    assert ora["product"] == "Oracle Database" and ora["via"] == ["system_software"] and ora["assets"] == 0
    unassigned = _rows(inv, None)
    assert unassigned["database"]["foreign"][0]["assets"] == 1 and unassigned["database"]["system"] == ""


def test_organisation_summary(database, supply_map):
    with database.read_session() as s:
        summary = {r["layer"]: r for r in foreign.inventory(s)["summary"]}
    os_ = summary["os"]
    assert (os_["products"], os_["foreign_products"], os_["domestic_products"]) == (2, 1, 1)
    assert os_["systems_with_foreign"] == 2 and os_["foreign_assets"] == 3  # a1, a2, a4
    db_ = summary["database"]
    assert db_["foreign_products"] == 1 and db_["foreign_assets"] == 2  # a2 (CII) and unassigned a5
    assert summary["security"]["domestic_share"] == 0.0


def test_filters_and_domestic_only_rows(database, supply_map):
    from ciimap.inventory import models as m

    ids = supply_map
    with database.unit_of_work() as w:  # the office system gets a layer with only a domestic product
        tongweb = m.Product(vendor_id=ids["v_kylin"], name="TongWeb", layer="middleware")
        w.add(tongweb)
        w.flush()
        w.add(m.Software(asset_id=ids["a4"], product_id=tongweb.id, name="tongweb"))
    with database.read_session() as s:
        inv = foreign.inventory(s, system_id=ids["cii"], layer="database")
        assert [(r["system_id"], r["layer"]) for r in inv["rows"]] == [(ids["cii"], "database")]
        default = foreign.inventory(s, system_id=ids["office"])["rows"]
        assert sorted(r["layer"] for r in default) == ["database", "os"]
        full = foreign.inventory(s, system_id=ids["office"], include_domestic_only=True)["rows"]
        mw = next(r for r in full if r["layer"] == "middleware")
        assert mw["domestic_share"] == 1.0 and mw["domestic_assets"] == 1 and mw["foreign"] == []
        with pytest.raises(Invalid, match="unknown layer"):
            foreign.inventory(s, layer="firmware")
        with pytest.raises(NotFound, match="system 99999"):
            foreign.inventory(s, system_id=99999)


def test_query_count_does_not_grow_with_the_map(database, supply_map):
    """Batched access: the number of statements is fixed, whatever the number of assets and systems."""
    from sqlalchemy import event

    from ciimap.inventory import models as m
    from ciimap.supply import export

    def count_queries() -> tuple[int, int]:
        seen: list[str] = []

        def hook(*args):
            seen.append(args[2])

        event.listen(database.engine, "before_cursor_execute", hook)
        try:
            with database.read_session() as s:
                foreign.inventory(s)
                n_inv = len(seen)
                export.workbook(s)
        finally:
            event.remove(database.engine, "before_cursor_execute", hook)
        return n_inv, len(seen)

    before = count_queries()
    with database.unit_of_work() as s:
        for i in range(30):
            system = m.System(name=f"extra-{i}", is_cii=i % 2 == 0)
            s.add(system)
            s.flush()
            asset = m.Asset(name=f"x{i}", system_id=system.id)
            s.add(asset)
            s.flush()
            s.add(m.Software(asset_id=asset.id, product_id=supply_map["p_ora"], name="oracle"))
    after = count_queries()
    assert before == after and before[0] <= 6


def test_cii_only(database, supply_map):
    with database.read_session() as s:
        inv = foreign.inventory(s, cii_only=True)
    assert {r["system_id"] for r in inv["rows"]} == {supply_map["cii"]}
    os_ = next(r for r in inv["summary"] if r["layer"] == "os")
    assert os_["foreign_assets"] == 2 and os_["systems_with_foreign"] == 1
