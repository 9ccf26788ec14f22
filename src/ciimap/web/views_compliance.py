"""Compliance pages (等级保护 + 关基保护): the overview, a page per system and the assessment workspace.

Thin: the data comes from :mod:`ciimap.compliance.overview` (also served by
``GET /api/compliance/overview`` and ``ciimap compliance overview``); the workspace saves through the
compliance API (``PUT /api/compliance/assessments/{id}/results``, ``POST .../results/bulk``) from
``static/js/compliance.js`` with the session's CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ciimap.compliance import overview
from ciimap.core.deps import DbSession, Reader
from ciimap.core.schemas import Int32
from ciimap.web.render import locale_for, render

router = APIRouter(include_in_schema=False)

#: Keyboard digit → result code on the workspace (1 符合, 2 部分符合, 3 不符合, 0 不适用).
RESULT_KEYS = {"1": "pass", "2": "partial", "3": "fail", "0": "na"}


@router.get("/compliance")
def compliance_page(request: Request, db: DbSession, principal: Reader) -> Any:
    return render(
        request,
        "compliance/overview.html",
        principal,
        active="compliance",
        data=overview.overview(db),
        conclusion_key=overview.CONCLUSION_KEYS,
    )


@router.get("/compliance/systems/{system_id}")
def system_page(request: Request, system_id: Int32, db: DbSession, principal: Reader) -> Any:
    return render(
        request,
        "compliance/system.html",
        principal,
        active="compliance",
        data=overview.for_system(db, system_id=system_id),
        conclusion_key=overview.CONCLUSION_KEYS,
    )


@router.get("/compliance/assessments/{assessment_id}")
def workspace_page(request: Request, assessment_id: Int32, db: DbSession, principal: Reader) -> Any:
    data = overview.workspace(db, assessment_id=assessment_id)
    a = data["assessment"]
    zh = locale_for(request, principal) == "zh-CN"
    editable = a["state"] == "open" and principal.can("write")
    return render(
        request,
        "compliance/workspace.html",
        principal,
        active="compliance",
        a=a,
        items=data["items"],
        objects=a["test_objects"],
        editable=editable,
        ws_data={
            "assessment_id": a["id"],
            "editable": editable,
            "keys": RESULT_KEYS,
            "items": {it["key"]: _item_js(it, zh) for it in data["items"]},
        },
        results=overview.RESULT_CODES,
        result_keys=RESULT_KEYS,
        methods=overview.METHODS,
        conclusion_key=overview.CONCLUSION_KEYS,
    )


def _item_js(it: dict[str, Any], zh: bool) -> dict[str, Any]:
    """What the side panel of the workspace shows for an item (in the page's language)."""
    p = it["proposal"]
    return {
        "id": it["id"],
        "summary": it["summary_zh"] if zh else it["summary_en"],
        "proposal": None
        if p is None
        else {
            "result": p["result"],
            "title": p["title_zh"] if zh else p["title_en"],
            "text": p["explanation_zh"] if zh else p["explanation_en"],
            "records": [f"{r['label']} ({r['why']})" for r in p["records"][:10]],
            "records_total": p["records_total"],
        },
    }
