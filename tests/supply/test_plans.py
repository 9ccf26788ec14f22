"""Substitution plans: validation, status transitions, progress and overdue (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ciimap.core.audit import AuditLog
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.supply import plans
from supply.conftest import TODAY  # the day the product is pinned to


def _plan(db, **data):
    with db.unit_of_work() as s:
        return plans.create_plan(s, data=data).id


def test_create_derives_product_and_layer_from_software(database, supply_map):
    ids = supply_map
    pid = _plan(
        database,
        system_id=ids["cii"],
        current_software_id=ids["sw_a2_ora"],
        candidate_product_id=ids["p_dm8"],
        due_date=str(TODAY - dt.timedelta(days=3)),
        owner_id=ids["owner"],
        milestones=[{"name": "适配测试", "done": True}, {"name": "数据迁移"}],
    )
    with database.read_session() as s:
        row = plans.describe(s, plan_id=pid)
        audit = s.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity_type == "supply_substitution_plan")
            .order_by(AuditLog.id)
        ).all()
    assert row["current_product_id"] == ids["p_ora"] and row["layer"] == "database"
    assert (row["current"], row["candidate"], row["candidate_vendor"]) == (
        "Oracle Database",
        "DM8",
        "达梦数据库",
    )
    assert row["owner"] == "张工" and row["system"] == "调度系统"
    assert row["overdue"] is True and row["milestones_done"] == 1
    assert row["milestones"][0]["done_on"] == TODAY.isoformat()  # stamped when marked done
    assert any("overdue" in w for w in row["warnings"])
    assert audit == ["create"]


def test_bad_input(database, supply_map):
    ids = supply_map
    base = {"system_id": ids["cii"], "current_product_id": ids["p_win"]}
    cases = [
        ({**base, "candidate_product_id": ids["p_ora"]}, "not domestic"),
        ({**base, "system_id": 99999}, "system 99999 does not exist"),
        ({**base, "status": "finished"}, "status"),
        ({"system_id": ids["cii"]}, "current_product_id, current_software_id or current_asset_id"),
        ({**base, "current_product_id": None, "current_software_id": ids["sw_a4_win"]}, "not part of system"),
        (
            {**base, "current_product_id": None, "current_asset_id": ids["a4"], "layer": "os"},
            "not part of system",
        ),
        ({**base, "candidate_product_id": ids["p_win"]}, "not domestic"),
        ({**base, "due_date": "2020-01-01", "start_date": "2021-01-01"}, "due_date is before start_date"),
        ({**base, "due_date": "2030-01-01", "milestones": [{"name": "x", "due": "2031-01-01"}]}, "due after"),
        ({**base, "status": "done", "milestones": [{"name": "上线"}]}, "milestones are open"),
        ({**base, "owner_id": 99999}, "contact 99999"),
    ]
    for data, message in cases:
        with database.unit_of_work() as s, pytest.raises(Invalid, match=message):
            plans.create_plan(s, data=data)
    with database.read_session() as s:
        assert plans.list_plans(s) == []


def test_status_transitions_and_progress(database, supply_map):
    ids = supply_map
    win = _plan(
        database,
        system_id=ids["cii"],
        current_product_id=ids["p_win"],
        candidate_product_id=ids["p_kylin"],
        milestones=[{"name": "兼容性测试"}],
        due_date=str(TODAY + dt.timedelta(days=30)),
    )
    ora = _plan(
        database,
        system_id=ids["cii"],
        current_software_id=ids["sw_a2_ora"],
        candidate_product_id=ids["p_dm8"],
        due_date=str(TODAY - dt.timedelta(days=1)),
    )
    _plan(database, system_id=ids["office"], current_product_id=ids["p_win"], status="cancelled")
    with database.unit_of_work() as s:
        with pytest.raises(Invalid, match="cannot go from 'planned' to 'done'"):
            plans.update_plan(s, plan_id=win, changes={"status": "done"})
        with pytest.raises(Conflict, match="already exists"):
            plans.create_plan(s, data={"system_id": ids["cii"], "current_product_id": ids["p_win"]})
    for status in ("in_progress", "testing"):
        with database.unit_of_work() as s:
            plans.update_plan(s, plan_id=win, changes={"status": status})
    with database.unit_of_work() as s, pytest.raises(Invalid, match="milestones are open"):
        plans.update_plan(s, plan_id=win, changes={"status": "done"})
    with database.unit_of_work() as s:
        plans.update_plan(
            s,
            plan_id=win,
            changes={
                "status": "done",
                "milestones": [{"name": "兼容性测试", "done": True, "done_on": str(TODAY)}],
            },
        )
    with database.read_session() as s:
        done = plans.describe(s, plan_id=win)
        assert done["completed_on"] == TODAY.isoformat() and done["overdue"] is False
        with pytest.raises(Invalid, match="allowed: none"):
            plans.update_plan(s, plan_id=win, changes={"status": "planned"})
        prog = plans.progress(s)
        assert [p["id"] for p in plans.list_plans(s, overdue=True)] == [ora]
        assert [p["id"] for p in plans.list_plans(s, status="done")] == [win]
        with pytest.raises(Invalid, match="unknown status"):
            plans.list_plans(s, status="finished")
        with pytest.raises(NotFound):
            plans.update_plan(s, plan_id=99999, changes={})
    per = {p["system"]: p for p in prog["systems"]}
    cii = per["调度系统"]
    assert (cii["items"], cii["done"], cii["active"], cii["overdue"]) == (2, 1, 1, 1)
    assert (cii["milestones"], cii["milestones_done"], cii["percent"]) == (1, 1, 50.0)
    assert per["办公系统"]["cancelled"] == 1 and per["办公系统"]["percent"] == 0.0
    total = prog["total"]
    assert (total["items"], total["done"], total["cancelled"], total["overdue"]) == (3, 1, 1, 1)
    assert total["percent"] == 50.0  # cancelled items do not count against progress
