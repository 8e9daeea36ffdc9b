"""A coordinated group's account network as GEXF 1.3 (Gephi) and GraphML: members as nodes
with their platform, affiliation and actions; one edge per member pair with the kinds of
co-action that tie them, how often and how fast."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

_NODE_ATTRS = (("platform", "string"), ("affiliation", "string"), ("actions", "integer"), ("hijacked", "boolean"))
_EDGE_ATTRS = (
    ("kinds", "string"),
    ("count", "integer"),
    ("episodes", "integer"),
    ("fastest_s", "double"),
    ("median_s", "double"),
    ("p_value", "double"),
)


def _pairs(group: dict[str, Any]) -> list[dict[str, Any]]:
    """One edge per pair, its kinds merged: weight summed, counts summed, the fastest delay,
    the smallest p-value."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for e in group["edges"]:
        key = (e["account_a"], e["account_b"])
        cur = out.get(key)
        if cur is None:
            out[key] = {**e, "kinds": [e["kind"]]}
            continue
        cur["kinds"].append(e["kind"])
        cur["weight"] += e["weight"]
        cur["count"] += e["count"]
        cur["episodes"] += e["episodes"]
        cur["fastest_s"] = min(cur["fastest_s"], e["fastest_s"])
        cur["median_s"] = min(cur["median_s"], e["median_s"])
        cur["p_value"] = min(cur["p_value"], e["p_value"])
    return [{**v, "kinds": ",".join(sorted(v["kinds"]))} for _, v in sorted(out.items())]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def gexf(group: dict[str, Any]) -> bytes:
    root = ET.Element("gexf", {"xmlns": "http://gexf.net/1.3", "version": "1.3"})
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "creator").text = "fimiscope"
    ET.SubElement(meta, "description").text = f"coordinated group {group['id']}"
    graph = ET.SubElement(root, "graph", {"defaultedgetype": "undirected", "mode": "static"})
    for cls, attrs in (("node", _NODE_ATTRS), ("edge", _EDGE_ATTRS)):
        el = ET.SubElement(graph, "attributes", {"class": cls})
        for i, (name, typ) in enumerate(attrs):
            ET.SubElement(el, "attribute", {"id": str(i), "title": name, "type": typ})
    nodes = ET.SubElement(graph, "nodes")
    for m in group["members"]:
        n = ET.SubElement(nodes, "node", {"id": m["account"], "label": m["account"]})
        vals = ET.SubElement(n, "attvalues")
        for i, (name, _t) in enumerate(_NODE_ATTRS):
            ET.SubElement(vals, "attvalue", {"for": str(i), "value": _text(m.get(name))})
    edges = ET.SubElement(graph, "edges")
    for i, e in enumerate(_pairs(group)):
        el = ET.SubElement(
            edges,
            "edge",
            {"id": str(i), "source": e["account_a"], "target": e["account_b"], "weight": f"{e['weight']:.4f}"},
        )
        vals = ET.SubElement(el, "attvalues")
        for j, (name, _t) in enumerate(_EDGE_ATTRS):
            ET.SubElement(vals, "attvalue", {"for": str(j), "value": _text(e.get(name))})
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


_GRAPHML_TYPES = {"string": "string", "integer": "int", "boolean": "boolean", "double": "double"}


def graphml(group: dict[str, Any]) -> bytes:
    root = ET.Element("graphml", {"xmlns": "http://graphml.graphdrawing.org/xmlns"})
    for name, typ in _NODE_ATTRS:
        ET.SubElement(
            root, "key", {"id": f"n_{name}", "for": "node", "attr.name": name, "attr.type": _GRAPHML_TYPES[typ]}
        )
    for name, typ in (*_EDGE_ATTRS, ("weight", "double")):
        ET.SubElement(
            root, "key", {"id": f"e_{name}", "for": "edge", "attr.name": name, "attr.type": _GRAPHML_TYPES[typ]}
        )
    graph = ET.SubElement(root, "graph", {"id": group["id"], "edgedefault": "undirected"})
    for m in group["members"]:
        n = ET.SubElement(graph, "node", {"id": m["account"]})
        for name, _t in _NODE_ATTRS:
            ET.SubElement(n, "data", {"key": f"n_{name}"}).text = _text(m.get(name))
    for e in _pairs(group):
        el = ET.SubElement(graph, "edge", {"source": e["account_a"], "target": e["account_b"]})
        for name, _t in (*_EDGE_ATTRS, ("weight", "double")):
            ET.SubElement(el, "data", {"key": f"e_{name}"}).text = _text(e.get(name))
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
