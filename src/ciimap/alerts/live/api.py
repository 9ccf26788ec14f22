"""Routes of the live alert inputs: the webhook (its own tokens) and the tokens' administration."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import update
from sqlalchemy.orm import Session

from ciimap.alerts.live import webhook
from ciimap.alerts.live.models import AlertWebhookToken
from ciimap.alerts.live.schemas import (
    WebhookResult,
    WebhookTokenCreate,
    WebhookTokenCreated,
    WebhookTokenRead,
)
from ciimap.auth import service as auth
from ciimap.core.audit import Actor, bind_actor, set_actor
from ciimap.core.deps import Admin, DbSession
from ciimap.core.errors import CiimapError, NotAuthenticated, PermissionDenied, TooLarge
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32

router = APIRouter(prefix="/alerts", tags=["Alerts"])


def _webhook_token(request: Request, db: DbSession, source: str) -> AlertWebhookToken:
    """The webhook token of the call (401 without a valid one; a user's API token gets 403: it is no
    webhook token). Refusals are audited."""
    client = request.client.host if request.client else "-"
    header = request.headers.get("authorization", "")
    try:
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            raise NotAuthenticated("a webhook token is required ('Authorization: Bearer <token>')")
        secret = header[7:].strip()
        if not secret.startswith(webhook.TOKEN_PREFIX):
            try:
                auth.principal_from_token(db, secret)
            except NotAuthenticated:
                raise NotAuthenticated("invalid webhook token") from None
            raise PermissionDenied("a user's API token cannot post alerts: use a webhook token")
        tok = webhook.check_token(db, secret, source)
    except CiimapError as e:
        webhook.record_refusal(client, source, e.message)
        raise
    actor = Actor(f"webhook:{tok.name}"[:100], via="api")
    set_actor(actor)
    bind_actor(db, actor)
    return tok


_webhook_token.permission = "webhook"  # type: ignore[attr-defined] # what tests/api/test_route_permissions reads
WebhookToken = Annotated[AlertWebhookToken, Depends(_webhook_token, scope="function")]


async def _body(request: Request, token: WebhookToken) -> bytes:
    """The body, read only after the token was accepted, up to ``MAX_BODY`` bytes (413 beyond)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > webhook.MAX_BODY:
            raise TooLarge(f"webhook body over {webhook.MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/webhook/{source}",
    response_model=WebhookResult,
    responses={401: {"description": "no valid webhook token"}, 413: {"description": "body too large"}},
)
def post_webhook(
    source: str, db: DbSession, token: WebhookToken, body: Annotated[bytes, Depends(_body)]
) -> dict[str, Any]:
    """Alerts pushed by a sensor or SIEM: one event or a list (JSON objects for suricata and wazuh,
    strings for syslog and cef), loaded like an imported file's lines (one run per call)."""
    lines = webhook.parse_body(body, source)
    result = webhook.ingest(db, source=source, lines=lines, token=token)
    _used(db, token.id)
    return dict(result)


def _used(db: Session, token_id: int) -> None:
    # a Core update: the token's last use is not an audited change of the token
    db.execute(
        update(AlertWebhookToken)
        .where(AlertWebhookToken.id == token_id)
        .values(last_used_at=webhook.utcnow())
    )


@router.get("/webhook-tokens", response_model=list[WebhookTokenRead])
def list_tokens(db: DbSession, principal: Admin) -> list[dict[str, Any]]:
    """Webhook tokens (never their secrets)."""
    return webhook.list_tokens(db)


@router.post("/webhook-tokens", response_model=WebhookTokenCreated, status_code=201)
def create_token(body: WebhookTokenCreate, db: DbSession, principal: Admin) -> dict[str, Any]:
    """A new webhook token: the secret (``token``) is in this answer only."""
    tok, secret = webhook.create_token(db, name=body.name, source=body.source, days=body.days)
    return {**webhook.token_dict(tok), "token": secret}


@router.delete("/webhook-tokens/{token_id}", response_model=WebhookTokenRead, responses=NOT_FOUND)
def revoke_token(token_id: Int32, db: DbSession, principal: Admin) -> dict[str, Any]:
    """Revoke a webhook token (kept, listed as revoked)."""
    return webhook.revoke_token(db, token_id=token_id)
