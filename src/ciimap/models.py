"""Import every domain's models so metadata (Alembic, create_all) sees all tables."""

from __future__ import annotations

import importlib

MODEL_MODULES = [
    "ciimap.core.audit",
    "ciimap.core.jobs",
    "ciimap.auth.models",
    "ciimap.inventory.models",
    "ciimap.ingest.models",
    "ciimap.discovery.models",
    "ciimap.graph.models",
    "ciimap.supply.models",
    "ciimap.vulns.models",
    "ciimap.compliance.models",
]


def load_all() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
