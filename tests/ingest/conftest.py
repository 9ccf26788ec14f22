"""Helpers for ingest tests: run an import in its own unit of work, count rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ciimap.core import jobs
from ciimap.core.db import Database

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
NMAP1 = SHARED / "nmap" / "loopback-sV-O.xml"
NMAP2 = SHARED / "nmap" / "loopback-sV-O-day2.xml"


@pytest.fixture
def run_import(database: Database) -> Callable[..., dict[str, Any]]:
    from ciimap.ingest import service

    def run(kind: str, *paths: Path, **kw: Any) -> dict[str, Any]:
        with database.unit_of_work() as s:
            return service.import_files(s, kind=kind, paths=list(paths), **kw)

    return run


@pytest.fixture
def count(database: Database) -> Callable[..., int]:
    def n(model: Any, *where: Any) -> int:
        with database.read_session() as s:
            return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    return n


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """Capture dispatched job ids; the test runs them with the real ``jobs.execute``."""
    from ciimap.config import get_settings

    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    ids: list[int] = []
    monkeypatch.setattr(jobs, "dispatch", ids.append)
    return ids
