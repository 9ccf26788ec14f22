"""SBOM import from the import page: the target system or asset is chosen on the page, checked before
anything is queued (one message), and passed to the SBOM importer — on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ciimap.core import jobs
from ciimap.inventory.models import Software, System
from conftest import make_user
from web.test_pages import login

SBOM = Path(__file__).resolve().parents[1] / "data" / "web" / "python-app-sbom.cdx.json"


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    from ciimap.config import get_settings

    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    ids: list[int] = []
    monkeypatch.setattr(jobs, "dispatch", ids.append)
    return ids


@pytest.fixture
def target(database) -> int:
    for name in ("admin", "analyst", "auditor"):
        make_user(database, name, name)
    with database.unit_of_work() as s:
        s.add(System(name="支付系统", mlps_level=3))
        s.flush()
        return int(s.scalars(select(System.id)).one())


def _post(client, csrf: str, kind: str, target: str) -> object:
    with SBOM.open("rb") as fh:
        return client.post(
            "/imports",
            data={"kind": kind, "target": target},
            files=[("files", (SBOM.name, fh, "application/json"))],
            headers={"X-CSRF-Token": csrf},
        )


def test_sbom_import_with_a_chosen_system(client, database, target, queued):
    csrf = login(client, "analyst")
    page = client.get("/imports").text
    assert 'name="target"' in page and f'value="system:{target} 支付系统"' in page and "SBOM 必填" in page
    r = _post(client, csrf, "sbom", f"system:{target} 支付系统")
    assert r.status_code == 200 and "job-" in r.text, r.text
    jobs.execute(queued[-1])
    with database.read_session() as s:
        job = s.get(jobs.Job, queued[-1])
        assert job.status == "succeeded", job.error
        assert job.params["options"] == {"system_id": target}
        n = s.scalar(select(func.count()).select_from(Software).where(Software.system_id == target))
        assert n and n > 10


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("sbom", "", "exactly one asset"),
        ("sbom", "system:999999", "system 999999 does not exist"),
        ("sbom", "asset:999999", "asset 999999 does not exist"),
        ("sbom", "支付系统", "expected system:ID or asset:ID"),
        ("nmap", "system:1", "take no target"),
    ],
)
def test_bad_target_is_one_message_and_nothing_queued(client, target, queued, kind, value, message):
    csrf = login(client, "analyst")
    r = _post(client, csrf, kind, value)
    assert r.status_code == 422 and message in r.text and r.text.count('role="alert"') == 1
    assert queued == []
