// List tables (table[data-list]): choose the columns shown, remembered per user and list in
// localStorage, and keep the export links (a[data-export] in the same list) on the same columns.
// Header cells carry data-col (the field's name) and data-default="0" when hidden by default; cells
// are matched to their header by position (a row of one cell — "no rows" — is left alone).
(function () {
  "use strict";
  const C = window.ciimap || { t: (k) => k };
  const user = document.body.dataset.user || "";

  function key(table) { return "ciimap.columns." + user + "." + table.dataset.list; }

  function headers(table) {
    return Array.from(table.tHead ? table.tHead.rows[0].cells : []).map((th, i) => ({
      i: i, col: th.dataset.col || "", label: th.textContent.trim(), on: th.dataset.default !== "0",
    }));
  }

  function stored(table) {
    try {
      const v = JSON.parse(window.localStorage.getItem(key(table)) || "null");
      return Array.isArray(v) ? v : null;
    } catch (e) { return null; }
  }

  function visible(table, cols) {
    const saved = stored(table);
    // the first column (id or name) always stays: a row must keep its link
    return cols.filter((c) => c.i === 0 || (saved ? saved.includes(c.col || c.label) : c.on));
  }

  function apply(table, cols, shown) {
    const on = new Set(shown.map((c) => c.i));
    for (const row of table.rows) {
      if (row.cells.length < cols.length) continue;
      for (let i = 0; i < row.cells.length; i++) row.cells[i].classList.toggle("col-off", !on.has(i));
    }
    const names = shown.map((c) => c.col).filter((c) => c);
    const scope = table.closest("[data-list-scope]") || table.parentElement;
    scope.querySelectorAll("a[data-export]").forEach((a) => {
      const url = new URL(a.getAttribute("href"), window.location.href);
      if (names.length) url.searchParams.set("columns", names.join(","));
      a.setAttribute("href", url.pathname + "?" + url.searchParams.toString());
    });
  }

  function chooser(table, cols) {
    const box = document.createElement("details");
    box.className = "col-chooser";
    const sum = document.createElement("summary");
    sum.className = "btn";
    sum.textContent = C.t("list_columns");
    box.appendChild(sum);
    const menu = document.createElement("div");
    menu.className = "col-menu";
    const shown = new Set(visible(table, cols).map((c) => c.i));
    cols.forEach((c) => {
      const label = document.createElement("label");
      const box2 = document.createElement("input");
      box2.type = "checkbox";
      box2.checked = shown.has(c.i);
      box2.disabled = c.i === 0;
      box2.dataset.col = c.col || c.label;
      box2.addEventListener("change", () => {
        const chosen = Array.from(menu.querySelectorAll("input:checked")).map((x) => x.dataset.col);
        window.localStorage.setItem(key(table), JSON.stringify(chosen));
        apply(table, cols, visible(table, cols));
      });
      label.appendChild(box2);
      label.appendChild(document.createTextNode(" " + c.label));
      menu.appendChild(label);
    });
    const reset = document.createElement("button");
    reset.type = "button";
    reset.className = "link";
    reset.textContent = C.t("list_columns_reset");
    reset.addEventListener("click", () => {
      window.localStorage.removeItem(key(table));
      box.replaceWith(chooser(table, cols));
      apply(table, cols, visible(table, cols));
    });
    menu.appendChild(reset);
    box.appendChild(menu);
    return box;
  }

  function setup(table) {
    if (table.dataset.listReady) { // rows swapped in by htmx (a polled tbody): hide the same columns
      const known = headers(table);
      if (known.length >= 2) apply(table, known, visible(table, known));
      return;
    }
    table.dataset.listReady = "1";
    const cols = headers(table);
    if (cols.length < 2) return;
    const scope = table.closest("[data-list-scope]") || table.parentElement;
    let tools = scope.querySelector(".list-tools");
    if (!tools) {
      tools = document.createElement("div");
      tools.className = "list-tools";
      table.parentElement.insertBefore(tools, table);
    }
    tools.prepend(chooser(table, cols));
    apply(table, cols, visible(table, cols));
  }

  function init(root) { (root || document).querySelectorAll("table[data-list]").forEach(setup); }
  init(document);
  document.body.addEventListener("htmx:afterSettle", () => init(document));
})();
