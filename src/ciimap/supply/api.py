"""REST routes of the supply-chain register under /api/supply (thin: parse, call a service, return)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Query, Response

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32
from ciimap.supply import export, findings, foreign, plans, service
from ciimap.supply.schemas import PlanRead, VendorProfileRead

router = APIRouter(prefix="/supply", tags=["Supply chain"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/vendors", summary="Vendor register with profiles and usage")
def vendors(
    db: DbSession, principal: Reader, is_domestic: bool | None = None, used_only: bool = False
) -> Any:
    return service.list_vendors(db, domestic=is_domestic, used_only=used_only)


@router.get("/vendors/{vendor_id}/profile", response_model=VendorProfileRead, summary="A vendor's profile")
def get_profile(vendor_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.get_profile(db, vendor_id=vendor_id)


@router.put(
    "/vendors/{vendor_id}/profile",
    response_model=VendorProfileRead,
    summary="Create or update a vendor's profile (given fields are merged)",
)
def put_profile(
    vendor_id: Int32, db: DbSession, principal: Writer, changes: dict[str, Any] = Body(...)
) -> Any:
    return service.set_profile(db, vendor_id=vendor_id, changes=changes)


@router.delete("/vendors/{vendor_id}/profile", status_code=204, summary="Delete a vendor's profile")
def delete_profile(vendor_id: Int32, db: DbSession, principal: Writer) -> Response:
    service.delete_profile(db, vendor_id=vendor_id)
    return Response(status_code=204)


@router.get(
    "/foreign", responses=NOT_FOUND, summary="Foreign-product inventory per system and layer, with a summary"
)
def foreign_inventory(
    db: DbSession,
    principal: Reader,
    system_id: Int32 | None = None,
    layer: str | None = None,
    include_domestic_only: bool = False,
    cii_only: bool = False,
) -> Any:
    return foreign.inventory(
        db, system_id=system_id, layer=layer, include_domestic_only=include_domestic_only, cii_only=cii_only
    )


@router.get(
    "/findings",
    responses=NOT_FOUND,
    summary="Supply-chain findings (contracts, NDAs, remote access, reviews, updates)",
)
def list_findings(db: DbSession, principal: Reader, vendor_id: Int32 | None = None) -> Any:
    return findings.findings(db, vendor_id=vendor_id)


@router.get("/plans", response_model=list[PlanRead], summary="Domestic substitution plans")
def list_plans(
    db: DbSession,
    principal: Reader,
    system_id: Int32 | None = None,
    status: str | None = None,
    overdue: bool | None = None,
) -> Any:
    return plans.list_plans(db, system_id=system_id, status=status, overdue=overdue)


@router.get("/plans/progress", summary="Substitution progress per system and in total")
def plan_progress(db: DbSession, principal: Reader) -> Any:
    return plans.progress(db)


@router.get("/plans/{plan_id}", response_model=PlanRead, summary="One substitution plan")
def get_plan(plan_id: Int32, db: DbSession, principal: Reader) -> Any:
    return plans.describe(db, plan_id=plan_id)


@router.post("/plans", response_model=PlanRead, status_code=201, summary="Add a substitution plan item")
def create_plan(db: DbSession, principal: Writer, data: dict[str, Any] = Body(...)) -> Any:
    return plans.describe(db, plan_id=plans.create_plan(db, data=data).id)


@router.patch("/plans/{plan_id}", response_model=PlanRead, summary="Change a substitution plan item")
def update_plan(plan_id: Int32, db: DbSession, principal: Writer, changes: dict[str, Any] = Body(...)) -> Any:
    return plans.describe(db, plan_id=plans.update_plan(db, plan_id=plan_id, changes=changes).id)


@router.delete("/plans/{plan_id}", status_code=204, summary="Delete a substitution plan item")
def delete_plan(plan_id: Int32, db: DbSession, principal: Writer) -> Response:
    plans.delete_plan(db, plan_id=plan_id)
    return Response(status_code=204)


@router.get(
    "/export.xlsx",
    summary="The supply-chain register as an XLSX workbook",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "The workbook"}},
)
def export_xlsx(db: DbSession, principal: Reader, lang: Literal["zh-CN", "en"] = Query("zh-CN")) -> Response:
    data = export.workbook(db, lang=lang)
    return Response(
        content=data,
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="ciimap-supply-chain.xlsx"'},
    )
