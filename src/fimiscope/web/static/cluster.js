// fimiscope laundering clusters: the chain's timeline (ECharts) and graph (Cytoscape.js), the
// overview's cluster trends, and j/k/Enter on lists marked data-keynav.
(function () {
  "use strict";
  const ORIGIN = "#c8372d", STRIPPED = "#e0752f", CREDITED = "#2f5bd3";

  function drawTimeline() {
    const el = document.getElementById("cluster-timeline");
    if (!el || !window.echarts) return;
    const points = JSON.parse(el.dataset.timeline || "[]").filter((p) => p.at);
    if (!points.length) {
      el.style.height = "auto";
      el.innerHTML = '<p class="muted">No member has a publication date, so there is no timeline; the members table lists them in collection order.</p>';
      return;
    }
    const lanes = [];
    points.forEach((p) => { if (!lanes.includes(p.lane)) lanes.push(p.lane); });
    el.style.height = Math.max(180, 70 + 34 * lanes.length) + "px";
    const series = [
      { name: "origin", test: (p) => p.role === "origin", color: ORIGIN, symbol: "diamond", size: 18 },
      { name: "copy, attribution stripped", test: (p) => p.role !== "origin" && p.attribution === "stripped", color: STRIPPED, symbol: "circle", size: 13 },
      { name: "copy, credited", test: (p) => p.role !== "origin" && p.attribution !== "stripped", color: CREDITED, symbol: "circle", size: 13 },
    ].map((s) => ({
      name: s.name, type: "scatter", symbol: s.symbol, symbolSize: s.size, itemStyle: { color: s.color },
      data: points.filter(s.test).map((p) => ({ value: [p.at, p.lane], doc: p })),
    }));
    const pad = (v) => Math.max((v.max - v.min) * 0.05, 30 * 60 * 1000);
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 190, right: 24, top: 30, bottom: 36 },
      legend: { top: 0, data: series.map((s) => s.name) },
      tooltip: { trigger: "item", formatter: (it) => {
        const d = it.data.doc, esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
        return "<b>" + esc(d.title) + "</b><br>" + esc(d.lane) + "<br>" + esc(d.at.slice(0, 16).replace("T", " ")) + " · " + esc(d.lag);
      } },
      // padded so the origin and the last copy do not sit on the chart's edges
      xAxis: { type: "time", axisLabel: { hideOverlap: true }, min: (v) => v.min - pad(v), max: (v) => v.max + pad(v) },
      yAxis: { type: "category", data: lanes, axisLabel: { width: 180, overflow: "truncate" } },
      series: series,
    });
    // picking a point picks the member in the graph too (and the reverse: see drawGraph)
    chart.pick = (id) => {
      chart.dispatchAction({ type: "downplay" });
      series.forEach((s, si) => s.data.forEach((d, di) => {
        if (d.doc.id === id) chart.dispatchAction({ type: "highlight", seriesIndex: si, dataIndex: di });
      }));
    };
    shared.chart = chart;
    chart.on("click", (it) => {
      if (!(it.data && it.data.doc)) return;
      chart.pick(it.data.doc.id);
      if (shared.select) shared.select(it.data.doc.id, "timeline");
    });
    chart.on("dblclick", (it) => { if (it.data && it.data.doc) window.location = it.data.doc.href; });
    window.addEventListener("resize", () => chart.resize());
  }

  // The graph and the timeline select together: picking a member in one picks it in the other.
  const shared = { cy: null, chart: null, select: null };
  window.fimiscopeCluster = shared;

  function drawGraph() {
    const el = document.getElementById("cluster-graph");
    if (!el || !window.cytoscape) return;
    const g = JSON.parse(el.dataset.graph || "{}");
    const nodes = g.nodes || [];
    const lanes = g.lanes || [];
    el.style.height = Math.max(220, 120 + 110 * lanes.length) + "px";
    const cy = cytoscape({
      container: el,
      elements: {
        nodes: nodes.map((n) => ({ data: n, position: { x: n.x, y: n.y } })),
        edges: (g.edges || []).map((e) => ({ data: e })),
      },
      // preset: x = publication order (left to right), y = language row (see web/clusters.py)
      layout: { name: "preset", fit: true, padding: 36 },
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 4, width: 20, height: 20, "background-color": CREDITED, "text-max-width": 140, "text-wrap": "ellipsis" } },
        { selector: "node[kind = 'origin']", style: { "background-color": ORIGIN, shape: "diamond", width: 30, height: 30 } },
        { selector: "node[attribution = 'stripped']", style: { "background-color": STRIPPED } },
        { selector: "node.picked", style: { "border-width": 3, "border-color": "#111" } },
        { selector: "edge", style: { width: 1.5, "line-color": "#b7bfcc", "target-arrow-color": "#b7bfcc", "target-arrow-shape": "triangle", "curve-style": "bezier", "font-size": 9, color: "#3d4556", "text-background-color": "#fff", "text-background-opacity": 0.9, "text-background-padding": 2 } },
        { selector: "edge[stripped = 'yes']", style: { "line-color": STRIPPED, "target-arrow-color": STRIPPED, "line-style": "dashed" } },
        { selector: "edge[translation = 'yes']", style: { width: 2.5 } },
        // edge labels only for the picked (or hovered) member's edges, each next to the other
        // member, so labels of one member's edges sit at different members and never pile up
        { selector: "edge.out", style: { "target-label": "data(label)", "target-text-offset": 46, "line-color": "#56627a", width: 2.5 } },
        { selector: "edge.in", style: { "source-label": "data(label)", "source-text-offset": 46, "line-color": "#56627a", width: 2.5 } },
        { selector: "edge.faded, node.faded", style: { opacity: 0.35 } },
      ],
      userZoomingEnabled: false,
      autoungrabify: true,
    });
    shared.cy = cy;
    function show(id) {
      cy.elements().removeClass("out in faded picked");
      if (!id) return;
      const n = cy.getElementById(id);
      if (!n.length) return;
      n.addClass("picked");
      n.outgoers("edge").addClass("out");
      n.incomers("edge").addClass("in");
      cy.elements().not(n.closedNeighborhood()).addClass("faded");
    }
    shared.select = (id, from) => {
      show(id);
      if (from !== "timeline" && shared.chart) shared.chart.pick(id);
      const info = document.getElementById("graph-picked");
      const n = id ? cy.getElementById(id) : null;
      if (info) info.innerHTML = n && n.length ? '<a href="' + n.data("href") + '">' + esc(n.data("title")) + "</a> · " + esc(n.data("label")) + " · " + esc(n.data("language")) : "";
    };
    cy.on("tap", "node", (evt) => shared.select(evt.target.id(), "graph"));
    cy.on("tap", (evt) => { if (evt.target === cy) shared.select(null, "graph"); });
    cy.on("mouseover", "node", (evt) => { if (!cy.$("node.picked").length) show(evt.target.id()); });
    cy.on("mouseout", "node", () => { if (!cy.$("node.picked").length) show(null); });
    cy.on("dbltap", "node", (evt) => { const href = evt.target.data("href"); if (href) window.location = href; });
    if (g.root) shared.select(g.root, "graph");
  }

  function esc(s) { return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c])); }

  function drawTrends() {
    const el = document.getElementById("chart-cluster-trends");
    if (!el || !window.echarts) return;
    const data = JSON.parse(el.dataset.trends || "{}");
    const started = data.clusters_by_day || {}, docs = data.documents_in_clusters_by_day || {};
    const days = Object.keys(docs);
    if (!days.length) return;
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 24, top: 30, bottom: 30 },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: days, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "new clusters", type: "bar", data: days.map((d) => started[d] || 0), itemStyle: { color: ORIGIN } },
        { name: "documents in clusters", type: "line", showSymbol: false, data: days.map((d) => docs[d] || 0), itemStyle: { color: CREDITED }, areaStyle: { opacity: 0.12 } },
      ],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  // j/k/Enter on a list table (the triage queue has its own, richer keys in app.js).
  function keynav() {
    const table = document.querySelector("table[data-keynav]");
    if (!table) return;
    const rows = () => Array.from(table.querySelectorAll("tbody tr"));
    const all = rows();
    if (all.length) all[0].classList.add("current");
    document.addEventListener("keydown", (ev) => {
      const t = ev.target;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
      const list = rows(); if (!list.length) return;
      let i = list.findIndex((r) => r.classList.contains("current"));
      if (ev.key === "j" || ev.key === "k") {
        i = Math.max(0, Math.min(list.length - 1, (i < 0 ? 0 : i + (ev.key === "j" ? 1 : -1))));
        list.forEach((r) => r.classList.remove("current")); list[i].classList.add("current");
        list[i].scrollIntoView({ block: "nearest" }); ev.preventDefault();
      } else if (ev.key === "Enter" && i >= 0 && t === document.body) {
        const a = list[i].querySelector("a.open"); if (a) window.location = a.href;
      }
    });
  }

  window.addEventListener("DOMContentLoaded", () => { drawTimeline(); drawGraph(); drawTrends(); keynav(); });
})();
