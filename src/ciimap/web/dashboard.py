"""What the dashboard shows: how exposed the operator is (:mod:`ciimap.posture`, also /api/posture and
``ciimap posture``), the map's counts and trends (:mod:`ciimap.inventory.overview`, also
served by /api/overview and ``ciimap overview``) plus cards from other capabilities (findings, change
events, SPOF, concentration) from :mod:`ciimap.web.domains` — never placeholder numbers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ciimap.inventory import overview
from ciimap.posture import service as posture
from ciimap.web import domains


def summary(session: Session, viewer_org: int | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, in one JSON-able dict (incident cards: ``viewer_org``'s only):
    the posture cards first (:mod:`ciimap.posture`), then the map's counts and the other cards."""
    return {
        "posture": posture.posture(session, viewer_org=viewer_org),
        **overview.overview(session),
        "domains": domains.dashboard_cards(session, viewer_org),
    }
