"""What a CLI command loads before it runs: heavy libraries only where they are needed (issue 11's
start-up target; ``bench/cli_startup.py`` measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys

from alembic.script import ScriptDirectory

from ciimap.core import migrate

#: Loaded only by the commands that use them: the web stack (serve), Alembic (db commands, an upgrade),
#: the PostgreSQL queue (worker, deferring a job), openpyxl (the XLSX exports), python-docx, fpdf2 and
#: fontTools (the reports).
HEAVY = (
    "fastapi",
    "starlette",
    "alembic",
    "procrastinate",
    "uvicorn",
    "openpyxl",
    "docx",
    "fpdf",
    "fontTools",
)


def test_importing_the_cli_loads_no_heavy_library():
    code = f"import sys, json, ciimap.cli; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(out.stdout) == []


def test_schema_heads_read_from_source_match_alembic():
    """The first-use schema check reads the revisions from the migration files instead of loading Alembic."""
    heads = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads()
    assert migrate.head_revisions() == frozenset(heads)
    assert len(heads) > 3  # one head per domain branch
