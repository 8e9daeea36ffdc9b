"""GEXF 1.3 (Gephi's graph exchange format) of a site group: the bipartite graph of sites and
the indicators they share, plus site-site edges for similarities that have no single value
(CSS class sets, outbound link profiles). Written with the standard library's XML writer
(every string is escaped by it)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

GEXF_NS = "http://gexf.net/1.3"


def group_gexf(group: dict[str, Any]) -> str:
    """``group`` as ``store.infrastructure.get_group`` returns it."""
    ET.register_namespace("", GEXF_NS)
    root = ET.Element(f"{{{GEXF_NS}}}gexf", {"version": "1.3"})
    meta = ET.SubElement(root, f"{{{GEXF_NS}}}meta", {"lastmodifieddate": (group.get("updated_at") or "")[:10]})
    ET.SubElement(meta, f"{{{GEXF_NS}}}creator").text = "fimiscope"
    ET.SubElement(meta, f"{{{GEXF_NS}}}description").text = (
        f"site group {group['id']}: sites and the infrastructure indicators they share")
    graph = ET.SubElement(root, f"{{{GEXF_NS}}}graph", {"defaultedgetype": "undirected", "mode": "static"})
    attrs = ET.SubElement(graph, f"{{{GEXF_NS}}}attributes", {"class": "node"})
    for i, (name, typ) in enumerate((("type", "string"), ("kind", "string"), ("tier", "string"),
                                     ("affiliation", "string"), ("flagged", "boolean"))):
        ET.SubElement(attrs, f"{{{GEXF_NS}}}attribute", {"id": str(i), "title": name, "type": typ})
    eattrs = ET.SubElement(graph, f"{{{GEXF_NS}}}attributes", {"class": "edge"})
    ET.SubElement(eattrs, f"{{{GEXF_NS}}}attribute", {"id": "0", "title": "tier", "type": "string"})
    nodes = ET.SubElement(graph, f"{{{GEXF_NS}}}nodes")
    edges = ET.SubElement(graph, f"{{{GEXF_NS}}}edges")

    def node(nid: str, label: str, values: dict[str, str]) -> None:
        el = ET.SubElement(nodes, f"{{{GEXF_NS}}}node", {"id": nid, "label": label})
        av = ET.SubElement(el, f"{{{GEXF_NS}}}attvalues")
        names = ["type", "kind", "tier", "affiliation", "flagged"]
        for key, value in values.items():
            ET.SubElement(av, f"{{{GEXF_NS}}}attvalue", {"for": str(names.index(key)), "value": value})

    def edge(eid: int, a: str, b: str, weight: float, tier: str, label: str) -> None:
        el = ET.SubElement(edges, f"{{{GEXF_NS}}}edge", {"id": str(eid), "source": a, "target": b,
                                                          "weight": f"{weight:.4f}", "label": label})
        av = ET.SubElement(el, f"{{{GEXF_NS}}}attvalues")
        ET.SubElement(av, f"{{{GEXF_NS}}}attvalue", {"for": "0", "value": tier})

    for m in group.get("members", [{"site": s} for s in group["sites"]]):
        node(f"site:{m['site']}", m["site"], {"type": "site", "affiliation": str(m.get("affiliation") or "unknown"),
                                              "flagged": "true" if m.get("flagged") else "false"})
    n = 0
    for ind in group.get("indicators", []):
        nid = f"ind:{ind['kind']}:{ind['value']}"
        node(nid, f"{ind['kind']}: {ind['value']}", {"type": "indicator", "kind": ind["kind"], "tier": ind["tier"]})
        for site in ind["sites"]:
            edge(n, f"site:{site}", nid, float(ind["weight"]), ind["tier"], ind["kind"])
            n += 1
    for lk in group.get("links", []):
        for e in lk["shared"]:
            if e["kind"] in ("css_classes", "outbound") and e.get("weight", 0) > 0:
                edge(n, f"site:{lk['a']}", f"site:{lk['b']}", float(e["weight"]), e["tier"], e["kind"])
                n += 1
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
