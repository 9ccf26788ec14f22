"""``ciimap user ...``: create users, list them, issue API tokens."""

from __future__ import annotations

import typer

from ciimap.auth import login, service
from ciimap.auth.schemas import UserRead
from ciimap.core import audit
from ciimap.core.db import get_database
from ciimap.core.output import print_json, print_table, to_data

app = typer.Typer(help="Users, roles and API tokens", no_args_is_help=True)
GROUPS = [("user", app)]


@app.command("create")
def create(
    username: str,
    role: str = typer.Option("analyst", help="admin, analyst, auditor or regulator"),
    password: str | None = typer.Option(None, help="omit to be prompted", envvar="CIIMAP_NEW_PASSWORD"),
    full_name: str | None = typer.Option(None),
    locale: str = typer.Option("zh-CN", help="zh-CN or en"),
    organization: int | None = typer.Option(
        None, "--organization", help="bind to this organization id: sees only its incidents"
    ),
) -> None:
    """Create a user (password hashed with argon2)."""
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with get_database().unit_of_work() as db:
        user = service.create_user(
            db,
            username=username,
            password=password,
            role=role,
            full_name=full_name,
            locale=locale,
            organization_id=organization,
        )
        typer.echo(f"created user {user.username} ({user.role})")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List users."""
    with get_database().read_session() as db:
        rows = [to_data(u, UserRead) for u in service.list_users(db)]
    print_json(rows) if as_json else print_table(
        rows, ["id", "username", "role", "locale", "is_active", "last_login"]
    )


@app.command("token")
def token(username: str, name: str = typer.Option("cli"), days: int | None = typer.Option(None)) -> None:
    """Issue an API token for a user; the secret is printed once and stored only as a hash."""
    with get_database().unit_of_work() as db:
        user = service.get_user(db, username)
        _tok, secret = service.create_token(db, user, name, days=days)
    typer.echo(secret)


@app.command("password")
def password(username: str, password: str | None = typer.Option(None, envvar="CIIMAP_NEW_PASSWORD")) -> None:
    """Set a user's password."""
    if password is None:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    with get_database().unit_of_work() as db:
        service.set_password(db, service.get_user(db, username), password)
    typer.echo("password changed")


@app.command("update")
def update(
    username: str,
    role: str | None = typer.Option(None, help="admin, analyst or auditor"),
    active: bool | None = typer.Option(None, "--active/--disabled", help="enable or disable the account"),
    full_name: str | None = typer.Option(None),
) -> None:
    """Change a user's role or enable/disable it (the last active admin cannot be demoted or disabled)."""
    with get_database().unit_of_work() as db:
        user = service.update_user(
            db, user=service.get_user(db, username), role=role, is_active=active, full_name=full_name
        )
        typer.echo(f"user {user.username}: role {user.role}, {'active' if user.is_active else 'disabled'}")


@app.command("revoke-tokens")
def revoke_tokens(username: str) -> None:
    """Revoke every API token of a user."""
    with get_database().unit_of_work() as db:
        n = service.revoke_tokens(db, service.get_user(db, username))
    typer.echo(f"revoked {n} token(s)")


@app.command("unlock")
def unlock(username: str) -> None:
    """Forget a username's failed logins, lifting its login wait at once (the address's count stays)."""
    with get_database().unit_of_work() as db:
        login.clear(db, username)
        audit.record(db, "login_unlocked", "user_account", None, after={"username": username})
    typer.echo(f"user {username}: failed logins forgotten")
