"""Topology overlay of open incidents (issue 15 item 7): systems and assets with open real incidents carry
the most severe grade code and a count; closed and drill incidents are left out; a user bound to one
organisation sees only its own organisation's incidents on the map."""

from __future__ import annotations

from typing import Any

from ciimap.auth import service as auth
from ciimap.core.db import Database
from ciimap.incidents import grading, service


def _node(topo: dict[str, Any], kind: str, ref: int) -> dict[str, Any]:
    return next(n for n in topo["nodes"] if n["type"] == kind and n["ref"] == ref)


def test_open_incidents_on_the_map(client: Any, database: Database, world: dict, admin_headers: dict) -> None:
    with database.unit_of_work() as s:
        major = grading.Facts(pi_leaked=10_000_000)  # 重大 (II)
        service.open_incident(s, viewer_org=None, title="一般事件", system_ids=[world["cii"]])
        service.open_incident(s, viewer_org=None, title="重大事件", system_ids=[world["cii"]],
                              asset_ids=[world["asset"]], facts=major)  # fmt: skip
        service.open_incident(s, viewer_org=None, title="演练", system_ids=[world["office"]], facts=major,
                              drill=True)  # fmt: skip
        service.open_incident(s, viewer_org=None, title="乙", system_ids=[world["bank"]],
                              organization_id=world["org_b"])  # fmt: skip
    topo = client.get("/api/ui/topology", headers=admin_headers).json()
    cii = _node(topo, "system", world["cii"])
    assert (cii["incident"], cii["incidents"]) == ("II", 2)  # the most severe of two open incidents
    host = _node(topo, "asset", world["asset"])
    assert (host["incident"], host["incidents"]) == ("II", 1)
    assert "incident" not in _node(topo, "system", world["office"])  # drills are not real incidents
    assert _node(topo, "system", world["bank"])["incident"] == "IV"
    page = client.get("/topology", headers=admin_headers).text
    assert 'data-overlay="incident"' in page and "未关闭事件" in page

    with database.unit_of_work() as s:
        user = auth.create_user(
            s, username="op-a", password="correct-horse-1", role="analyst", organization_id=world["org_a"]
        )
        a = {"Authorization": f"Bearer {auth.create_token(s, user, 'test')[1]}"}
    mine = client.get("/api/ui/topology", headers=a).json()
    assert "incident" not in _node(mine, "system", world["bank"])  # another organisation's incident


def test_closed_incidents_leave_the_map(
    client: Any, database: Database, world: dict, admin_headers: dict
) -> None:
    with database.unit_of_work() as s:
        inc = service.open_incident(s, viewer_org=None, title="t", system_ids=[world["office"]])
        for to in ("研判", "处置", "恢复", "总结", "关闭"):
            service.transition(s, incident_id=inc.id, viewer_org=None, to=to)
    topo = client.get("/api/ui/topology", headers=admin_headers).json()
    assert "incident" not in _node(topo, "system", world["office"])
