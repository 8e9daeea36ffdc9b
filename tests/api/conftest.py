"""Fixtures for the HTTP face: the real app over a real store (both backends), seeded through
the store API, with one user per role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.api_support import PASSWORD, ASGIClient, Seeded, seed

from fimiscope.app import create_app
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import users as user_store


@pytest.fixture
def seeded(store: Store) -> Seeded:
    for name, role in (("admin", "admin"), ("ana", "analyst"), ("vic", "viewer")):
        user_store.add_user(store, name, PASSWORD, role)
    return seed(store)


@pytest.fixture
def app(seeded: Seeded, tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_app(Settings(data_dir=tmp_path, login_attempts=3), store=seeded.store, worker=False)


class Client:
    """An httpx client on the real ASGI app, logged in as a user when asked."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.http = ASGIClient(app)
        self.csrf = ""

    def login(self, name: str, password: str = PASSWORD) -> httpx.Response:
        form = self.http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, form.text
        resp = self.http.post(
            "/login", data={"name": name, "password": password, "csrf_token": token.group(1), "next": "/"}
        )
        if resp.status_code == 303:
            page = self.http.get("/")
            self.csrf = re.search(r'data-csrf="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
        return resp


@pytest.fixture
def client_factory(app) -> Iterator:  # type: ignore[no-untyped-def]
    made: list[Client] = []

    def make(user: str | None = None) -> Client:
        c = Client(app)
        if user:
            assert c.login(user).status_code == 303
        made.append(c)
        return c

    yield make
    for c in made:
        c.http.close()
