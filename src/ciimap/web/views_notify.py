"""Notification administration page (admin only): channels (secrets never shown), routing rules and the
outbox. Changes go through ciimap.notify.service, the same functions as /api/notify and ``ciimap notify``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session

from ciimap.core.deps import Admin, DbSession, Principal
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.notify import service as notify
from ciimap.web.i18n import Translator
from ciimap.web.render import locale_for, render

router = APIRouter(include_in_schema=False)
OUTBOX_ROWS = 50


def _page(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Any:
    return render(
        request,
        "notify.html",
        principal,
        status_code=status,
        active="notify",
        channels=notify.list_channels(db),
        rules=notify.list_rules(db),
        messages=notify.list_messages(db, limit=OUTBOX_ROWS),
        kinds=notify.CHANNEL_KINDS,
        message=message,
        error=error,
    )


def _t(request: Request, principal: Principal, key: str, **kw: Any) -> str:
    return Translator(locale_for(request, principal))(key, **kw)


@router.get("/admin/notify")
def notify_page(request: Request, db: DbSession, principal: Admin) -> Any:
    return _page(request, db, principal)


@router.post("/admin/notify/channels")
def add_channel(
    request: Request,
    db: DbSession,
    principal: Admin,
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=16)],
    url: Annotated[str, Form(max_length=2000)],
    secret: Annotated[str, Form(max_length=500)] = "",
) -> Any:
    try:
        notify.add_channel(
            db, name=name.strip(), kind=kind, url=url.strip(), secret=secret or None, actor=principal.username
        )
    except (Invalid, Conflict) as e:
        db.rollback()
        return _page(request, db, principal, error=e.message, status=e.http_status)
    return _page(request, db, principal, message=_t(request, principal, "notify.added", name=name.strip()))


@router.post("/admin/notify/channels/{name}/test")
def test_channel(request: Request, name: str, db: DbSession, principal: Admin) -> Any:
    try:
        result = notify.send_test(db, name)
    except (Invalid, NotFound) as e:
        return _page(request, db, principal, error=e.message, status=e.http_status)
    if result["ok"]:
        return _page(request, db, principal, message=_t(request, principal, "notify.test_ok", name=name))
    error = _t(request, principal, "notify.test_failed", name=name, error=result["error"] or "")
    return _page(request, db, principal, error=error)


@router.post("/admin/notify/channels/{name}/delete")
def remove_channel(request: Request, name: str, db: DbSession, principal: Admin) -> Any:
    try:
        notify.remove_channel(db, name)
    except NotFound as e:
        return _page(request, db, principal, error=e.message, status=e.http_status)
    return _page(request, db, principal, message=_t(request, principal, "notify.removed", name=name))
