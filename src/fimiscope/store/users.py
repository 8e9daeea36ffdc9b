"""Workbench users: accounts with a role, browser sessions and API tokens.

Passwords are hashed with Argon2id (argon2-cffi). Session ids and API tokens are 256-bit
random strings; only their SHA-256 is stored, which is enough for secrets that long.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.ids import new_id
from fimiscope.store import Store
from fimiscope.store.tables_users import api_tokens, user_sessions, users

ROLES = ("admin", "analyst", "viewer")
# What each role may do; a higher role may do everything a lower one may.
ROLE_RANK = {"viewer": 0, "analyst": 1, "admin": 2}
TOKEN_PREFIX = "fimi_"

_hasher = PasswordHasher()

@cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so a wrong name costs the same
    time as a wrong password; made at the first login (argon2 takes ~0.15 s, too long for every
    command's start)."""
    return _hasher.hash("not a real password")


@dataclass(slots=True)
class User:
    id: str
    name: str
    role: str
    created_at: datetime | None = None
    last_login_at: datetime | None = None

    def may(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


@dataclass(slots=True)
class Session:
    user: User
    csrf: str
    expires_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _user(row: Any) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        created_at=to_utc(row["created_at"]) if row["created_at"] else None,
        last_login_at=to_utc(row["last_login_at"]) if row["last_login_at"] else None,
    )


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    return role


def add_user(store: Store, name: str, password: str, role: str = "analyst") -> User:
    name = name.strip()
    if not name:
        raise InvalidInput("a user needs a name")
    check_role(role)
    if len(password) < 8:
        raise InvalidInput("the password must be at least 8 characters long")
    with store.transaction() as c:
        if c.execute(sa.select(users.c.id).where(users.c.name == name)).first():
            raise InvalidInput(f"a user named {name!r} already exists")
        user = User(id=new_id("usr_"), name=name, role=role, created_at=utcnow())
        c.execute(
            users.insert().values(
                id=user.id, name=name, role=role, password_hash=_hasher.hash(password), created_at=user.created_at
            )
        )
    return user


def list_users(store: Store) -> list[User]:
    with store.connect() as c:
        return [_user(r) for r in c.execute(sa.select(users).order_by(users.c.name)).mappings()]


def get_user(store: Store, name: str) -> User:
    with store.connect() as c:
        row = c.execute(sa.select(users).where(users.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"no user {name!r} (see `fimiscope users list`)")
    return _user(row)


def remove_user(store: Store, name: str) -> None:
    user = get_user(store, name)
    with store.transaction() as c:
        c.execute(api_tokens.delete().where(api_tokens.c.user_id == user.id))
        c.execute(user_sessions.delete().where(user_sessions.c.user_id == user.id))
        c.execute(users.delete().where(users.c.id == user.id))


def set_role(store: Store, name: str, role: str) -> User:
    user = get_user(store, check_role(role) and name)
    with store.transaction() as c:
        c.execute(users.update().where(users.c.id == user.id).values(role=role))
    user.role = role
    return user


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user if the password is right, else None (same work either way)."""
    with store.connect() as c:
        row = c.execute(sa.select(users).where(users.c.name == name)).mappings().first()
    try:
        _hasher.verify(row["password_hash"] if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    with store.transaction() as c:
        c.execute(users.update().where(users.c.id == row["id"]).values(last_login_at=utcnow()))
        if _hasher.check_needs_rehash(row["password_hash"]):
            c.execute(users.update().where(users.c.id == row["id"]).values(password_hash=_hasher.hash(password)))
    return _user(row)


# -- browser sessions --------------------------------------------------------------------------


def open_session(store: Store, user: User, lifetime: timedelta) -> tuple[str, Session]:
    """A new session; returns the secret for the cookie and the session (with its CSRF token)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    session = Session(user=user, csrf=secrets.token_urlsafe(32), expires_at=now + lifetime)
    with store.transaction() as c:
        c.execute(user_sessions.delete().where(user_sessions.c.expires_at < now))
        c.execute(
            user_sessions.insert().values(
                id_hash=_digest(secret),
                user_id=user.id,
                csrf=session.csrf,
                created_at=now,
                expires_at=session.expires_at,
            )
        )
    return secret, session


def session_for(store: Store, secret: str) -> Session | None:
    q = (
        sa.select(users, user_sessions.c.csrf, user_sessions.c.expires_at)
        .select_from(user_sessions.join(users, users.c.id == user_sessions.c.user_id))
        .where(user_sessions.c.id_hash == _digest(secret))
    )
    with store.connect() as c:
        row = c.execute(q).mappings().first()
    if row is None or to_utc(row["expires_at"]) < utcnow():
        return None
    return Session(user=_user(row), csrf=row["csrf"], expires_at=to_utc(row["expires_at"]))


def close_session(store: Store, secret: str) -> None:
    with store.transaction() as c:
        c.execute(user_sessions.delete().where(user_sessions.c.id_hash == _digest(secret)))


# -- API tokens --------------------------------------------------------------------------------


def create_token(store: Store, name: str) -> tuple[str, str]:
    """A new bearer token for user ``name``: returns (token id, the token). The token is shown once."""
    user = get_user(store, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = new_id("tok_")
    with store.transaction() as c:
        c.execute(
            api_tokens.insert().values(id=token_id, user_id=user.id, token_hash=_digest(token), created_at=utcnow())
        )
    return token_id, token


def user_for_token(store: Store, token: str) -> User | None:
    q = (
        sa.select(users, api_tokens.c.id.label("token_id"))
        .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
        .where(api_tokens.c.token_hash == _digest(token))
    )
    with store.connect() as c:
        row = c.execute(q).mappings().first()
    return _user(row) if row is not None else None


def revoke_tokens(store: Store, name: str) -> int:
    user = get_user(store, name)
    with store.transaction() as c:
        res = c.execute(api_tokens.delete().where(api_tokens.c.user_id == user.id))
    return int(res.rowcount or 0)
