"""Commercial cryptography pages: the inventory (every system, then one system's layers, certificates and
flags) and the 密评 workspace. Thin: the data comes from the crypto services the API and the CLI call
(``/api/crypto/inventory``, ``/flags``, ``/assessments``); the workspace saves through
``PUT /api/crypto/assessments/{id}/units`` from ``static/js/crypto.js``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ciimap.core.deps import DbSession, Reader
from ciimap.core.schemas import Int32
from ciimap.crypto import assessment, overview, service
from ciimap.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/crypto")
def crypto_page(request: Request, db: DbSession, principal: Reader) -> Any:
    inv = service.inventory(db, detail=False)
    flags = service.flags(db)
    return render(
        request,
        "crypto/overview.html",
        principal,
        active="crypto",
        systems=inv["systems"],
        warnings=inv["warnings"][:50],
        flag_counts=overview.flag_counts(flags),
        gaps=overview.gaps(db),
        assessments=assessment.list_assessments(db),
    )


@router.get("/crypto/systems/{system_id}")
def system_page(request: Request, system_id: Int32, db: DbSession, principal: Reader) -> Any:
    inv = service.inventory(db, system_id=system_id)
    systems = inv["systems"]
    return render(
        request,
        "crypto/system.html",
        principal,
        active="crypto",
        system_id=system_id,
        system=systems[0] if systems else {"system": None, "layers": {}, "gm": False},
        flags=service.flags(db, system_id=system_id),
        assessments=assessment.list_assessments(db, system_id=system_id),
    )


@router.get("/crypto/assessments/{assessment_id}")
def workspace_page(request: Request, assessment_id: Int32, db: DbSession, principal: Reader) -> Any:
    a = assessment.describe(db, assessment_id=assessment_id)
    recorded = {(u["layer"], u["unit"]): u for u in a["units"]}
    rows = [
        {**u, "recorded": recorded.get((u["layer"], u["unit"]))} for u in assessment.units_table(a["level"])
    ]
    editable = principal.can("write")
    return render(
        request,
        "crypto/workspace.html",
        principal,
        active="crypto",
        a=a,
        rows=rows,
        management=("管理制度", "人员管理", "建设运行", "应急处置"),
        editable=editable,
        ws_data={"assessment_id": a["id"], "editable": editable},
    )
