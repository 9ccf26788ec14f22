"""Test fixtures: every database test runs on SQLite and on a real PostgreSQL server.

The PostgreSQL server comes from ``CIIMAP_TEST_PG_URL`` (set by ``make test``) or is started here
with ``scripts/pg.sh``. Each xdist worker uses its own databases; tables are emptied after each test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ciimap.core.db import Base, Database, set_database
from ciimap.registry import load_all

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DATA = Path(__file__).resolve().parent / "data"
BACKENDS = ["sqlite", "postgresql"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("CIIMAP_TEST_PG_URL")
    if url:
        yield url
        return
    if not shutil.which("runuser") and os.geteuid() == 0:
        pytest.fail("cannot start PostgreSQL: runuser missing")
    d = Path("/tmp") / f"ciimap-pg-{os.getpid()}"
    out = subprocess.run(
        [str(ROOT / "scripts" / "pg.sh"), "start", str(d), str(_free_port())],
        check=True,
        capture_output=True,
        text=True,
    )
    yield out.stdout.strip().splitlines()[-1]
    subprocess.run([str(ROOT / "scripts" / "pg.sh"), "stop", str(d)], check=False)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Files ciimap keeps beside the database (uploads, the shared graph) go to a per-worker temp dir,
    never into the checkout's ./var; subprocesses inherit it. Tests may still point it elsewhere."""
    from ciimap.config import get_settings

    old = os.environ.get("CIIMAP_DATA_DIR")
    os.environ["CIIMAP_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    get_settings.cache_clear()
    yield
    if old is None:
        os.environ.pop("CIIMAP_DATA_DIR", None)
    else:
        os.environ["CIIMAP_DATA_DIR"] = old
    get_settings.cache_clear()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


@pytest.fixture(scope="session")
def _databases(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {}


def _prepare(
    backend: str,
    cache: dict[str, Any],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Database:
    if backend in cache:
        return cache[backend]
    from ciimap.core.migrate import upgrade

    load_all()
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/test.db"
    else:
        server = request.getfixturevalue("pg_server")
        name = f"ciimap_test_{_worker()}_{os.getpid()}"
        admin = Database(server)
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.engine.dispose()
        url = server.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    db = Database(url)
    cache[backend] = db
    return db


def _settle() -> None:
    """Let in-process job threads finish (they write through the process-wide database, which the next
    test replaces) and drop caches keyed by a URL the next test reuses with restarted ids."""
    from ciimap.compliance import evidence
    from ciimap.core import jobs
    from ciimap.graph import build

    with jobs._pool_lock:
        pool, jobs._pool = jobs._pool, None
    if pool is not None:
        pool.shutdown(wait=True)
    build.clear_cache()
    evidence.clear_cache()


def _empty(db: Database) -> None:
    from sqlalchemy import inspect

    if db.is_sqlite:
        from ciimap.core.live import store_for

        store_for(db.url, db.engine.url.database).clear()
    existing = set(inspect(db.engine).get_table_names())
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    with db.engine.begin() as c:
        if db.is_sqlite:  # reverse dependency order keeps foreign keys satisfied
            for t in tables:
                c.execute(text(f'DELETE FROM "{t}"'))
        else:  # also the procrastinate queue, so a stale task cannot run a later test's job id
            queue = sorted(t for t in existing if t.startswith("procrastinate_jobs"))
            c.execute(
                text("SET LOCAL lock_timeout = '30s'")
            )  # a leaked transaction fails the test, not hangs it
            c.execute(
                text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables + queue) + " RESTART IDENTITY CASCADE")
            )


@pytest.fixture(params=BACKENDS)
def database(
    request: pytest.FixtureRequest, _databases: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated, empty database on each backend, installed as the process-wide database."""
    db = _prepare(request.param, _databases, request, tmp_path_factory)
    set_database(None)
    import ciimap.core.db as dbmod

    dbmod._db = db
    try:
        yield db
    finally:
        _settle()  # while this test's database is still the process-wide one
        dbmod._db = None
        _empty(db)


@pytest.fixture
def sqlite_database(
    request: pytest.FixtureRequest, _databases: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """SQLite only — for tests of SQLite-specific behaviour (in-process jobs, file locking)."""
    db = _prepare("sqlite", _databases, request, tmp_path_factory)
    import ciimap.core.db as dbmod

    dbmod._db = db
    try:
        yield db
    finally:
        _settle()  # while this test's database is still the process-wide one
        dbmod._db = None
        _empty(db)


@pytest.fixture
def app(database: Database) -> Any:
    from ciimap.app import create_app

    return create_app()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def make_user(db: Database, username: str, role: str, password: str = "correct-horse-1") -> dict[str, str]:
    """Create a user and return bearer headers for it."""
    from ciimap.auth import service

    with db.unit_of_work() as s:
        user = service.create_user(s, username=username, password=password, role=role)
        _tok, secret = service.create_token(s, user, "test")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def admin_headers(database: Database) -> dict[str, str]:
    return make_user(database, "admin", "admin")


@pytest.fixture
def analyst_headers(database: Database) -> dict[str, str]:
    return make_user(database, "analyst", "analyst")


@pytest.fixture
def auditor_headers(database: Database) -> dict[str, str]:
    return make_user(database, "auditor", "auditor")
