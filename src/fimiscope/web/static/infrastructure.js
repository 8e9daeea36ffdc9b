// fimiscope site groups: the bipartite graph of sites and the indicators they share (Cytoscape.js).
(function () {
  "use strict";
  function draw() {
    const el = document.getElementById("infra-graph");
    if (!el || !window.cytoscape) return;
    const g = JSON.parse(el.dataset.graph || "{}");
    const colors = JSON.parse(el.dataset.colors || "{}");
    const cy = cytoscape({
      container: el,
      elements: { nodes: (g.nodes || []).map((n) => ({ data: n })), edges: (g.edges || []).map((e) => ({ data: e })) },
      // Sites on the outer ring, the indicators they share inside: deterministic and readable
      // for the tens of nodes a group has.
      layout: { name: "concentric", animate: false, padding: 30, minNodeSpacing: 60, avoidOverlap: true,
                concentric: (n) => (n.data("kind") === "indicator" ? 2 : 1), levelWidth: () => 1 },
      // a small group would otherwise be fitted to the box at a zoom that makes labels huge
      maxZoom: 1.1, minZoom: 0.15,
      style: [
        { selector: "node[kind = 'site']", style: { label: "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, width: 26, height: 26, "background-color": "#2f5bd3" } },
        { selector: "node[flagged = 'yes']", style: { "border-width": 4, "border-color": "#c8372d" } },
        { selector: "node[kind = 'indicator']", style: { shape: "round-rectangle", width: 16, height: 16, label: "data(label)", "font-size": 9, color: "#3d4556", "text-valign": "top", "text-margin-y": -3 } },
        ...Object.keys(colors).map((t) => ({ selector: "node[tier = '" + t + "']", style: { "background-color": colors[t] } })),
        { selector: "edge", style: { width: 1.5, "line-color": "#c3c9d5", "curve-style": "bezier" } },
        ...Object.keys(colors).map((t) => ({ selector: "edge[tier = '" + t + "']", style: { "line-color": colors[t] } })),
        { selector: "edge[similar]", style: { "line-style": "dashed", width: 2 } },
      ],
      userZoomingEnabled: false,
    });
    cy.on("tap", "node", (evt) => { const href = evt.target.data("href"); if (href) window.location = href; });
    el.dataset.ready = String(cy.nodes().length);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
