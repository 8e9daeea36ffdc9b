"""Infrastructure pages: ``/infrastructure`` (site groups), ``/infrastructure/groups/{id}``
(the bipartite graph site-indicator in Cytoscape, members, shared indicators by tier, GEXF
export) and ``/infrastructure/sites/{site}`` (a source's fingerprints and the sites that
share them, tiered, with its look-up history)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from fimiscope.api.auth import require
from fimiscope.api.infrastructure import gexf_response, groups_page
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import infrastructure as infra_db
from fimiscope.store.users import User
from fimiscope.web.nav import add_nav

TIER_COLORS = {"conclusive": "#c8372d", "associative": "#e0752f", "tertiary": "#9aa3b5"}


def graph_data(group: dict[str, Any]) -> dict[str, Any]:
    """Cytoscape elements: site nodes (flagged ones marked), indicator nodes (by tier) and the
    edges site-indicator; CSS-class and link-profile similarities as site-site edges."""
    nodes = [{"id": f"site:{m['site']}", "label": m["site"], "kind": "site",
              "flagged": "yes" if m.get("flagged") else "no", "href": f"/infrastructure/sites/{m['site']}"}
             for m in group["members"]]
    edges = []
    for i, ind in enumerate(group["indicators"]):
        nid = f"ind:{i}"
        label = f"{ind['kind']}: {ind['value']}"
        nodes.append({"id": nid, "label": label if len(label) <= 48 else label[:46] + "…", "kind": "indicator",
                      "tier": ind["tier"], "title": f"{label} — {ind['reason']}"})
        edges += [{"id": f"e{i}-{j}", "source": f"site:{s}", "target": nid, "tier": ind["tier"]}
                  for j, s in enumerate(ind["sites"])]
    for k, lk in enumerate(group["links"]):
        for e in lk["shared"]:
            if e["kind"] in ("css_classes", "outbound") and e.get("weight", 0) > 0:
                edges.append({"id": f"s{k}-{e['kind']}", "source": f"site:{lk['a']}", "target": f"site:{lk['b']}",
                              "tier": e["tier"], "similar": e["kind"]})
    return {"nodes": nodes, "edges": edges}


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    templates = app.state.templates
    viewer = require("viewer")
    add_nav(app, "Infrastructure", "/infrastructure", order=35)

    @app.get("/infrastructure", response_class=HTMLResponse, include_in_schema=False)
    def groups(request: Request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
               _u: User = viewer) -> Response:
        page = groups_page(store, limit=limit, offset=offset)
        resp: Response = templates.TemplateResponse(request, "infrastructure.html", {"page": page})
        return resp

    @app.get("/infrastructure/groups/{group_id}.gexf", include_in_schema=False)
    def group_gexf(group_id: str, _u: User = viewer) -> Response:
        return gexf_response(store, group_id)

    @app.get("/infrastructure/groups/{group_id}", response_class=HTMLResponse, include_in_schema=False)
    def group(request: Request, group_id: str, _u: User = viewer) -> Response:
        data = store.read(infra_db.get_group, group_id)
        resp: Response = templates.TemplateResponse(
            request, "infra_group.html", {"g": data, "graph": graph_data(data), "tier_colors": TIER_COLORS})
        return resp

    @app.get("/infrastructure/sites/{site}", response_class=HTMLResponse, include_in_schema=False)
    def site(request: Request, site: str, _u: User = viewer) -> Response:
        data = store.read(infra_db.site_profile, site)
        resp: Response = templates.TemplateResponse(request, "infra_site.html", {"p": data})
        return resp
