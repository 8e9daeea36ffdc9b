"""Coordinated-group pages: ``/coordination`` (the list, filtered by size, kind, platform and
affiliation) and ``/coordination/{id}`` (the account network, the timeline of co-actions, the
shared items with each member's delay, "create incident")."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from fimiscope.api.auth import require
from fimiscope.api.coordination import KINDS, group_detail, list_page
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store.users import User
from fimiscope.web.nav import add_nav

KIND_LABELS = {"link": "co-link", "share": "co-share", "post": "co-post", "hashtag": "co-hashtag"}


def _short(account: str) -> str:
    return account.split(":", 1)[1] if ":" in account else account


def chart_data(g: dict[str, Any]) -> dict[str, Any]:
    """What static/coordination.js draws: Cytoscape elements (members, one edge per pair with
    the kinds tying it) and the timeline's points (each member action, by kind)."""
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for e in g["edges"]:
        key = (e["account_a"], e["account_b"])
        p = pairs.setdefault(key, {"weight": 0.0, "kinds": [], "fastest_s": e["fastest_s"], "episodes": 0})
        p["weight"] += e["weight"]
        p["kinds"].append(KIND_LABELS.get(e["kind"], e["kind"]))
        p["fastest_s"] = min(p["fastest_s"], e["fastest_s"])
        p["episodes"] += e["episodes"]
    nodes = [
        {
            "id": m["account"],
            "label": _short(m["account"]),
            "platform": m["platform"] or "",
            "affiliation": m["affiliation"] or "unknown",
            "hijacked": "yes" if m["hijacked"] else "no",
            "actions": m["actions"],
            "href": f"/sources/{m['account']}",
        }
        for m in g["members"]
    ]
    edges = [
        {
            "id": f"e{i}",
            "source": a,
            "target": b,
            "weight": round(p["weight"], 2),
            "label": f"{', '.join(sorted(set(p['kinds'])))} · {p['episodes']}× · fastest {p['fastest_s']:.0f} s",
        }
        for i, ((a, b), p) in enumerate(sorted(pairs.items()))
    ]
    points = [
        {
            "account": a["account"],
            "at": a["at"].isoformat() if a["at"] else None,
            "kind": it["kind"],
            "item": str(it["item"])[:160],
            "delay_s": a["delay_s"],
            "href": f"/documents/{a['document_id']}" if a["document_id"] else None,
        }
        for it in g["items"]
        for a in it["actions"]
    ]
    return {
        "graph": {"nodes": nodes, "edges": edges},
        "timeline": points,
        "accounts": [m["account"] for m in g["members"]],
    }


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    templates = app.state.templates
    viewer = require("viewer")
    add_nav(app, "Coordination", "/coordination", order=35)

    @app.get("/coordination", response_class=HTMLResponse, include_in_schema=False)
    def groups_page(
        request: Request,
        min_size: int = Query(0, ge=0),
        kind: str = "",
        platform: str = "",
        affiliation: str = "",
        status: str = "active",
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> Response:
        page = list_page(
            store,
            min_size=min_size,
            kind=kind or None,
            platform=platform or None,
            affiliation=affiliation or None,
            status=status,
            limit=limit,
            offset=offset,
        )
        everything = list_page(store, status=status, limit=100_000).items
        params = {
            "min_size": min_size,
            "kind": kind,
            "platform": platform,
            "affiliation": affiliation,
            "status": status,
        }
        resp: Response = templates.TemplateResponse(
            request,
            "coordination_groups.html",
            {
                "page": page,
                "params": params,
                "kinds": KINDS,
                "kind_labels": KIND_LABELS,
                "filtered": bool(min_size or kind or platform or affiliation or status != "active"),
                "platforms": sorted({p for g in everything for p in g["platforms"]}),
                "affiliations": sorted({a for g in everything for a in g["affiliations"]}),
            },
        )
        return resp

    @app.get("/coordination/{group_id}", response_class=HTMLResponse, include_in_schema=False)
    def group_page(request: Request, group_id: str, _u: User = viewer) -> Response:
        g = group_detail(store, group_id)
        resp: Response = templates.TemplateResponse(
            request, "coordination_group.html", {"g": g, "charts": chart_data(g), "kind_labels": KIND_LABELS}
        )
        return resp
