// Topology map (cytoscape.js, served locally): positions come from the server ("preset" layout),
// so the browser does no layout work even at thousands of nodes.
(function () {
  "use strict";
  const C = window.ciimap, t = (k, v) => C.t(k, v);
  const el = document.getElementById("cy"), side = document.getElementById("side");
  const form = document.getElementById("topo-filter"), status = document.getElementById("topo-status");
  const COLORS = { business_service: "#6a3fb5", system: "#1d6fb8", asset: "#3f9a8a", product: "#b08a2e", vendor: "#7a5c48" };
  const SHAPES = { business_service: "round-rectangle", system: "hexagon", asset: "ellipse", product: "diamond", vendor: "rectangle" };
  const SIZES = { business_service: 34, system: 28, asset: 14, product: 16, vendor: 18 };
  // Plain selectors only (no per-element style functions), and as few properties per element as possible:
  // cytoscape applies (and checks the redraw triggers of) every matched property of every element on the
  // first render, so at 5,000 nodes + 10,000 edges each property costs. Cytoscape defaults (ellipse,
  // border-width 0, haystack-radius 0) are not restated, and the label properties only go to the nodes
  // that are labelled (not the thousands of asset nodes of the overview).
  const LABELLED = "node.lbl, node[type!='asset'], node.failed, node.degraded, node.root, node:selected, node.match";
  const style = [
    { selector: LABELLED, style: { label: "data(label)", "font-size": 9, "min-zoomed-font-size": 7, color: "#2b3a4a",
      "text-valign": "bottom", "text-margin-y": 2 } },
    { selector: "edge", style: { width: 0.7, "line-color": "#d3dae2", "curve-style": "haystack", events: "no" } },
  ];
  for (const k of Object.keys(COLORS)) style.unshift({ selector: `node[type='${k}']`, style: Object.assign({ "background-color": COLORS[k], width: SIZES[k], height: SIZES[k] }, SHAPES[k] === "ellipse" ? {} : { shape: SHAPES[k] }) });
  style.push({ selector: "node[type='business_service'], node[type='system']", style: { "font-size": 11, "font-weight": 600 } });
  style.push(...[
    { selector: ".ov-missing", style: { "border-width": 3, "border-color": "#111", "border-style": "dashed", "background-color": "#ffffff" } },
    { selector: ".ov-unmanaged", style: { "border-width": 2, "border-color": "#e8801a" } },
    { selector: ".ov-foreign", style: { "border-width": 3, "border-color": "#d4589c" } },
    { selector: ".ov-vuln-P1", style: { "background-color": "#b3261e" } },
    { selector: ".ov-vuln-P2", style: { "background-color": "#e8801a" } },
    { selector: ".ov-vuln-P3", style: { "background-color": "#c9a227" } },
    { selector: ".ov-cmp-excellent", style: { "background-color": "#1e8e3e" } },
    { selector: ".ov-cmp-good", style: { "background-color": "#7cb342" } },
    { selector: ".ov-cmp-fair", style: { "background-color": "#e8801a" } },
    { selector: ".ov-cmp-poor", style: { "background-color": "#b3261e" } },
    { selector: ".ov-attack-critical, .ov-attack-high", style: { "border-width": 5, "border-color": "#c62828", "border-style": "solid" } },
    { selector: ".ov-attack-medium, .ov-attack-low", style: { "border-width": 4, "border-color": "#ef6c00", "border-style": "dashed" } },
    { selector: ".ov-warn-red", style: { "background-color": "#c62828" } },
    { selector: ".ov-warn-orange", style: { "background-color": "#ef6c00" } },
    { selector: ".ov-warn-yellow", style: { "background-color": "#f9a825" } },
    { selector: ".ov-warn-blue", style: { "background-color": "#1565c0" } },
    { selector: ".ov-cmp-overdue", style: { "border-width": 4, "border-color": "#b3261e", "border-style": "double" } },
    { selector: ".ov-crypto", style: { "border-width": 4, "border-color": "#8e24aa", "border-style": "dashed" } },
    { selector: ".ov-data-important", style: { "border-width": 4, "border-color": "#8d5a06" } },
    { selector: ".ov-data-core", style: { "border-width": 5, "border-color": "#6a1b9a" } },
    { selector: ".ov-incident-I, .ov-incident-II", style: { "border-width": 6, "border-color": "#d50000", "border-style": "double" } },
    { selector: ".ov-incident-III, .ov-incident-IV", style: { "border-width": 5, "border-color": "#ff6d00", "border-style": "double" } },
    { selector: ".dim", style: { opacity: 0.12 } },
    { selector: ".failed", style: { "background-color": "#d62b20", opacity: 1, "border-width": 2, "border-color": "#7a0f09", "z-index": 9 } },
    { selector: ".degraded", style: { "background-color": "#f08c1e", opacity: 1, "z-index": 8 } },
    { selector: "edge.hl", style: { "line-color": "#d62b20", width: 2, opacity: 1, "curve-style": "straight", "target-arrow-shape": "none" } },
    { selector: ".root", style: { "border-width": 4, "border-color": "#000", "background-color": "#7a0f09" } },
    { selector: ":selected", style: { "border-width": 3, "border-color": "#0b5cad", "overlay-opacity": 0 } },
    { selector: ".match", style: { "border-width": 3, "border-color": "#0b5cad" } },
  ]);
  // Level of detail on big maps: asset labels and the edges touching assets are drawn only once you
  // zoom in (or around a selection); the overview keeps services, systems, products and vendors linked.
  // Drawing 10,000 hair-thin edges nobody can tell apart is most of the first-render cost. Those edges are
  // not even handed to cytoscape until they are needed (zooming in, a selection, expand, what-if): creating,
  // styling and bounding ~10,000 hidden edges was most of the time to interactive at 5,000 nodes.
  const LABEL_ZOOM = 0.9, EDGE_ZOOM = 0.35, FINE_ABOVE = 1500;
  style.push({ selector: "edge.fine", style: { display: "none" } });
  style.push({ selector: "edge.fine.near, edge.fine.hl", style: { display: "element" } });
  let labelled = false, detailed = true;
  function syncLabels() {
    const want = cy.zoom() >= LABEL_ZOOM;
    if (want !== labelled) {
      labelled = want;
      cy.batch(() => (want ? cy.nodes("[type='asset']").addClass("lbl") : cy.nodes(".lbl").removeClass("lbl")));
    }
    const edges = cy.nodes().length <= FINE_ABOVE || cy.zoom() >= EDGE_ZOOM;
    if (edges !== detailed) {
      detailed = edges;
      cy.batch(() => (edges ? (addPending([...pending.keys()]), cy.edges(".fine").removeClass("fine")) : fineEdges().addClass("fine")));
    }
  }
  const fineEdges = () => cy.edges().filter((e) => e.source().data("type") === "asset" || e.target().data("type") === "asset");
  function showNear(node) {
    cy.batch(() => { cy.edges(".near").removeClass("near"); edgesOf(node.id()); node.connectedEdges().addClass("near"); });
  }
  // Fine edges of a big map that are not in cytoscape yet: edge id → element, and node id → its edge ids.
  let pending = new Map(), pendingBy = {};
  function addPending(ids) {
    const els = [];
    for (const id of ids) {
      const e = pending.get(id);
      if (!e) continue;
      pending.delete(id);
      if (!cy.getElementById(id).length) { e.classes = detailed ? "" : "fine"; els.push(e); }
    }
    if (els.length) cy.add(els);
  }
  function edgesOf(id) { if (pendingBy[id]) { addPending(pendingBy[id]); delete pendingBy[id]; } }
  let cy = null;
  const expanded = {};
  const state = (window.ciimapTopo = { ready: false, nodes: 0, edges: 0, clicks: 0, impact: null });
  window.ciimapTopology = { get cy() { return cy; }, state, pendingIds: () => pending.keys(), addEdges: (ids) => addPending(ids) };

  // lazy: keep the fine edges of a big map out of cytoscape (in `pending`) until they are needed.
  function toElements(g, lazy) {
    const els = [], fine = g.nodes.length > FINE_ABOVE, types = {};
    for (const n of g.nodes) { types[n.id] = n.type; els.push({ group: "nodes", data: n, position: n.x != null ? { x: n.x, y: n.y } : undefined }); }
    for (const e of g.edges) {
      const cls = fine && (types[e.source] === "asset" || types[e.target] === "asset") ? "fine" : "";
      const el = { group: "edges", classes: cls, data: Object.assign({}, e, { id: e.source + ">" + e.target + ">" + e.kind }) };
      if (!(lazy && cls)) { els.push(el); continue; }
      pending.set(el.data.id, el);
      for (const n of [e.source, e.target]) (pendingBy[n] = pendingBy[n] || []).push(el.data.id);
    }
    return els;
  }
  function applyOverlays() {
    if (!cy) return;
    const on = {};
    document.querySelectorAll("[data-overlay]").forEach((cb) => (on[cb.dataset.overlay] = cb.checked));
    cy.batch(() => {
      cy.nodes().removeClass("ov-missing ov-unmanaged ov-foreign ov-vuln-P1 ov-vuln-P2 ov-vuln-P3 " +
        "ov-cmp-excellent ov-cmp-good ov-cmp-fair ov-cmp-poor ov-cmp-overdue ov-crypto " +
        "ov-data-important ov-data-core ov-incident-I ov-incident-II ov-incident-III ov-incident-IV " +
        "ov-attack-critical ov-attack-high ov-attack-medium ov-attack-low ov-warn-red ov-warn-orange ov-warn-yellow ov-warn-blue");
      if (on.missing) cy.nodes("[?missing]").addClass("ov-missing");
      if (on.unmanaged) cy.nodes("[?unmanaged]").addClass("ov-unmanaged");
      if (on.foreign) cy.nodes("[?foreign]").addClass("ov-foreign");
      if (on.vuln) cy.nodes("[vuln]").forEach((n) => n.addClass("ov-vuln-" + n.data("vuln")));
      if (on.crypto) cy.nodes("[crypto_gap]").addClass("ov-crypto");
      if (on.attack) {
        cy.nodes("[attack]").forEach((n) => n.addClass("ov-attack-" + n.data("attack")));
        cy.nodes("[warn]").forEach((n) => n.addClass("ov-warn-" + n.data("warn")));
      }
      if (on.cmp) {
        cy.nodes("[cmp]").forEach((n) => n.addClass("ov-cmp-" + n.data("cmp")));
        cy.nodes("[rect_overdue]").addClass("ov-cmp-overdue");
      }
      if (on.data) cy.nodes("[data_level]").forEach((n) => n.addClass("ov-data-" + n.data("data_level")));
      if (on.incident) cy.nodes("[incident]").forEach((n) => n.addClass("ov-incident-" + n.data("incident")));
    });
  }
  // Zoom and pan from the server's coordinates: cheaper than fit(), which measures every element.
  function viewport(nodes) {
    if (!nodes.length) return {};
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of nodes) { if (n.x < x0) x0 = n.x; if (n.x > x1) x1 = n.x; if (n.y < y0) y0 = n.y; if (n.y > y1) y1 = n.y; }
    const w = el.clientWidth || 800, h = el.clientHeight || 600, pad = 40;
    const zoom = Math.min(2, (w - 2 * pad) / Math.max(x1 - x0, 1), (h - 2 * pad) / Math.max(y1 - y0, 1));
    return { zoom, pan: { x: (w - zoom * (x0 + x1)) / 2, y: (h - zoom * (y0 + y1)) / 2 } };
  }
  function params() {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) p.set(k, v);
    return p;
  }
  async function load() {
    el.dataset.state = "loading"; state.ready = false;
    status.textContent = t("loading");
    const started = performance.now();
    const qs = params().toString(), first = window.ciimapTopoFirst;
    window.ciimapTopoFirst = null;
    const r = first && first.qs === qs ? await first.res : null;
    const g = r && r.ok ? await r.json() : await C.api("/api/ui/topology?" + qs);
    state.timing = { fetched: performance.now() };
    if (cy) cy.destroy();
    pending = new Map(); pendingBy = {};
    cy = cytoscape({ container: el, elements: toElements(g, true), style, layout: { name: "preset", fit: false }, ...viewport(g.nodes),
      textureOnViewport: g.nodes.length > 1500, hideEdgesOnViewport: g.nodes.length > 1500, pixelRatio: 1,
      minZoom: 0.02, maxZoom: 4, boxSelectionEnabled: false });
    state.timing.created = performance.now();
    labelled = false; detailed = g.nodes.length <= FINE_ABOVE;
    cy.one("render", () => { state.timing.rendered = performance.now(); });
    cy.on("zoom", () => { clearTimeout(state.zt); state.zt = setTimeout(syncLabels, 150); });
    state.cy = cy; state.nodes = cy.nodes().length; state.edges = cy.edges().length + pending.size;
    applyOverlays(); bind();
    const q = params().get("q");
    if (q) cy.nodes().filter((n) => String(n.data("label")).toLowerCase().startsWith(q.toLowerCase())).addClass("match");
    cy.ready(() => {
      state.timing.ready = performance.now();
      el.dataset.state = "ready"; state.ready = true; state.loadMs = performance.now() - started;
      const c = g.counts || {};
      status.textContent = t("shown", { n: state.nodes, e: state.edges }) + (g.truncated ? " · " + t("truncated") : "") +
        " · " + Object.keys(c).map((k) => t("type_" + k) + " " + c[k]).join(" · ");
      const hash = decodeURIComponent(location.hash.slice(1));
      if (hash && cy.getElementById(hash).length) { const n = cy.getElementById(hash); n.select(); show(n); cy.animate({ center: { eles: n }, zoom: 1.2 }, { duration: 200 }); }
    });
  }
  function bind() {
    cy.on("tap", "node", (ev) => { state.clicks++; state.timing.tapped = performance.now(); showNear(ev.target); show(ev.target); });
    cy.on("dbltap", "node", (ev) => toggleExpand(ev.target));
    cy.on("tap", (ev) => { if (ev.target === cy) { state.clicks++; window.ciimapWhatIf.clear(); side.innerHTML = `<div class="side-empty muted">${t("select_hint")}</div>`; } });
  }
  const ATTRS = ["ip", "kind", "mlps", "criticality", "layer", "country", "vuln", "attack", "warn", "incident", "incidents"];
  const ENTITY = { business_service: "business-services", system: "systems", asset: "assets", product: "products", vendor: "vendors" };
  function show(node) {
    const d = node.data();
    edgesOf(d.id);
    const frag = document.getElementById("side-tpl").content.cloneNode(true);
    frag.querySelector('[data-f="type"]').textContent = t("type_" + d.type);
    frag.querySelector('[data-f="label"]').textContent = d.label;
    const dl = frag.querySelector('[data-f="attrs"]');
    for (const k of ATTRS) if (d[k] != null && d[k] !== "") { const dt = document.createElement("dt"); dt.textContent = t("attr_" + k); const dd = document.createElement("dd"); dd.textContent = d[k]; dl.append(dt, dd); }
    for (const k of ["missing", "unmanaged", "foreign"]) if (d[k]) { const dt = document.createElement("dt"); dt.textContent = t("attr_flag"); const dd = document.createElement("dd"); dd.textContent = t("flag_" + k); dl.append(dt, dd); }
    const dt = document.createElement("dt"); dt.textContent = t("attr_degree"); const dd = document.createElement("dd"); dd.textContent = node.degree(); dl.append(dt, dd);
    frag.querySelector('[data-f="link"]').href = "/entities/" + ENTITY[d.type] + "/" + d.ref;
    const exp = frag.querySelector('[data-act="expand"]');
    exp.textContent = expanded[d.id] ? t("collapse") : t("expand");
    exp.addEventListener("click", () => toggleExpand(node).then(() => show(node)));
    const wi = frag.querySelector('[data-act="whatif"]');
    if (wi) wi.addEventListener("click", () => window.ciimapWhatIf.run(node));
    side.replaceChildren(frag);
  }
  async function toggleExpand(node) {
    const id = node.id();
    edgesOf(id);
    if (expanded[id]) { cy.remove(cy.collection(expanded[id].map((x) => cy.getElementById(x)))); delete expanded[id]; return; }
    const d = node.data();
    const g = await C.api(`/api/ui/topology/neighbours?type=${d.type}&id=${d.ref}`);
    const fresh = g.nodes.filter((n) => !cy.getElementById(n.id).length);
    const p = node.position(), r = 60 + fresh.length * 3;
    fresh.forEach((n, i) => { const a = (2 * Math.PI * i) / Math.max(fresh.length, 1); n.x = p.x + r * Math.cos(a); n.y = p.y + r * Math.sin(a); });
    const added = cy.add(toElements({ nodes: fresh, edges: g.edges.filter((e) => !cy.getElementById(e.source + ">" + e.target + ">" + e.kind).length) }));
    expanded[id] = added.nodes().map((n) => n.id());
    applyOverlays();
    status.textContent = t("expanded", { n: fresh.length });
  }
  // Filters can be preset from the URL (/topology?site_id=2&budget=5000) for links and bookmarks.
  for (const [k, v] of new URLSearchParams(location.search)) {
    const f = form.elements[k];
    if (!f) continue;
    if (f.tagName === "SELECT" && ![...f.options].some((o) => o.value === v)) f.add(new Option(v, v));
    f.value = v;
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  document.querySelectorAll("[data-overlay]").forEach((cb) => cb.addEventListener("change", applyOverlays));
  document.getElementById("topo-fit").addEventListener("click", () => { window.ciimapWhatIf.clear(); cy && cy.fit(undefined, 30); });
  load().catch((e) => { el.dataset.state = "error"; status.textContent = e.message; });
})();
