// What-if on the topology page (moved out of topology.js): runs the impact analysis for the selected node,
// highlights what fails and degrades on the map and fills the side panel. The map itself lives in
// topology.js, which exposes its cytoscape instance as window.ciimapTopology.cy.
(function () {
  "use strict";
  const C = window.ciimap, t = (k, v) => C.t(k, v), T = window.ciimapTopology;
  const side = document.getElementById("side");
  const ENTITY = { business_service: "business-services", system: "systems", asset: "assets", product: "products", vendor: "vendors" };
  let lastImpact = null;
  function clearImpact() { const cy = T.cy; if (cy) cy.elements().removeClass("dim failed degraded hl root"); lastImpact = null; }
  async function whatIf(node) {
    const d = node.data();
    const box = side.querySelector('[data-f="impact"]');
    box.textContent = t("loading");
    let res;
    try { res = await C.api(`/api/ui/impact?type=${d.type}&id=${d.ref}`); } catch (e) { box.textContent = e.message; return; }
    clearImpact(); lastImpact = res; T.state.impact = res;
    const cy = T.cy;
    cy.batch(() => {
      T.addAllEdges();  // the dependency chains may run over fine edges
      cy.elements().addClass("dim");
      node.removeClass("dim").addClass("root");
      const mark = (items, cls) => items.forEach((it) => { const n = cy.getElementById(it.id); if (n.length) n.removeClass("dim").addClass(cls); });
      mark(res.failed, "failed"); mark(res.degraded, "degraded");
      for (const it of res.failed.concat(res.degraded)) {
        const path = it.path || [];
        for (let i = 0; i + 1 < path.length; i++) {
          const a = path[i], b = path[i + 1];
          cy.edges(`[source="${a}"][target="${b}"], [source="${b}"][target="${a}"]`).removeClass("dim").addClass("hl");
        }
      }
    });
    box.innerHTML = "";
    const h = document.createElement("h4"); h.textContent = t("impact_title", { f: res.failed.length, d: res.degraded.length }); box.append(h);
    for (const [cls, items] of [["failed", res.failed], ["degraded", res.degraded]]) {
      if (!items.length) continue;
      const h4 = document.createElement("h4"); h4.textContent = t("impact_" + cls); box.append(h4);
      const ul = document.createElement("ul"); ul.dataset.list = cls;
      for (const it of items.slice(0, 200)) {
        const li = document.createElement("li"); li.className = cls;
        const a = document.createElement("a"); a.href = "/entities/" + (ENTITY[it.type] || it.type) + "/" + it.ref; a.textContent = `${t("type_" + it.type)} · ${it.label}`; li.append(a);
        if (it.path_labels && it.path_labels.length > 1) { const p = document.createElement("div"); p.className = "path"; p.textContent = it.path_labels.join(" ← "); li.append(p); }
        ul.append(li);
      }
      box.append(ul);
    }
    if (!res.failed.length && !res.degraded.length) { const p = document.createElement("p"); p.className = "muted"; p.textContent = t("impact_none"); box.append(p); }
    if (res.data_at_risk && res.data_at_risk.length) {
      const h4 = document.createElement("h4"); h4.textContent = t("impact_data", { n: res.data_at_risk_total }); box.append(h4);
      const ul = document.createElement("ul"); ul.dataset.list = "data";
      for (const d of res.data_at_risk) {
        const li = document.createElement("li");
        const a = document.createElement("a"); a.href = "/data/" + d.id; a.textContent = d.name + (d.level ? " · " + t("data_level_" + d.level) : ""); li.append(a);
        ul.append(li);
      }
      box.append(ul);
    }
  }
  window.ciimapWhatIf = { run: whatIf, clear: clearImpact, get last() { return lastImpact; } };
})();
