// What-if on the topology page: runs the impact analysis for the selected node, highlights what fails and
// degrades on the map, fits the view to it and fills the side panel (totals by type from the API, the
// ranked list with dependency chains, export buttons). The map lives in topology.js, which exposes its
// cytoscape instance as window.ciimapTopology.cy.
// Speed: edge ids are "source>target>kind", so the path edges are looked up in a Map built once per
// what-if (one pass over the edges) instead of one selector scan of every edge per path hop; all style
// changes go through classes inside one cy.batch().
(function () {
  "use strict";
  const C = window.ciimap, t = (k, v) => C.t(k, v), T = window.ciimapTopology;
  const side = document.getElementById("side");
  const ENTITY = { business_service: "business-services", system: "systems", asset: "assets", product: "products", vendor: "vendors" };
  const KIND = { business_service: "service", system: "system", asset: "asset", product: "product", vendor: "vendor" };
  const TYPES = ["business_service", "system", "asset", "product", "vendor", "site", "zone", "channel"];
  const LISTED = ["business_service", "system", "asset"];  // the types the API lists one by one
  let lastImpact = null;

  function clearImpact() { const cy = T.cy; if (cy) cy.batch(() => cy.elements(".dim, .failed, .degraded, .hl, .root").removeClass("dim failed degraded hl root")); lastImpact = null; }
  const pair = (a, b) => (a < b ? a + "|" + b : b + "|" + a);
  // Unordered node pair → edge ids between them, from the edge ids alone (no element access, no selector):
  // the edges in cytoscape and the fine edges topology.js keeps out of it until needed.
  function edgeIndex(cy) {
    const idx = new Map();
    const put = (id) => { const [a, b] = id.split(">"), k = pair(a, b), l = idx.get(k); if (l) l.push(id); else idx.set(k, [id]); };
    cy.edges().forEach((e) => put(e.id()));
    for (const id of T.pendingIds()) put(id);
    return idx;
  }
  // Edge ids on the dependency chains of the hit nodes.
  function pathEdges(idx, items) {
    const ids = new Set();
    for (const it of items) {
      const path = it.path || [];
      for (let i = 0; i + 1 < path.length; i++) { const l = idx.get(pair(path[i], path[i + 1])); if (l) for (const id of l) ids.add(id); }
    }
    return [...ids];
  }
  function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function total(res, status) { const c = (res.counts || {})[status] || {}; return Object.values(c).reduce((a, b) => a + b, 0); }

  function highlight(cy, node, res) {
    const items = res.failed.concat(res.degraded);
    const ids = pathEdges(edgeIndex(cy), items);
    T.addEdges(ids);  // only the fine edges the chains run over enter cytoscape
    const hit = [node];
    let missing = 0;
    cy.batch(() => {
      cy.elements().addClass("dim");
      node.removeClass("dim").addClass("root");
      for (const [cls, list] of [["failed", res.failed], ["degraded", res.degraded]]) {
        for (const it of list) {
          const n = cy.getElementById(it.id);
          if (n.length) { n.removeClass("dim").addClass(cls); hit.push(n); } else missing++;
        }
      }
      for (const id of ids) cy.getElementById(id).removeClass("dim").addClass("hl");
    });
    return { hit: cy.collection(hit), missing };
  }

  function headline(box, res, missing) {
    const f = total(res, "failed"), d = total(res, "degraded");
    const h = el("h4", null, t("impact_title", { f, d })); h.dataset.f = "headline"; box.append(h);
    const tbl = el("table", "whatif-counts"); tbl.dataset.f = "counts";
    const head = el("tr"); for (const x of ["", t("impact_failed"), t("impact_degraded")]) head.append(el("th", null, x)); tbl.append(head);
    const f0 = res.counts.failed || {}, d0 = res.counts.degraded || {};
    for (const ty of TYPES) {
      if (!LISTED.includes(ty) && !f0[ty] && !d0[ty]) continue;
      const tr = el("tr"); tr.dataset.type = ty;
      tr.append(el("th", null, t("type_" + ty)), el("td", null, String((res.counts.failed || {})[ty] || 0)), el("td", null, String((res.counts.degraded || {})[ty] || 0)));
      tbl.append(tr);
    }
    box.append(tbl);
    // Hit services, systems and assets that are not on this map: past the API's list or outside the view.
    let hidden = missing;
    for (const ty of LISTED) hidden += (f0[ty] || 0) + (d0[ty] || 0);
    hidden -= res.failed.length + res.degraded.length;
    if (hidden > 0) {
      const p = el("p", "muted", t("whatif_not_shown", { n: hidden })); p.dataset.f = "not-shown"; box.append(p);
    }
  }

  function exports(box, d) {
    const lang = document.documentElement.lang.startsWith("en") ? "en" : "zh-CN";
    const div = el("div", "side-actions whatif-export"); div.append(el("span", "muted", t("whatif_export")));
    for (const fmt of ["xlsx", "docx", "pdf"]) {
      const a = el("a", "btn", fmt.toUpperCase());
      a.href = `/api/graph/impact/export?fail=${encodeURIComponent(KIND[d.type] + ":" + d.ref)}&fmt=${fmt}&lang=${lang}`;
      a.dataset.export = fmt; a.setAttribute("download", "");
      div.append(a);
    }
    box.append(div);
  }

  function lists(box, res) {
    for (const [cls, items] of [["failed", res.failed], ["degraded", res.degraded]]) {
      if (!items.length) continue;
      box.append(el("h4", null, t("impact_" + cls)));
      const ul = el("ul"); ul.dataset.list = cls;
      for (const it of items.slice(0, 200)) {
        const li = el("li", cls);
        const a = el("a", null, `${t("type_" + it.type)} · ${it.label}`); a.href = "/entities/" + (ENTITY[it.type] || it.type) + "/" + it.ref; li.append(a);
        if (it.path_labels && it.path_labels.length > 1) li.append(el("div", "path", it.path_labels.join(" ← ")));
        ul.append(li);
      }
      box.append(ul);
    }
    if (!res.failed.length && !res.degraded.length) box.append(el("p", "muted", t("impact_none")));
    if (res.data_at_risk && res.data_at_risk.length) {
      box.append(el("h4", null, t("impact_data", { n: res.data_at_risk_total })));
      const ul = el("ul"); ul.dataset.list = "data";
      for (const x of res.data_at_risk) {
        const li = el("li"); const a = el("a", null, x.name + (x.level ? " · " + t("data_level_" + x.level) : "")); a.href = "/data/" + x.id; li.append(a); ul.append(li);
      }
      box.append(ul);
    }
  }

  async function whatIf(node) {
    const d = node.data(), started = performance.now();
    const box = side.querySelector('[data-f="impact"]');
    box.dataset.state = "loading"; box.textContent = t("loading");
    let res;
    try { res = await C.api(`/api/ui/impact?type=${d.type}&id=${d.ref}`); } catch (e) { box.textContent = e.message; box.dataset.state = "error"; return; }
    const fetched = performance.now();
    clearImpact(); lastImpact = res; T.state.impact = res;
    const cy = T.cy;
    const { hit, missing } = highlight(cy, node, res);
    const lit = performance.now();
    box.innerHTML = "";
    headline(box, res, missing);
    exports(box, d);
    lists(box, res);
    cy.stop(); cy.animate({ fit: { eles: hit, padding: 40 } }, { duration: 250 });
    const done = performance.now();
    T.state.whatif = { ms: done - started, fetchMs: fetched - started, highlightMs: lit - fetched, panelMs: done - lit, apiMs: res.elapsed_ms, missing, shown: hit.length };
    // "ready" once the highlighted map and the filled panel have been painted (the next frame).
    requestAnimationFrame(() => setTimeout(() => { T.state.whatif.paintedMs = performance.now() - started; box.dataset.state = "ready"; }, 0));
  }
  window.ciimapWhatIf = { run: whatIf, clear: clearImpact, get last() { return lastImpact; } };
})();
