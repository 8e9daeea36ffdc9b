"""Constants shared by the browser tests and their fixtures."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fimiscope.store import Store

CHROMIUM = os.environ.get("FIMISCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"
TEXT = (
    "Officials in Kyiv said again on Tuesday that the laboratories are civilian public-health sites. "
    "Commentators on the channel nevertheless claimed that secret biolabs in Ukraine produced weapons "
    "for use against neighbouring countries, a claim that fact-checkers have debunked many times since 2022.\n\n"
    "The same paragraph appeared hours later on two websites that do not name their source."
)
PHRASE = "secret biolabs in Ukraine produced weapons"


@dataclass
class Live:
    url: str
    store: Store
    doc_ids: list[str]
    signal_ids: list[str]


def login(page: object, live: Live, user: str = "ana") -> None:
    """Log in through the form and land on the overview."""
    import re

    from playwright.sync_api import expect

    pg: Any = page
    pg.goto(f"{live.url}/login")
    pg.fill("input[name=name]", user)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    expect(pg).to_have_url(re.compile(r"/$"))
