"""A small map for the grading tests: a cloud platform, systems it carries, a CII system; a fixed today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from ciimap.compliance import service
from ciimap.compliance.schemas import GradingIn
from ciimap.config import get_settings
from ciimap.core.db import Database
from ciimap.inventory import models as m

#: A Thursday. Every test's "today": deadlines and date checks do not depend on the day the suite runs.
TODAY = dt.date(2026, 12, 10)


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_today", lambda: TODAY)


@pytest.fixture
def setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``setting(NAME, value)`` sets ``CIIMAP_NAME`` for this test (settings are re-read)."""

    def put(name: str, value: str) -> None:
        monkeypatch.setenv(f"CIIMAP_{name}", value)
        get_settings.cache_clear()

    yield put
    get_settings.cache_clear()


def _add(s: Any, obj: Any) -> Any:
    s.add(obj)
    s.flush()
    return obj


def build_map(db: Database) -> dict[str, int]:
    """云平台 (platform) with an asset; 调度系统 (CII) runs on that asset; 办公系统 is hosted by 云平台 directly;
    独立系统 stands alone (its own asset, an edge to it that must not count)."""
    ids: dict[str, int] = {}
    with db.unit_of_work() as s:
        cloud = _add(s, m.System(name="云平台", code="CLOUD"))
        scada = _add(s, m.System(name="调度系统", code="SCADA", is_cii=True))
        office = _add(s, m.System(name="办公系统", code="OA"))
        alone = _add(s, m.System(name="独立系统", code="ALONE"))
        vm = _add(s, m.Asset(name="vm-1", system_id=cloud.id))
        own = _add(s, m.Asset(name="own-1", system_id=alone.id))
        _add(s, m.Edge(src_type="system", src_id=scada.id, kind="runs_on", dst_type="asset", dst_id=vm.id))
        _add(
            s,
            m.Edge(src_type="system", src_id=office.id, kind="hosted_by", dst_type="system", dst_id=cloud.id),
        )
        # its own asset, and a mere "uses": neither makes a platform
        _add(s, m.Edge(src_type="system", src_id=alone.id, kind="runs_on", dst_type="asset", dst_id=own.id))
        _add(s, m.Edge(src_type="system", src_id=alone.id, kind="uses", dst_type="system", dst_id=cloud.id))
        ids.update(cloud=cloud.id, scada=scada.id, office=office.id, alone=alone.id, vm=vm.id)
    return ids


@pytest.fixture
def gmap(database: Database) -> dict[str, int]:
    return build_map(database)


def new_grading(db: Database, system_id: int, **kw: Any) -> int:
    """Create a grading (default S order/serious = 3, A order/general = 2) and return its id."""
    values: dict[str, Any] = {
        "system_id": system_id,
        "s_object": "order",
        "s_degree": "serious",
        "a_object": "order",
        "a_degree": "general",
        **kw,
    }
    with db.unit_of_work() as s:
        return service.create_grading(s, data=GradingIn(**values)).id
