// fimiscope workbench: charts, triage keyboard shortcuts, bulk status changes.
(function () {
  "use strict";
  const csrf = document.body.dataset.csrf || "";
  const canAct = ["analyst", "admin"].includes(document.body.dataset.role);

  function toast(text) {
    const el = document.createElement("div");
    el.className = "toast"; el.textContent = text; el.setAttribute("role", "status");
    document.body.appendChild(el); setTimeout(() => el.remove(), 2200);
  }

  async function setStatus(ids, status) {
    if (!canAct) { toast("Your role may not change a signal's status."); return null; }
    const resp = await fetch("/api/signals/status", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify({ ids: ids, status: status }),
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) { toast(data.detail || ("failed: " + resp.status)); return null; }
    toast(ids.length + " signal(s) " + status);
    return data;
  }

  // -- charts (ECharts) --------------------------------------------------------------------
  const AFF_COLORS = {
    official_state: "#8e1b14", state_controlled: "#c8372d", state_linked: "#e0752f", state_aligned: "#f0a33a",
    independent: "#1e7b3c", unknown: "#8a93a3", "no source": "#b9c0cc",
  };
  function drawCharts() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach((el) => {
      const data = JSON.parse(el.dataset.chart || "{}");
      const keys = Object.keys(data), values = keys.map((k) => data[k]);
      if (!keys.length) { el.style.height = "0"; return; }
      const chart = echarts.init(el, null, { renderer: "svg" });
      const kind = el.dataset.kind;
      const base = { grid: { left: 48, right: 12, top: 12, bottom: 56 }, tooltip: { trigger: kind === "pie" ? "item" : "axis" }, color: ["#2f5bd3", "#c8372d", "#f0a33a", "#1e7b3c", "#7a4cc2", "#5d6575", "#2aa1b3"] };
      if (kind === "pie") {
        chart.setOption(Object.assign(base, { series: [{ type: "pie", radius: ["36%", "62%"], data: keys.map((k, i) => ({ name: k, value: values[i] })), label: { formatter: "{b}: {c}" }, center: ["50%", "52%"] }] }));
      } else {
        chart.setOption(Object.assign(base, {
          xAxis: { type: "category", data: kind === "bar" ? keys.map((k) => k.replace(/_/g, "-")) : keys, axisLabel: { rotate: kind === "bar" ? 20 : 0, hideOverlap: true } },
          // bars spanning orders of magnitude (6 state documents beside 2,600 others) on a log
          // scale, each labelled with its count, so the small ones stay visible
          yAxis: (kind === "bar" && Math.max(...values) > 20 * Math.max(1, Math.min(...values.filter((v) => v > 0))))
            ? { type: "log", logBase: 10, min: 1 } : { type: "value" },
          series: [{
            type: kind, smooth: false, showSymbol: false, areaStyle: kind === "line" ? { opacity: 0.15 } : undefined,
            label: kind === "bar" ? { show: true, position: "top" } : undefined,
            data: kind === "bar" ? values.map((v, i) => ({ value: v, itemStyle: { color: AFF_COLORS[keys[i]] || "#2f5bd3" } })) : values,
          }],
        }));
      }
      window.addEventListener("resize", () => chart.resize());
    });
  }

  // -- triage queue --------------------------------------------------------------------------
  function rows() { return Array.from(document.querySelectorAll("#queue-table tbody tr")); }
  function current() { return document.querySelector("#queue-table tr.current"); }
  function move(delta) {
    const all = rows(); if (!all.length) return;
    let i = all.indexOf(current()); i = Math.max(0, Math.min(all.length - 1, (i < 0 ? 0 : i + delta)));
    all.forEach((r) => r.classList.remove("current")); all[i].classList.add("current");
    all[i].scrollIntoView({ block: "nearest" });
  }
  function markRow(row, status) {
    const st = row.querySelector(".st");
    if (st) st.innerHTML = '<span class="status st-' + status + '">' + status + "</span>";
    row.classList.add("done");
  }
  function picked() { return Array.from(document.querySelectorAll("#queue-table .pick:checked")).map((c) => c.value); }
  function updateCount() {
    const el = document.getElementById("selected-count");
    if (el) el.textContent = picked().length + " selected";
  }

  document.addEventListener("keydown", async (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA") && t.type !== "checkbox") return;
    const statusFor = { c: "confirmed", d: "dismissed", e: "escalated" }[ev.key];
    const queue = document.getElementById("queue-table");
    const single = document.querySelector(".statusbtns");
    if (queue) {
      if (ev.key === "j") { move(1); ev.preventDefault(); return; }
      if (ev.key === "k") { move(-1); ev.preventDefault(); return; }
      if (ev.key === "x") { const c = current(); if (c) { const b = c.querySelector(".pick"); b.checked = !b.checked; updateCount(); } return; }
      if (ev.key === "Enter") { const c = current(); if (c) window.location = c.querySelector("a.open").href; return; }
      if (statusFor) {
        const sel = picked();
        const row = current();
        const ids = sel.length ? sel : (row ? [row.dataset.id] : []);
        if (!ids.length) return;
        ev.preventDefault();
        if (await setStatus(ids, statusFor)) {
          ids.forEach((id) => { const r = document.querySelector('#queue-table tr[data-id="' + id + '"]'); if (r) markRow(r, statusFor); });
          document.querySelectorAll("#queue-table .pick:checked").forEach((c) => (c.checked = false)); updateCount();
          move(1);
        }
      }
    } else if (single && statusFor) {
      ev.preventDefault();
      if (await setStatus([single.dataset.id], statusFor)) {
        document.getElementById("sig-status").innerHTML = '<span class="status st-' + statusFor + '">' + statusFor + "</span>";
      }
    }
  });

  document.addEventListener("click", async (ev) => {
    const t = ev.target.closest("button");
    if (!t) {
      const row = ev.target.closest("#queue-table tbody tr");
      if (row) { rows().forEach((r) => r.classList.remove("current")); row.classList.add("current"); }
      return;
    }
    if (t.dataset.bulk) {
      const ids = picked(); if (!ids.length) { toast("Select signals first (checkbox or x)."); return; }
      if (await setStatus(ids, t.dataset.bulk)) {
        ids.forEach((id) => { const r = document.querySelector('#queue-table tr[data-id="' + id + '"]'); if (r) markRow(r, t.dataset.bulk); });
      }
    } else if (t.dataset.status) {
      const box = t.closest(".statusbtns");
      if (await setStatus([box.dataset.id], t.dataset.status)) {
        document.getElementById("sig-status").innerHTML = '<span class="status st-' + t.dataset.status + '">' + t.dataset.status + "</span>";
      }
    }
  });

  document.addEventListener("change", (ev) => {
    if (ev.target.id === "select-all") {
      document.querySelectorAll("#queue-table .pick").forEach((c) => (c.checked = ev.target.checked));
    }
    if (ev.target.classList && (ev.target.classList.contains("pick") || ev.target.id === "select-all")) updateCount();
  });

  // -- evidence graph (Cytoscape.js) --------------------------------------------------------
  function drawGraph() {
    const el = document.getElementById("evidence-graph");
    if (!el || !window.cytoscape) return;
    const g = JSON.parse(el.dataset.graph || "{}");
    const cy = cytoscape({
      container: el,
      elements: { nodes: (g.nodes || []).map((n) => ({ data: n })), edges: (g.edges || []).map((e) => ({ data: e })) },
      layout: { name: "breadthfirst", directed: true, padding: 12, spacingFactor: 1.1 },
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 9, "text-wrap": "ellipsis", "text-max-width": 90, "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18, "background-color": "#2f5bd3" } },
        { selector: "node[kind = 'signal']", style: { "background-color": "#c8372d", shape: "diamond", width: 26, height: 26 } },
        { selector: "node[kind = 'source']", style: { "background-color": "#5d6575", shape: "round-rectangle" } },
        { selector: "edge", style: { width: 1.5, "line-color": "#b9c0cc", "target-arrow-color": "#b9c0cc", "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)", "font-size": 8, color: "#6a7282" } },
      ],
      userZoomingEnabled: false,
    });
    cy.on("tap", "node", (evt) => { const href = evt.target.data("href"); if (href) window.location = href; });
  }

  // Flash the evidence span an anchor jumps to.
  function flash() {
    if (!location.hash) return;
    const el = document.getElementById(location.hash.slice(1));
    if (el) { el.classList.add("flash"); setTimeout(() => el.classList.remove("flash"), 1600); }
  }
  window.addEventListener("hashchange", flash);
  window.addEventListener("DOMContentLoaded", () => { drawCharts(); drawGraph(); flash(); });
})();
