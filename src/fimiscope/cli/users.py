"""`fimiscope users add|list|remove|token|set-role`: who may use the workbench."""

from __future__ import annotations

import os

import typer

from fimiscope.cli.app import app, settings
from fimiscope.cli.output import check_format, emit_json, emit_list, stdout
from fimiscope.store import Store
from fimiscope.store import users as user_store

users_app = typer.Typer(help="Workbench users, roles (admin, analyst, viewer) and API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _store(ctx: typer.Context) -> Store:
    cfg = settings(ctx)
    return Store.open(cfg.database_url, cfg.data_dir)


def _user_json(u: user_store.User) -> dict[str, object]:
    return {
        "id": u.id,
        "name": u.name,
        "role": u.role,
        "created_at": u.created_at.isoformat() if u.created_at else None,
        "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
    }


@users_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Option("analyst", "--role", help="admin, analyst or viewer"),
    password: str = typer.Option(
        None, "--password", envvar="FIMISCOPE_PASSWORD",
        help="The password (prompted when not given; FIMISCOPE_PASSWORD for scripts).",
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Create a user. Passwords are stored as Argon2id hashes."""
    check_format(fmt)
    user_store.check_role(role)
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = user_store.add_user(_store(ctx), name, password, role)
    if fmt == "json":
        emit_json(_user_json(user))
    else:
        stdout.print(f"user {user.name} added ({user.role})")


@users_app.command("list")
def list_(ctx: typer.Context, fmt: str = typer.Option("table", "--format", help="table or json")) -> None:
    """List users and their roles."""
    check_format(fmt)
    rows = user_store.list_users(_store(ctx))
    emit_list(
        rows,
        fmt,
        [("name", lambda u: u.name), ("role", lambda u: u.role), ("last login", lambda u: u.last_login_at)],
        empty="No users yet. Add one: fimiscope users add NAME --role admin",
        to_json=_user_json,
    )


@users_app.command("remove")
def remove(ctx: typer.Context, name: str = typer.Argument(..., help="User name."),
           fmt: str = typer.Option("table", "--format", help="table or json")) -> None:
    """Delete a user, their sessions and their API tokens."""
    check_format(fmt)
    user_store.remove_user(_store(ctx), name)
    if fmt == "json":
        emit_json({"removed": name})
    else:
        stdout.print(f"user {name} removed")


@users_app.command("set-role")
def set_role(ctx: typer.Context, name: str = typer.Argument(..., help="User name."),
             role: str = typer.Argument(..., help="viewer, analyst or admin."),
             fmt: str = typer.Option("table", "--format", help="table or json")) -> None:
    """Change a user's role."""
    check_format(fmt)
    user = user_store.set_role(_store(ctx), name, role)
    if fmt == "json":
        emit_json(_user_json(user))
    else:
        stdout.print(f"user {name} is now {role}")


@users_app.command("token")
def token(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name."),
    revoke: bool = typer.Option(False, "--revoke", help="Revoke every token of this user instead."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Create a bearer token for the REST API (shown once; only its hash is stored)."""
    check_format(fmt)
    store = _store(ctx)
    if revoke:
        n = user_store.revoke_tokens(store, name)
        emit_json({"revoked": n}) if fmt == "json" else stdout.print(f"{n} token(s) revoked")
        return
    token_id, secret = user_store.create_token(store, name)
    if fmt == "json":
        emit_json({"id": token_id, "user": name, "token": secret})
    else:
        stdout.print(secret, soft_wrap=True)
        typer.echo(f"use it as: Authorization: Bearer <token>  (shown once{os.linesep}"
                   f"  revoke with: fimiscope users token {name} --revoke)", err=True)
