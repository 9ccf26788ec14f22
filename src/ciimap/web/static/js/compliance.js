// Assessment workspace (/compliance/assessments/{id}): keyboard entry of item × test object results.
// Keys on the focused cell: 1 符合, 2 部分符合, 3 不符合, 0 不适用, a accept the map's proposal,
// n notes; arrows or h j k l move. Saves through PUT /api/compliance/assessments/{id}/results (one
// cell) and POST .../results/bulk (the filtered rows), with the session's CSRF token (app.js).
(function () {
  "use strict";
  const grid = document.getElementById("ws-grid");
  const dataEl = document.getElementById("ws-data");
  if (!grid || !dataEl) return;
  const C = window.ciimap;
  const data = JSON.parse(dataEl.textContent);
  const base = "/api/compliance/assessments/" + data.assessment_id;
  const $ = (id) => document.getElementById(id);
  const body = grid.tBodies[0];
  let focused = null;

  const label = (result) => (result ? C.t("cmp_result_" + result) : "·");
  const visibleRows = () => Array.from(body.rows).filter((r) => r.dataset.item && !r.hidden);
  const cellsOf = (row) => Array.from(row.querySelectorAll("td.ws-cell"));

  function status(text) { $("ws-status").textContent = text; }
  function showError(text) {
    const el = $("ws-error");
    el.textContent = text || "";
    el.hidden = !text;
  }

  function paint(cell, r) {
    cell.dataset.result = r.result || "";
    cell.dataset.method = r.method || "";
    cell.dataset.notes = r.notes || "";
    cell.className = "ws-cell" + (r.result ? " res-" + r.result : "") + (cell === focused ? " focused" : "");
    cell.textContent = label(r.result);
  }

  function showSide(cell) {
    const row = cell.parentElement;
    const info = data.items[row.dataset.item] || {};
    const head = grid.tHead.rows[0].querySelector('th[data-object="' + cell.dataset.object + '"]');
    $("ws-focus-empty").hidden = true;
    $("ws-focus").hidden = false;
    $("ws-focus-item").textContent = info.id || row.dataset.itemId;
    $("ws-focus-object").textContent = head ? head.textContent : "";
    $("ws-focus-summary").textContent = info.summary || "";
    const p = info.proposal;
    $("ws-focus-proposal").hidden = !p;
    if (p) {
      $("ws-proposal-result").textContent = C.t("cmp_result_" + p.result);
      $("ws-proposal-title").textContent = p.title;
      $("ws-proposal-text").textContent = p.text;
      const ul = $("ws-proposal-records");
      ul.replaceChildren(...p.records.map((r) => Object.assign(document.createElement("li"), { textContent: r })));
      if (p.records_total > p.records.length) {
        ul.append(Object.assign(document.createElement("li"), {
          textContent: C.t("cmp_more_records", { n: p.records_total - p.records.length }) }));
      }
    }
    if ($("ws-notes")) {
      $("ws-notes").value = cell.dataset.notes || "";
      $("ws-method").value = cell.dataset.method || "";
    } else if ($("ws-notes-view")) {
      $("ws-notes-view").textContent = cell.dataset.notes || "";
    }
  }

  function focus(cell) {
    if (!cell) return;
    if (focused) { focused.classList.remove("focused"); focused.tabIndex = -1; }
    focused = cell;
    cell.classList.add("focused");
    cell.tabIndex = 0;
    cell.focus();
    showSide(cell);
  }

  function move(dRow, dCol) {
    if (!focused) { focus(visibleRows()[0] && cellsOf(visibleRows()[0])[0]); return; }
    const rows = visibleRows();
    const row = focused.parentElement;
    const col = cellsOf(row).indexOf(focused);
    const r = rows[Math.max(0, Math.min(rows.length - 1, rows.indexOf(row) + dRow))];
    if (!r) return;
    const cells = cellsOf(r);
    focus(cells[Math.max(0, Math.min(cells.length - 1, col + dCol))]);
  }

  async function save(cell, result, extra) {
    const row = cell.parentElement;
    const e = extra || {};
    const payload = {
      item: row.dataset.item,
      object_id: Number(cell.dataset.object),
      result: result,
      method: (e.method !== undefined ? e.method : cell.dataset.method) || null,
      notes: (e.notes !== undefined ? e.notes : cell.dataset.notes) || null,
    };
    cell.classList.add("saving");
    try {
      const r = await C.api(base + "/results", {
        method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
      paint(cell, r);
      cell.dataset.saved = "true";
      showError("");
      status(C.t("cmp_saved", { item: r.item_id, object: r.object, result: label(r.result) }));
      if (cell === focused) showSide(cell);
    } catch (err) {
      showError(err.message);
    } finally {
      cell.classList.remove("saving");
    }
  }

  function applyFilters() {
    const cat = $("ws-category").value;
    const cp = $("ws-cp").value;
    const res = $("ws-result").value;
    let shown = 0;
    for (const row of body.rows) {
      if (!row.dataset.item) continue;
      const results = cellsOf(row).map((c) => c.dataset.result);
      const ok = (!cat || row.dataset.category === cat) && (!cp || row.dataset.cp === cp) &&
        (!res || (res === "unset" ? results.includes("") : res === "proposal" ? !!row.dataset.proposal : results.includes(res)));
      row.hidden = !ok;
      shown += ok ? 1 : 0;
    }
    const el = $("ws-shown");
    el.textContent = C.t("cmp_items_shown", { n: shown, total: el.dataset.total });
    if (focused && focused.parentElement.hidden) { focused.classList.remove("focused"); focused = null; }
  }

  $("ws-category").addEventListener("change", () => {
    const cat = $("ws-category").value;
    for (const opt of $("ws-cp").options) opt.hidden = !!(cat && opt.value && opt.dataset.category !== cat);
    if ($("ws-cp").selectedOptions[0] && $("ws-cp").selectedOptions[0].hidden) $("ws-cp").value = "";
    applyFilters();
  });
  $("ws-cp").addEventListener("change", applyFilters);
  $("ws-result").addEventListener("change", applyFilters);

  grid.addEventListener("click", (ev) => {
    const cell = ev.target.closest("td.ws-cell");
    if (cell) focus(cell);
  });

  grid.addEventListener("keydown", (ev) => {
    const cell = ev.target.closest && ev.target.closest("td.ws-cell");
    if (!cell || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key;
    const moves = { ArrowUp: [-1, 0], k: [-1, 0], ArrowDown: [1, 0], j: [1, 0],
      ArrowLeft: [0, -1], h: [0, -1], ArrowRight: [0, 1], l: [0, 1] };
    if (moves[k]) { ev.preventDefault(); move(...moves[k]); return; }
    if (!data.editable) return;
    if (data.keys[k]) {
      ev.preventDefault();
      save(cell, data.keys[k]);
      move(1, 0);
    } else if (k === "a") {
      const p = (data.items[cell.parentElement.dataset.item] || {}).proposal;
      if (p) { ev.preventDefault(); save(cell, p.result); move(1, 0); }
    } else if (k === "n" && $("ws-notes")) {
      ev.preventDefault();
      $("ws-notes").focus();
    }
  });

  if (data.editable) {
    $("ws-accept").addEventListener("click", () => {
      const p = focused && (data.items[focused.parentElement.dataset.item] || {}).proposal;
      if (p) save(focused, p.result);
    });
    $("ws-notes-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!focused) return;
      if (!focused.dataset.result) { showError(C.t("cmp_notes_need_result")); return; }
      const cell = focused;
      save(cell, cell.dataset.result, { notes: $("ws-notes").value.trim(), method: $("ws-method").value }).then(() => cell.focus());
    });
    $("ws-bulk").addEventListener("click", async () => {
      const rows = visibleRows();
      if (!rows.length) return;
      const result = $("ws-bulk-result").value;
      const onlyUnset = $("ws-only-unset").checked;
      if (!window.confirm(C.t("cmp_bulk_confirm", { n: rows.length, result: label(result) }))) return;
      try {
        const r = await C.api(base + "/results/bulk", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ result: result, items: rows.map((row) => row.dataset.item), only_unset: onlyUnset }) });
        for (const row of rows) {
          for (const cell of cellsOf(row)) {
            if (!onlyUnset || !cell.dataset.result) paint(cell, { result: result }); // bulk set clears method and notes
          }
        }
        showError("");
        status(C.t("cmp_bulk_done", { n: r.created + r.updated }));
        applyFilters();
      } catch (err) {
        showError(err.message);
      }
    });
  }
  const first = visibleRows()[0];
  if (first && cellsOf(first)[0]) cellsOf(first)[0].tabIndex = 0;
})();
