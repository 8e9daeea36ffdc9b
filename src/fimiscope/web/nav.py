"""The menu of the workbench: entries that areas register from their ``mount``.

A leaf module: page modules import ``add_nav``; the templates read ``app.state.nav``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI


@dataclass(slots=True)
class NavEntry:
    label: str
    href: str
    order: int = 50
    role: str = "viewer"  # least role that sees the entry
    menu: str | None = None  # shown under this drop-down of the top bar instead of in it


# The top bar is full at 1280 px: further entries go under this drop-down, after the others.
MORE = "More"


def add_nav(app: FastAPI, label: str, href: str, *, order: int = 50, role: str = "viewer",
            menu: str | None = None) -> None:
    """Register a menu entry (called from a module's ``mount``); the same ``href`` twice keeps one.
    ``menu`` (``MORE``) puts it in a drop-down of the top bar rather than in the bar itself.

    Orders in use: Overview 10, Triage 20, Clusters 30, Infrastructure 35, Claims 40, Incidents 50, Search 80,
    Sources 90; under More: Persuasion 40.
    """
    nav: list[NavEntry] = app.state.nav
    nav[:] = [n for n in nav if n.href != href]
    nav.append(NavEntry(label=label, href=href, order=order, role=role, menu=menu))
    nav.sort(key=lambda n: (n.order, n.label))
