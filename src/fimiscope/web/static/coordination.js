// fimiscope coordinated groups: the account network (Cytoscape.js) and the timeline of
// co-actions (ECharts) on the group page.
(function () {
  "use strict";
  const KIND_COLORS = { link: "#2f5bd3", share: "#c8372d", post: "#2a9d6f", hashtag: "#8a4fc7" };
  const HIJACKED = "#e0752f", MEMBER = "#3d4556";
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

  function drawGraph() {
    const el = document.getElementById("group-graph");
    if (!el || !window.cytoscape) return;
    const g = JSON.parse(el.dataset.graph || "{}");
    const n = (g.nodes || []).length, m = (g.edges || []).length;
    // taller for big groups, so 50 members keep their labels apart
    el.style.height = Math.max(360, Math.min(900, 160 + 14 * n)) + "px";
    const weights = (g.edges || []).map((e) => e.weight);
    const wmax = Math.max(1, ...weights);
    const cy = cytoscape({
      container: el,
      elements: { nodes: (g.nodes || []).map((x) => ({ data: x })), edges: (g.edges || []).map((x) => ({ data: x })) },
      // a circle keeps every member and label visible however dense the ties; cose for small groups
      layout: n > 12 ? { name: "circle", padding: 40, avoidOverlap: true, spacingFactor: 1.05 }
                     : { name: "cose", padding: 30, animate: false, randomize: false, nodeRepulsion: () => 9000 },
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": n > 30 ? 8 : 10, "text-valign": "bottom", "text-margin-y": 3,
          width: n > 30 ? 12 : 18, height: n > 30 ? 12 : 18, "background-color": MEMBER, "text-background-color": "#fff",
          "text-background-opacity": 0.8, "text-background-padding": 1 } },
        { selector: "node[hijacked = 'yes']", style: { "background-color": HIJACKED, shape: "diamond" } },
        // a dense group is a disc of edges: fade them so the members and labels stay legible
        { selector: "edge", style: { width: (e) => (m > 300 ? 0.3 : 0.5) + (m > 300 ? 1.2 : 3.5) * e.data("weight") / wmax,
          "line-color": "#9aa3b5", opacity: m > 300 ? 0.12 : (n > 30 ? 0.35 : 0.7), "curve-style": "haystack" } },
        { selector: "edge:selected, edge.hover", style: { "line-color": "#c8372d", opacity: 1, label: "data(label)",
          "font-size": 9, "text-background-color": "#fff", "text-background-opacity": 0.9 } },
        { selector: "node.hover", style: { "background-color": "#c8372d" } },
      ],
      userZoomingEnabled: true,
      minZoom: 0.3,
      maxZoom: 3,
    });
    cy.on("mouseover", "edge, node", (evt) => evt.target.addClass("hover"));
    cy.on("mouseout", "edge, node", (evt) => evt.target.removeClass("hover"));
    cy.on("tap", "node", (evt) => { const href = evt.target.data("href"); if (href) window.location = href; });
    window.fimiscopeGroupGraph = cy;  // for tests and the console
  }

  function drawTimeline() {
    const el = document.getElementById("group-timeline");
    if (!el || !window.echarts) return;
    const points = JSON.parse(el.dataset.timeline || "[]").filter((p) => p.at);
    const accounts = JSON.parse(el.dataset.accounts || "[]");
    if (!points.length) { el.innerHTML = '<p class="muted">No dated co-actions.</p>'; return; }
    el.style.height = Math.max(200, 80 + 18 * accounts.length) + "px";
    const kinds = [...new Set(points.map((p) => p.kind))];
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 180, right: 24, top: 30, bottom: 40 },
      legend: { top: 0, data: kinds.map((k) => "co-" + k) },
      tooltip: { trigger: "item", formatter: (it) => {
        const p = it.data.p;
        return "<b>" + esc(p.account) + "</b> · co-" + esc(p.kind) + "<br>" + esc(p.item) + "<br>" +
          esc(p.at.slice(0, 19).replace("T", " ")) + " · +" + Math.round(p.delay_s) + " s";
      } },
      dataZoom: [{ type: "inside", xAxisIndex: 0 }, { type: "slider", xAxisIndex: 0, height: 14, bottom: 6 }],
      xAxis: { type: "time", axisLabel: { hideOverlap: true } },
      yAxis: { type: "category", data: accounts, axisLabel: { width: 170, overflow: "truncate", fontSize: accounts.length > 30 ? 9 : 11 } },
      series: kinds.map((k) => ({
        name: "co-" + k, type: "scatter", symbolSize: 8, itemStyle: { color: KIND_COLORS[k] || "#666", opacity: 0.8 },
        data: points.filter((p) => p.kind === k).map((p) => ({ value: [p.at, p.account], p: p })),
      })),
    });
    chart.on("click", (it) => { if (it.data && it.data.p && it.data.p.href) window.location = it.data.p.href; });
    window.addEventListener("resize", () => chart.resize());
  }

  window.addEventListener("DOMContentLoaded", () => { drawGraph(); drawTimeline(); });
})();
