// Topology map (cytoscape.js, served locally): positions come from the server ("preset" layout),
// so the browser does no layout work even at thousands of nodes.
// Two views: the command map (default: business services → systems → clusters of assets per system and
// zone, the riskiest assets drawn individually; labels always readable, hover cards, expand a cluster,
// search that flies to the hit, a path between two nodes) and the asset view (?view=assets: every asset
// up to the budget, filled by importance).
(function () {
  "use strict";
  const C = window.ciimap, t = (k, v) => C.t(k, v);
  const el = document.getElementById("cy"), side = document.getElementById("side");
  const form = document.getElementById("topo-filter"), status = document.getElementById("topo-status");
  const card = document.getElementById("topo-card");
  const COLORS = { business_service: "#6a3fb5", system: "#1d6fb8", asset: "#3f9a8a", product: "#b08a2e", vendor: "#7a5c48", cluster: "#9aabbd" };
  const SHAPES = { business_service: "round-rectangle", system: "hexagon", asset: "ellipse", product: "diamond", vendor: "rectangle", cluster: "ellipse" };
  const SIZES = { business_service: 34, system: 28, asset: 14, product: 16, vendor: 18, cluster: 26 };
  // Plain selectors only (no per-element style functions), and as few properties per element as possible:
  // cytoscape applies (and checks the redraw triggers of) every matched property of every element on the
  // first render, so at 5,000 nodes + 10,000 edges each property costs. Cytoscape defaults (ellipse,
  // border-width 0, haystack-radius 0) are not restated, and the label properties only go to the nodes
  // that are labelled (not the thousands of asset nodes of the overview).
  const LABELLED = "node.lbl, node[type!='asset'], node.failed, node.degraded, node.root, node:selected, node.match, node.found, node.onpath";
  const style = [
    { selector: LABELLED, style: { label: "data(label)", "font-size": 9, "min-zoomed-font-size": 7, color: "#2b3a4a",
      "text-valign": "bottom", "text-margin-y": 2 } },
    { selector: "edge", style: { width: 0.7, "line-color": "#d3dae2", "curve-style": "haystack", events: "no" } },
  ];
  for (const k of Object.keys(COLORS)) style.unshift({ selector: `node[type='${k}']`, style: Object.assign({ "background-color": COLORS[k], width: SIZES[k], height: SIZES[k] }, SHAPES[k] === "ellipse" ? {} : { shape: SHAPES[k] }) });
  style.push({ selector: "node[type='business_service'], node[type='system']", style: { "font-size": 11, "font-weight": 600 } });
  // Command map: bigger nodes, clusters sized by their asset count, labels that stay readable at any zoom
  // (the .fzN classes below are switched on zoom: the font grows in model units as the view zooms out, and
  // long names end in "…" instead of running into their neighbours; the hover card has the full text).
  style.push(
    { selector: "node.cmd[type='business_service']", style: { width: 58, height: 34, "text-valign": "top", "text-margin-y": -4 } },
    { selector: "node.cmd[type='system']", style: { width: 40, height: 36 } },
    { selector: "node[type='cluster']", style: { width: "data(sz)", height: "data(sz)", label: "data(caption)", "border-width": 1, "border-color": "#6b7d8f" } },
    { selector: "node.cmd", style: { "text-wrap": "ellipsis", "min-zoomed-font-size": 0 } },
    { selector: "node.cmd[type='business_service']", style: { color: "#3b1f73" } },
    { selector: "node[?hot]", style: { width: 16, height: 16, "border-width": 2, "border-color": "#4a0d09" } },
    { selector: "edge.cmd", style: { width: 1.2, "line-color": "#b9c4cf", "curve-style": "bezier" } },
    { selector: "edge[kind='contains']", style: { "line-color": "#d3dae2", width: 0.8, "curve-style": "haystack" } },
    { selector: "node.member", style: { "font-size": 8 } },
    { selector: "node.open", style: { "border-width": 3, "border-color": "#0b5cad", "border-style": "dotted" } },
  );
  const FONT_PX = 12, ZOOMS = [1.2, 0.85, 0.6, 0.42, 0.3, 0.21, 0.15, 0.1, 0.06, 0];
  ZOOMS.forEach((z, i) => {
    const fz = FONT_PX / Math.max(z, 0.045);
    // (text-max-width never below a few characters: cytoscape's ellipsis crashes the tab when not even
    // one character fits)
    style.push({ selector: `node.cmd.fz${i}`, style: { "font-size": fz, "text-margin-y": 2, "text-max-width": Math.max(175, fz * 4) } });
    style.push({ selector: `node.cmd.fz${i}[type='business_service']`, style: { "font-size": fz * 1.2, "text-margin-y": -3, "text-max-width": Math.max(300, fz * 5) } });
  });
  const fzBucket = (z) => ZOOMS.findIndex((b) => z >= b);
  style.push(...[
    { selector: ".ov-missing", style: { "border-width": 3, "border-color": "#111", "border-style": "dashed", "background-color": "#ffffff" } },
    { selector: ".ov-unmanaged", style: { "border-width": 2, "border-color": "#e8801a" } },
    { selector: ".ov-foreign", style: { "border-width": 3, "border-color": "#d4589c" } },
    { selector: ".ov-vuln-P1", style: { "background-color": "#b3261e" } },
    { selector: ".ov-vuln-P2", style: { "background-color": "#e8801a" } },
    { selector: ".ov-vuln-P3", style: { "background-color": "#c9a227" } },
    { selector: ".ov-vuln-P4", style: { "background-color": "#8fb3a0" } },
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
    { selector: "node.found", style: { "border-width": 6, "border-color": "#00a3ff", "border-style": "solid", "z-index": 20 } },
    { selector: "node.onpath", style: { "border-width": 5, "border-color": "#7b1fa2", "z-index": 15 } },
    { selector: "edge.onpath", style: { "line-color": "#7b1fa2", width: 4, "curve-style": "straight", "z-index": 15, display: "element" } },
  ]);
  // Level of detail on big maps: asset labels and the edges touching assets are drawn only once you
  // zoom in (or around a selection); the overview keeps services, systems, products and vendors linked.
  // Drawing 10,000 hair-thin edges nobody can tell apart is most of the first-render cost. Those edges are
  // not even handed to cytoscape until they are needed (zooming in, a selection, expand, what-if): creating,
  // styling and bounding ~10,000 hidden edges was most of the time to interactive at 5,000 nodes.
  const LABEL_ZOOM = 0.9, EDGE_ZOOM = 0.35, FINE_ABOVE = 1500;
  style.push({ selector: "edge.fine", style: { display: "none" } });
  style.push({ selector: "edge.fine.near, edge.fine.hl", style: { display: "element" } });
  let labelled = false, detailed = true, fz = -1;
  // Work on thousands of elements is cut into slices, one per task, so that no single main-thread task
  // blocks zooming or panning for long (a newer switch cancels the slices of an older one).
  const gen = { lbl: 0, edges: 0 };
  function inSlices(kind, items, size, fn) {
    const mine = ++gen[kind], owner = cy;
    let i = 0;
    const step = () => {
      if (cy !== owner || mine !== gen[kind]) return;
      const part = items.slice(i, i + size);
      i += size;
      cy.batch(() => fn(part));
      if (i < items.length) setTimeout(step, 0);
    };
    step();
  }
  function syncLabels() {
    const want = cy.zoom() >= LABEL_ZOOM;
    syncFont();
    const edges = cy.nodes().length <= FINE_ABOVE || cy.zoom() >= EDGE_ZOOM;
    if (want !== labelled) {
      labelled = want;
      const els = (want ? cy.nodes("[type='asset']") : cy.nodes(".lbl")).toArray();
      inSlices("lbl", els, 500, (part) => part.forEach((n) => (want ? n.addClass("lbl") : n.removeClass("lbl"))));
    }
    if (edges !== detailed) {
      detailed = edges;
      if (edges) {
        // pending edges enter already visible (addPending reads `detailed`), then the hidden ones are shown
        const show = cy.edges(".fine").toArray(), ids = [...pending.keys()];
        inSlices("edges", [...ids.map((id) => ["add", id]), ...show.map((e) => ["show", e])], 1000, (part) => {
          addPending(part.filter((x) => x[0] === "add").map((x) => x[1]));
          for (const x of part) if (x[0] === "show") x[1].removeClass("fine");
        });
      } else inSlices("edges", fineEdges().toArray(), 1000, (part) => part.forEach((e) => e.addClass("fine")));
    }
  }
  // The labels of the command map's nodes: one class switch on a few hundred nodes when the zoom crosses a step.
  function syncFont(force) {
    const b = fzBucket(cy.zoom());
    if (b === fz && !force) return;
    fz = b;
    const all = ZOOMS.map((_z, i) => "fz" + i).join(" ");
    cy.batch(() => cy.nodes(".cmd").removeClass(all).addClass("fz" + b));
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
  let cy = null, view = "overview", pathFrom = null;
  const expanded = {}, moved = {};
  const CLUSTER_BUDGET = 200, COL_GAP = 44, ROW_GAP = 30;
  const state = (window.ciimapTopo = { ready: false, nodes: 0, edges: 0, clicks: 0, impact: null, view: null, found: null, path: null });
  window.ciimapTopology = { get cy() { return cy; }, state, pendingIds: () => pending.keys(), addEdges: (ids) => addPending(ids),
    flyTo: (hit) => flyTo(hit), expand: (id) => expandCluster(cy.getElementById(id)), findPath: (a, b) => findPath(a, b) };

  const eid = (e) => e.source + ">" + e.target + ">" + e.kind;
  // Cluster captions and sizes: the zone and the asset count; the node grows with the log of the count.
  function decorate(n) {
    if (n.type === "cluster") {
      n.caption = n.label + " · " + n.count;
      n.sz = Math.round(20 + 7 * Math.log2(1 + n.count));
    }
    return n;
  }
  // lazy: keep the fine edges of a big map out of cytoscape (in `pending`) until they are needed.
  function toElements(g, lazy, cmd) {
    const els = [], fine = !cmd && g.nodes.length > FINE_ABOVE, types = {};
    for (const n of g.nodes) {
      types[n.id] = n.type;
      const imp = cmd && n.type !== "asset";
      els.push({ group: "nodes", data: decorate(n), classes: imp ? "cmd fz" + Math.max(fz, 0) : "", position: n.x != null ? { x: n.x, y: n.y } : undefined });
    }
    for (const e of g.edges) {
      const cls = fine && (types[e.source] === "asset" || types[e.target] === "asset") ? "fine" : cmd ? "cmd" : "";
      const el = { group: "edges", classes: cls, data: Object.assign({}, e, { id: eid(e) }) };
      if (!(lazy && cls === "fine")) { els.push(el); continue; }
      pending.set(el.data.id, el);
      for (const n of [e.source, e.target]) (pendingBy[n] = pendingBy[n] || []).push(el.data.id);
    }
    return els;
  }
  function applyOverlays() {
    const on = {};
    document.querySelectorAll("[data-overlay]").forEach((cb) => (on[cb.dataset.overlay] = cb.checked));
    document.querySelectorAll("[data-legend]").forEach((lg) => (lg.hidden = !on[lg.dataset.legend]));
    if (!cy) return;
    cy.batch(() => {
      cy.nodes().removeClass("ov-missing ov-unmanaged ov-foreign ov-vuln-P1 ov-vuln-P2 ov-vuln-P3 ov-vuln-P4 " +
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
    const zoom = Math.min(2, (w - 2 * pad) / Math.max(x1 - x0, 1), (h - 2 * pad) / Math.max(y1 - y0 + 60, 1));
    return { zoom, pan: { x: (w - zoom * (x0 + x1)) / 2, y: (h - zoom * (y0 + y1)) / 2 } };
  }
  function params() {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) p.set(k, v);
    return p;
  }
  function apiUrl(p) {
    const q = new URLSearchParams(p);
    if (q.get("view") === "assets") { q.delete("view"); return "/api/ui/topology?" + q; }
    for (const k of ["view", "budget", "q"]) q.delete(k);
    return "/api/ui/topology/overview?" + q;
  }
  async function load() {
    el.dataset.state = "loading"; state.ready = false;
    status.textContent = t("loading");
    const started = performance.now();
    const p = params(), url = apiUrl(p), first = window.ciimapTopoFirst;
    view = p.get("view") === "assets" ? "assets" : "overview";
    window.ciimapTopoFirst = null;
    const r = first && first.url === url ? await first.res : null;
    const g = r && r.ok ? await r.json() : await C.api(url);
    state.timing = { fetched: performance.now() };
    if (cy) cy.destroy();
    pending = new Map(); pendingBy = {}; pathFrom = null;
    for (const k of Object.keys(expanded)) delete expanded[k];
    for (const k of Object.keys(moved)) delete moved[k];
    const cmd = view === "overview", vp = viewport(g.nodes);
    fz = fzBucket(vp.zoom || 1);
    cy = cytoscape({ container: el, elements: toElements(g, true, cmd), style, layout: { name: "preset", fit: false }, ...vp,
      textureOnViewport: g.nodes.length > 1500, hideEdgesOnViewport: g.nodes.length > 1500, pixelRatio: 1,
      minZoom: 0.02, maxZoom: 4, boxSelectionEnabled: false });
    state.timing.created = performance.now();
    labelled = false; detailed = cmd || g.nodes.length <= FINE_ABOVE;
    cy.one("render", () => { state.timing.rendered = performance.now(); });
    cy.on("zoom", () => { clearTimeout(state.zt); state.zt = setTimeout(syncLabels, 150); });
    state.cy = cy; state.view = view; state.nodes = cy.nodes().length; state.edges = cy.edges().length + pending.size;
    applyOverlays(); bind();
    const q = p.get("q");
    if (q && !cmd) cy.nodes().filter((n) => String(n.data("label")).toLowerCase().startsWith(q.toLowerCase())).addClass("match");
    cy.ready(() => {
      state.timing.ready = performance.now();
      el.dataset.state = "ready"; state.ready = true; state.loadMs = performance.now() - started;
      const c = g.counts || {};
      status.textContent = (cmd ? t("cmd_status", { n: (g.assets || 0).toLocaleString() }) : t("shown", { n: state.nodes, e: state.edges })) +
        (g.truncated ? " · " + t("truncated") : "") + " · " + Object.keys(c).map((k) => t("type_" + k) + " " + c[k]).join(" · ");
      const hash = decodeURIComponent(location.hash.slice(1));
      if (hash && cy.getElementById(hash).length) { const n = cy.getElementById(hash); n.select(); show(n); cy.animate({ center: { eles: n }, zoom: 1.2 }, { duration: 200 }); }
    });
  }
  function bind() {
    cy.on("tap", "node", (ev) => { state.clicks++; state.timing.tapped = performance.now(); showNear(ev.target); show(ev.target); });
    cy.on("dbltap", "node", (ev) => toggleExpand(ev.target));
    cy.on("tap", (ev) => { if (ev.target === cy) { state.clicks++; window.ciimapWhatIf.clear(); clearMarks(); side.innerHTML = `<div class="side-empty muted">${t("select_hint")}</div>`; } });
    cy.on("mouseover", "node", (ev) => hover(ev.target));
    cy.on("mouseout", "node", () => { card.hidden = true; });
    cy.on("viewport", () => { card.hidden = true; });
  }
  const ATTRS = ["ip", "kind", "mlps", "criticality", "layer", "country", "vuln", "findings", "attack", "warn", "incident", "incidents"];
  const COUNTS = { cluster: ["count", "vulnerable", "p1", "kev", "missing", "unmanaged"], system: ["assets", "vulnerable_n", "kev_n", "missing_n", "unmanaged_n"],
    business_service: ["systems", "assets"] };
  const ENTITY = { business_service: "business-services", system: "systems", asset: "assets", product: "products", vendor: "vendors" };
  function dlRow(dl, k, v) { const dt = document.createElement("dt"); dt.textContent = k; const dd = document.createElement("dd"); dd.textContent = v; dl.append(dt, dd); }
  function facts(d, dl) {
    for (const k of COUNTS[d.type] || []) if (d[k] != null && (d[k] || k === "count" || k === "assets")) dlRow(dl, t("cnt_" + k), Number(d[k]).toLocaleString());
    for (const k of ATTRS) if (d[k] != null && d[k] !== "") dlRow(dl, t("attr_" + k), k === "vuln" ? d[k] : String(d[k]));
    if (d.type === "system" && d.cii) dlRow(dl, t("attr_flag"), t("cmd_cii"));
    if (d.kev === true) dlRow(dl, t("attr_flag"), "KEV");
    if (d.cmp) dlRow(dl, t("cmd_cmp"), t("cmp_" + d.cmp));
    if (d.rect_overdue) dlRow(dl, t("cmd_rect_overdue"), String(d.rect_overdue));
    if (d.data_level) dlRow(dl, t("cmd_data_level"), t("data_level_" + d.data_level));
    for (const k of ["missing", "unmanaged", "foreign"]) if (d[k] === true) dlRow(dl, t("attr_flag"), t("flag_" + k));
  }
  // Hover card: name, type, key counts and risk, next to the pointer (hidden while panning/zooming).
  function hover(node) {
    const d = node.data();
    card.replaceChildren();
    const h = document.createElement("div"); h.className = "topo-card-head";
    const b = document.createElement("span"); b.className = "badge"; b.textContent = t("type_" + d.type);
    const s = document.createElement("strong"); s.textContent = d.type === "cluster" ? d.label : d.label;
    h.append(b, " ", s); card.append(h);
    if (d.type === "cluster") {
      const sys = d.system != null && cy.getElementById("system:" + d.system);
      const p = document.createElement("div"); p.className = "muted"; p.textContent = sys && sys.length ? sys.data("label") : t("cmd_no_system"); card.append(p);
    }
    const dl = document.createElement("dl"); dl.className = "kv"; facts(d, dl); card.append(dl);
    const rp = node.renderedPosition(), w = el.clientWidth;
    card.hidden = false;
    card.style.left = Math.min(rp.x + 18, w - card.offsetWidth - 6) + "px";
    card.style.top = Math.max(rp.y - 10, 4) + "px";
  }
  function show(node) {
    const d = node.data();
    edgesOf(d.id);
    const frag = document.getElementById("side-tpl").content.cloneNode(true);
    frag.querySelector('[data-f="type"]').textContent = t("type_" + d.type);
    frag.querySelector('[data-f="label"]').textContent = d.type === "cluster" ? d.caption : d.label;
    const dl = frag.querySelector('[data-f="attrs"]');
    facts(d, dl);
    dlRow(dl, t("attr_degree"), node.degree());
    const link = frag.querySelector('[data-f="link"]');
    if (d.type === "cluster") {
      const q = new URLSearchParams();
      if (d.system != null) q.set("system_id", d.system);
      if (d.zone != null) q.set("zone_id", d.zone);
      link.href = "/entities/assets?" + q;
      link.textContent = t("cmd_list");
    } else link.href = "/entities/" + ENTITY[d.type] + "/" + d.ref;
    const exp = frag.querySelector('[data-act="expand"]');
    exp.textContent = expanded[d.id] ? t("collapse") : d.type === "cluster" ? t("cmd_expand") : t("expand");
    if (view === "overview" && d.type !== "cluster") exp.hidden = true;
    exp.addEventListener("click", () => toggleExpand(node).then(() => show(node)));
    const wi = frag.querySelector('[data-act="whatif"]');
    if (wi && d.type === "cluster") wi.hidden = true;
    else if (wi) wi.addEventListener("click", () => window.ciimapWhatIf.run(node));
    const pf = frag.querySelector('[data-act="path-from"]'), pt = frag.querySelector('[data-act="path-to"]');
    pf.addEventListener("click", () => { pathFrom = d.id; show(node); status.textContent = t("cmd_path_from_set", { n: d.label }); });
    if (pathFrom && pathFrom !== d.id) {
      const from = cy.getElementById(pathFrom);
      pt.textContent = t("cmd_path_to", { n: from.length ? from.data("label") : pathFrom });
      pt.addEventListener("click", () => findPath(pathFrom, d.id));
    } else pt.hidden = true;
    side.replaceChildren(frag);
  }
  function toggleExpand(node) {
    if (node.data("type") === "cluster") return expandCluster(node);
    // the command map shows assets through their clusters (a system's neighbours would be its assets)
    return view === "overview" ? Promise.resolve() : expandNeighbours(node);
  }
  async function expandNeighbours(node) {
    const id = node.id();
    edgesOf(id);
    if (expanded[id]) { cy.remove(cy.collection(expanded[id].map((x) => cy.getElementById(x)))); delete expanded[id]; return; }
    const d = node.data();
    const g = await C.api(`/api/ui/topology/neighbours?type=${d.type}&id=${d.ref}`);
    const fresh = g.nodes.filter((n) => !cy.getElementById(n.id).length);
    const p = node.position(), r = 60 + fresh.length * 3;
    fresh.forEach((n, i) => { const a = (2 * Math.PI * i) / Math.max(fresh.length, 1); n.x = p.x + r * Math.cos(a); n.y = p.y + r * Math.sin(a); });
    const added = cy.add(toElements({ nodes: fresh, edges: g.edges.filter((e) => !cy.getElementById(eid(e)).length) }));
    expanded[id] = added.nodes().map((n) => n.id());
    applyOverlays();
    status.textContent = t("expanded", { n: fresh.length });
  }
  // A cluster opens into its assets (most important first, at most the expand budget), in a grid under it.
  async function expandCluster(node, include, keepOpen) {
    const id = node.id();
    if (expanded[id]) {
      if (keepOpen) return;
      cy.remove(cy.collection(expanded[id].map((x) => cy.getElementById(x))));
      if (moved[id]) cy.batch(() => moved[id].nodes.filter((n) => n.inside()).shift("y", -moved[id].dy));
      delete expanded[id]; delete moved[id]; node.removeClass("open");
      status.textContent = t("cmd_collapsed");
      return;
    }
    const budget = Math.min(Number(params().get("budget")) || CLUSTER_BUDGET, CLUSTER_BUDGET);
    const g = await C.api(`/api/ui/topology/cluster?id=${encodeURIComponent(id)}&budget=${budget}` + (include ? "&include=" + include : ""));
    const fresh = g.nodes.filter((n) => !cy.getElementById(n.id).length);
    // A grid as wide as the system's column under the cluster; what lies below in that column moves down.
    const p = node.position(), half = node.width() / 2, cols = Math.min(4, Math.max(1, fresh.length));
    const rows = Math.ceil(fresh.length / cols), dy = rows * ROW_GAP + 20;
    fresh.forEach((n, i) => { n.x = p.x + ((i % cols) - (cols - 1) / 2) * COL_GAP; n.y = p.y + half + 34 + Math.floor(i / cols) * ROW_GAP; });
    const below = cy.nodes().filter((n) => n !== node && Math.abs(n.position("x") - p.x) < 95 && n.position("y") > p.y + 1);
    cy.batch(() => below.shift("y", dy));
    const added = cy.add(toElements({ nodes: fresh, edges: g.edges.filter((e) => !cy.getElementById(eid(e)).length) }, false, false));
    added.nodes().addClass("member");
    expanded[id] = added.nodes().map((n) => n.id());
    moved[id] = { nodes: below, dy };
    node.addClass("open");
    applyOverlays(); syncLabels();
    status.textContent = t("cmd_expanded", { n: g.nodes.length, total: g.total }) + (g.truncated ? " · " + t("cmd_more", { n: g.total - g.nodes.length }) : "");
    if (!keepOpen) goTo(node.union(added), 1.6);
  }
  // Fit (at most to maxZoom) or centre, computed from the bounding box: exact and cheap.
  function goTo(eles, maxZoom, zoom) {
    const bb = eles.boundingBox({ includeLabels: false }), w = cy.width(), h = cy.height(), pad = 60;
    const z = zoom || Math.min(maxZoom, (w - 2 * pad) / Math.max(bb.w, 1), (h - 2 * pad) / Math.max(bb.h, 1));
    const cx = (bb.x1 + bb.x2) / 2, cy0 = (bb.y1 + bb.y2) / 2;
    cy.stop();
    return new Promise((done) => cy.animate({ zoom: z, pan: { x: w / 2 - z * cx, y: h / 2 - z * cy0 } }, { duration: 250, complete: done }));
  }
  function clearMarks() { if (cy) cy.batch(() => cy.elements(".found, .onpath").removeClass("found onpath")); cy && cy.remove(".pathtmp"); }
  // Search: fly to (centre and highlight) the hit, opening its cluster when the asset is inside one.
  async function flyTo(hit) {
    state.flown = null;
    let n = cy.getElementById(hit.id);
    if (!n.length && hit.cluster && cy.getElementById(hit.cluster).length) {
      await expandCluster(cy.getElementById(hit.cluster), hit.ref, true);
      n = cy.getElementById(hit.id);
    }
    if (!n.length) { status.textContent = t("cmd_not_on_map", { n: hit.label }); return false; }
    clearMarks();
    cy.nodes(":selected").unselect();
    n.addClass("found").select(); show(n);
    state.found = hit.id;
    await goTo(n, 0, Math.max(cy.zoom(), 1.1));
    state.flown = hit.id;
    return true;
  }
  const find = document.getElementById("topo-find"), hits = document.getElementById("topo-hits");
  find.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = new FormData(find).get("find");
    hits.replaceChildren();
    if (!q || !cy) return;
    const res = await C.api("/api/ui/topology/search?q=" + encodeURIComponent(q));
    if (!res.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = t("cmd_no_hits"); hits.append(li); hits.hidden = false; return; }
    for (const h of res) {
      const li = document.createElement("li"), b = document.createElement("button");
      b.type = "button"; b.className = "linkish"; b.textContent = t("type_" + h.type) + " · " + h.label + (h.ip ? " (" + h.ip + ")" : "");
      b.addEventListener("click", () => { flyTo(h); hits.hidden = true; });
      li.append(b); hits.append(li);
    }
    hits.hidden = res.length < 2;
    await flyTo(res[0]);
  });
  // Path between two nodes: the server's breadth-first search; missing assets are brought in by opening
  // their cluster; hops with no drawn edge get a temporary one.
  async function findPath(a, b) {
    const res = await C.api(`/api/ui/topology/path?src=${encodeURIComponent(a)}&dst=${encodeURIComponent(b)}`);
    clearMarks();
    state.path = res;
    if (!res.found) { status.textContent = t("cmd_no_path"); return res; }
    for (const n of res.nodes) {
      if (cy.getElementById(n.id).length) continue;
      if (n.cluster && cy.getElementById(n.cluster).length) await expandCluster(cy.getElementById(n.cluster), n.id.split(":")[1], true);
    }
    const els = [], tmp = [];
    let prev = null;
    for (const n of res.nodes) {
      let node = cy.getElementById(n.id);
      if (!node.length) {
        const pp = prev ? prev.position() : { x: 0, y: 0 };
        node = cy.add({ group: "nodes", classes: "pathtmp", data: { id: n.id, type: n.type, label: n.label, ref: Number(n.id.split(":")[1]) }, position: { x: pp.x + 40, y: pp.y + 40 } });
      }
      if (prev) {
        let e = prev.edgesWith(node);
        if (!e.length) e = cy.add({ group: "edges", classes: "pathtmp", data: { id: prev.id() + ">" + node.id() + ">path", source: prev.id(), target: node.id(), kind: "path" } });
        els.push(e);
      }
      els.push(node); prev = node;
      tmp.push(n.label);
    }
    const col = cy.collection(els.map((x) => x.toArray()).flat());
    col.addClass("onpath");
    status.textContent = t("cmd_path", { n: res.path.length - 1 }) + ": " + tmp.join(" → ");
    await goTo(col, 1.6);
    return res;
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
  document.getElementById("topo-fit").addEventListener("click", () => { window.ciimapWhatIf.clear(); clearMarks(); cy && cy.fit(undefined, 30); });
  load().catch((e) => { el.dataset.state = "error"; status.textContent = e.message; });
})();
