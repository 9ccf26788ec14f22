"""Notification routes: channels and rules (admins: channels hold credentials), the outbox (admins) and
the delivery attempts about one subject (readers: the incident timeline shows them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from ciimap.core.deps import Admin, DbSession, Reader
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Offset
from ciimap.notify import service
from ciimap.notify.models import MessageStatus
from ciimap.notify.schemas import (
    AttemptRead,
    ChannelCreate,
    ChannelRead,
    MessageRead,
    RuleCreate,
    RuleRead,
    TestResult,
)

router = APIRouter(prefix="/notify", tags=["Notifications"])


@router.get("/channels", response_model=list[ChannelRead])
def list_channels(db: DbSession, principal: Admin) -> Any:
    return service.list_channels(db)


@router.post("/channels", response_model=ChannelRead, status_code=201)
def add_channel(data: ChannelCreate, db: DbSession, principal: Admin) -> Any:
    ch = service.add_channel(db, **data.model_dump(), actor=principal.username)
    return service.channel_view(ch)


@router.delete("/channels/{name}", status_code=204, responses=NOT_FOUND)
def remove_channel(name: str, db: DbSession, principal: Admin) -> Response:
    service.remove_channel(db, name)
    return Response(status_code=204)


@router.post("/channels/{name}/test", response_model=TestResult, responses=NOT_FOUND)
def test_channel(name: str, db: DbSession, principal: Admin) -> Any:
    """Send a test message now; ``ok`` is true only when the receiver accepted it."""
    return service.send_test(db, name)


@router.get("/rules", response_model=list[RuleRead])
def list_rules(db: DbSession, principal: Admin) -> Any:
    return service.list_rules(db)


@router.post("/rules", response_model=RuleRead, status_code=201, responses=NOT_FOUND)
def add_rule(data: RuleCreate, db: DbSession, principal: Admin) -> Any:
    return service.add_rule(db, **data.model_dump())


@router.delete("/rules/{name}", status_code=204, responses=NOT_FOUND)
def remove_rule(name: str, db: DbSession, principal: Admin) -> Response:
    service.remove_rule(db, name)
    return Response(status_code=204)


@router.get("/outbox", response_model=list[MessageRead])
def outbox(
    db: DbSession,
    principal: Admin,
    status: MessageStatus | None = None,
    subject: str | None = Query(None, max_length=200),
    limit: int = Query(100, ge=1, le=service.MAX_LIST),
    offset: Offset = 0,
) -> Any:
    return service.list_messages(db, status=status, subject=subject, limit=limit, offset=offset)


@router.get("/attempts", response_model=list[AttemptRead])
def attempts(db: DbSession, principal: Reader, subject: str = Query(min_length=1, max_length=200)) -> Any:
    """Every delivery attempt about ``subject`` (``incident:42``), oldest first."""
    return service.attempts_for(db, subject)
