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
    chart.on("click", (it) => { if (it.data && it.data.doc) window.location = it.data.doc.href; });
    window.addEventListener("resize", () => chart.resize());
  }

  function drawGraph() {
    const el = document.getElementById("cluster-graph");
    if (!el || !window.cytoscape) return;
    const g = JSON.parse(el.dataset.graph || "{}");
    const cy = cytoscape({
      container: el,
      elements: { nodes: (g.nodes || []).map((n) => ({ data: n })), edges: (g.edges || []).map((e) => ({ data: e })) },
      layout: { name: "breadthfirst", directed: true, roots: g.root ? [g.root] : undefined, padding: 24, spacingFactor: 1.25 },
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 4, width: 22, height: 22, "background-color": CREDITED } },
        { selector: "node[kind = 'origin']", style: { "background-color": ORIGIN, shape: "diamond", width: 32, height: 32 } },
        { selector: "node[attribution = 'stripped']", style: { "background-color": STRIPPED } },
        { selector: "edge", style: { width: 2, "line-color": "#9aa3b5", "target-arrow-color": "#9aa3b5", "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)", "font-size": 9, color: "#3d4556", "text-background-color": "#fff", "text-background-opacity": 0.85, "text-background-padding": 2, "text-rotation": "autorotate" } },
        { selector: "edge[stripped = 'yes']", style: { "line-color": STRIPPED, "target-arrow-color": STRIPPED, "line-style": "dashed" } },
        { selector: "edge[translation = 'yes']", style: { width: 3 } },
      ],
      userZoomingEnabled: false,
    });
    cy.on("tap", "node", (evt) => { const href = evt.target.data("href"); if (href) window.location = href; });
  }

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
