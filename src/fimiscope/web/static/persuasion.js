// fimiscope persuasion: a source's technique rates per week (ECharts lines).
(function () {
  "use strict";
  function draw() {
    const el = document.getElementById("persuasion-rates");
    if (!el || !window.echarts) return;
    const weeks = JSON.parse(el.dataset.weeks || "[]");
    const series = JSON.parse(el.dataset.series || "{}");
    el.style.height = "260px";
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 48, bottom: 30 },
      legend: { top: 0 },
      tooltip: { trigger: "axis", valueFormatter: (v) => (100 * v).toFixed(1) + " %" },
      xAxis: { type: "category", data: weeks, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", axisLabel: { formatter: (v) => Math.round(100 * v) + " %" } },
      series: Object.keys(series).map((k) => ({ name: k, type: "line", data: series[k], showSymbol: weeks.length < 30 })),
    });
    el.dataset.drawn = "1";
    window.addEventListener("resize", () => chart.resize());
  }
  if (document.readyState === "complete") draw(); else window.addEventListener("load", draw);
})();
