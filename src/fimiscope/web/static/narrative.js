// fimiscope narrative page: documents per day by affiliation tier and by language (ECharts,
// stacked bars), the overview's narrative trends (lines), and j/k/Enter on the narrative list (cluster.js handles data-keynav there).
(function () {
  "use strict";
  const TIER_COLORS = { official_state: "#8b1a1a", state_controlled: "#c8372d", state_linked: "#e0752f",
    state_aligned: "#e8b04a", independent: "#2f5bd3", unknown: "#9aa3b2" };
  const LABELS = { official_state: "official state", state_controlled: "state-controlled", state_linked: "state-linked",
    state_aligned: "state-aligned", independent: "independent", unknown: "unknown" };

  function draw(id, colors) {
    const el = document.getElementById(id);
    if (!el || !window.echarts) return;
    const days = JSON.parse(el.dataset.days || "[]");
    const series = JSON.parse(el.dataset.series || "{}");
    if (!days.length) {
      el.style.height = "auto";
      el.innerHTML = '<p class="muted">No dated document yet.</p>';
      return;
    }
    el.style.height = "240px";
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 16, top: 36, bottom: 30 },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: days, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: Object.keys(series).map((k) => ({
        name: colors ? (LABELS[k] || k) : k, type: "bar", stack: "all", data: series[k],
        itemStyle: colors && colors[k] ? { color: colors[k] } : undefined,
      })),
    });
    el.dataset.drawn = "1";
    window.addEventListener("resize", () => chart.resize());
  }

  // The overview's card: one line per narrative among the most active, documents per day.
  function drawTrends() {
    const el = document.getElementById("chart-narrative-trends");
    if (!el || !window.echarts) return;
    const days = JSON.parse(el.dataset.days || "[]");
    const series = JSON.parse(el.dataset.series || "[]");
    el.style.height = "260px";
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 16, top: 56, bottom: 30 },
      legend: { top: 0, type: "scroll" },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: days, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: series.map((s) => ({
        name: s.name.length > 40 ? s.name.slice(0, 39) + "…" : s.name, type: "line", smooth: false,
        showSymbol: false, data: s.counts,
      })),
    });
    chart.on("click", (p) => {
      const s = series[p.seriesIndex];
      if (s) window.location.href = "/narratives/" + encodeURIComponent(s.id);
    });
    el.dataset.drawn = "1";
    window.addEventListener("resize", () => chart.resize());
  }

  function start() {
    draw("narrative-tiers", TIER_COLORS);
    draw("narrative-languages", null);
    drawTrends();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
