// Incident pages: the DISARM technique picker (search as you type over /api/disarm), the
// filters, and "New incident from selected" on the triage queue.
(function () {
  "use strict";

  function esc(text) { const d = document.createElement("div"); d.textContent = text == null ? "" : String(text); return d.innerHTML; }

  // -- triage queue: open the new-incident form with the checked (or current) signals --------
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("#incident-from-selected");
    if (!btn) return;
    let ids = Array.from(document.querySelectorAll("#queue-table .pick:checked")).map((c) => c.value);
    if (!ids.length) { const row = document.querySelector("#queue-table tr.current"); if (row) ids = [row.dataset.id]; }
    if (!ids.length) return;
    window.location = "/incidents/new?" + ids.map((id) => "signal=" + encodeURIComponent(id)).join("&");
  });

  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (ev.key !== "n" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA") && t.type !== "checkbox") return;
    const btn = document.getElementById("incident-from-selected");
    if (btn && !btn.closest("[hidden]")) { ev.preventDefault(); btn.click(); }
  });

  // -- incident list: filters apply on change ------------------------------------------------
  const filters = document.getElementById("incident-filters");
  if (filters) filters.addEventListener("change", () => filters.submit());

  // -- DISARM picker ------------------------------------------------------------------------
  const search = document.getElementById("disarm-search");
  const results = document.getElementById("disarm-results");
  const chosen = document.getElementById("techniques");
  if (!search || !results || !chosen) return;
  let hits = [], active = -1, timer = null, seq = 0;

  function has(id) { return !!chosen.querySelector('li.technique[data-id="' + CSS.escape(id) + '"]'); }
  function refreshEmpty() { const e = document.getElementById("techniques-empty"); if (e) e.hidden = !!chosen.children.length; }

  function add(hit) {
    if (!has(hit.id)) {
      const li = document.createElement("li");
      li.className = "technique"; li.dataset.id = hit.id;
      li.innerHTML = '<input type="hidden" name="techniques" value="' + esc(hit.id) + '">' +
        '<a href="' + esc(hit.url) + '" target="_blank" rel="noopener"><code>' + esc(hit.id) + "</code></a> " + esc(hit.name) +
        (hit.tactic ? ' <span class="muted small">· ' + esc(hit.tactic) + "</span>" : "") +
        '<button type="button" class="remove" aria-label="remove ' + esc(hit.id) + '" title="remove">×</button>';
      chosen.appendChild(li);
    }
    refreshEmpty(); close(); search.value = ""; search.focus();
  }

  function close() { results.hidden = true; results.innerHTML = ""; hits = []; active = -1; }

  function show(items, total) {
    hits = items; active = items.length ? 0 : -1;
    if (!items.length) { results.innerHTML = '<li class="none">No DISARM technique matches.</li>'; results.hidden = false; return; }
    results.innerHTML = items.map((h, i) =>
      '<li role="option" class="disarm-hit' + (i === 0 ? " active" : "") + (has(h.id) ? " picked" : "") + '" data-index="' + i + '" data-id="' + esc(h.id) + '">' +
      "<code>" + esc(h.id) + "</code> <span class=\"name\">" + esc(h.name) + '</span><span class="tactic">' + esc(h.tactic || "") + "</span></li>").join("") +
      (total > items.length ? '<li class="none small">' + (total - items.length) + " more: type more words</li>" : "");
    results.hidden = false;
  }

  async function lookup() {
    const q = search.value.trim();
    if (!q) { close(); return; }
    const mine = ++seq;
    const resp = await fetch("/api/disarm?limit=12&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } });
    if (mine !== seq) return;  // a newer keystroke already asked
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) { results.innerHTML = '<li class="none">' + esc(data.detail || "search failed") + "</li>"; results.hidden = false; return; }
    show(data.items || [], data.total || 0);
  }

  function highlight(i) {
    const lis = results.querySelectorAll("li.disarm-hit");
    if (!lis.length) return;
    active = (i + lis.length) % lis.length;
    lis.forEach((li, j) => li.classList.toggle("active", j === active));
    lis[active].scrollIntoView({ block: "nearest" });
  }

  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookup, 120); });
  search.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") { highlight(active + 1); ev.preventDefault(); }
    else if (ev.key === "ArrowUp") { highlight(active - 1); ev.preventDefault(); }
    else if (ev.key === "Enter") { ev.preventDefault(); if (active >= 0 && hits[active]) add(hits[active]); }
    else if (ev.key === "Escape") { close(); }
  });
  results.addEventListener("mousedown", (ev) => {
    const li = ev.target.closest("li.disarm-hit");
    if (!li) return;
    ev.preventDefault();
    add(hits[Number(li.dataset.index)]);
  });
  chosen.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button.remove");
    if (!btn) return;
    btn.closest("li.technique").remove(); refreshEmpty();
  });
  search.addEventListener("blur", () => setTimeout(close, 150));
})();
