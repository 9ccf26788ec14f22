"""What ciimap is made of, as plain imports: every domain's tables and every background job.

Importing this module registers them all: the ORM metadata (Alembic, ``create_all``) sees every
table, and ``core.jobs`` knows every job kind and procrastinate task. The server (``app.py``), the
queue worker (``ciimap worker``), the migrations and the tests import it. A command that queues a job
of its own domain imports that domain's ``jobs`` module instead, so ``ciimap --help`` stays fast.

The other registries: import sources in ``sources.py``, API routers and pages in ``app.py``, CLI
commands in ``cli.py``. Adding a domain: ``docs/development/adding-a-domain.md``.
"""

from __future__ import annotations

from types import ModuleType

from ciimap.alerts import jobs as alerts_jobs
from ciimap.alerts import models as alerts_models
from ciimap.alerts.live import models as alerts_live_models
from ciimap.auth import models as auth_models
from ciimap.compliance import models as compliance_models
from ciimap.core import audit as core_audit
from ciimap.core import jobs as core_jobs
from ciimap.crypto import models as crypto_models
from ciimap.datagov import models as datagov_models
from ciimap.discovery import jobs as discovery_jobs
from ciimap.discovery import models as discovery_models
from ciimap.graph import models as graph_models
from ciimap.incidents import jobs as incidents_jobs
from ciimap.incidents import models as incidents_models
from ciimap.ingest import jobs as ingest_jobs
from ciimap.ingest import models as ingest_models
from ciimap.intel import models as intel_models
from ciimap.inventory import models as inventory_models
from ciimap.notify import jobs as notify_jobs
from ciimap.notify import models as notify_models
from ciimap.supply import models as supply_models
from ciimap.vulns import jobs as vulns_jobs
from ciimap.vulns import models as vulns_models

#: Modules holding ORM models (tables).
MODELS: tuple[ModuleType, ...] = (
    core_audit,
    core_jobs,
    auth_models,
    inventory_models,
    ingest_models,
    discovery_models,
    graph_models,
    supply_models,
    vulns_models,
    compliance_models,
    alerts_models,
    alerts_live_models,
    crypto_models,
    intel_models,
    datagov_models,
    notify_models,
    incidents_models,
)

#: Modules registering job functions (``@jobs.job``) and procrastinate tasks (``@tasks.installer``).
JOBS: tuple[ModuleType, ...] = (
    ingest_jobs,
    discovery_jobs,
    vulns_jobs,
    alerts_jobs,
    notify_jobs,
    incidents_jobs,
)


def load_all() -> tuple[ModuleType, ...]:
    """Every model module (they are imported with this module; kept for callers that ask by name)."""
    return MODELS
