// Site map: a geographic view (ECharts geo with roam: wheel zooms, drag pans) on the approved base map
// when one is uploaded, else on a plain longitude/latitude grid drawn here (never external tiles); sites
// cluster per zoom level (the server's grid ladder), coloured by risk, exposure or incidents/warnings,
// with ECharts' legend; and a logical view: network zones and the links between them.
(function () {
  "use strict";
  const t = (k, v) => window.ciimap.t(k, v);
  const el = document.getElementById("sitemap");
  const lel = document.getElementById("sitemap-logical");
  const status = document.getElementById("sitemap-status");
  const modeSel = document.getElementById("sitemap-mode");
  // worst first: a cluster takes the colour of its worst member
  const COLORS = {
    risk: { P1: "#c8372d", P2: "#e8743b", P3: "#e0b020", P4: "#5b8ff9", none: "#8fa3b8" },
    exposure: { exposed: "#c8372d", internal: "#3a9e5f", none: "#8fa3b8" },
    alert: { incident: "#7a1010", red: "#d9342b", orange: "#f08a24", yellow: "#e0c020", blue: "#3b7ddd", none: "#8fa3b8" },
  };
  const FIELD = { risk: "risk", exposure: "exposure", alert: "alert" };
  const label = (mode, cat) => t("sm_" + mode + "_" + cat);
  let data = null, byId = {}, mode = modeSel ? modeSel.value : "risk", level = -1, chart = null, logical = null;

  function graticule(b, step) {
    // plain lat/long cells around the view (three spans wide), so panning stays on the grid
    const w = b.east - b.west, h = b.north - b.south, feats = [];
    const x0 = Math.floor((b.west - w) / step) * step, y0 = Math.floor((b.south - h) / step) * step;
    for (let x = x0; x < b.east + w; x += step) for (let y = y0; y < b.north + h; y += step) {
      feats.push({ type: "Feature", properties: { name: "" }, geometry: { type: "Polygon",
        coordinates: [[[x, y], [x + step, y], [x + step, y + step], [x, y + step], [x, y]]] } });
    }
    return { type: "FeatureCollection", features: feats };
  }
  function tickLabels(b, step) {
    const out = [], dec = step < 1 ? Math.ceil(-Math.log10(step)) : 0;
    for (let x = Math.ceil(b.west / step) * step; x <= b.east; x += step) out.push({ value: [x, b.south], name: x.toFixed(dec) + "°E" });
    for (let y = Math.ceil(b.south / step) * step; y <= b.north; y += step) out.push({ value: [b.west, y], name: y.toFixed(dec) + "°N" });
    return out;
  }
  function worst(sites) {
    const order = Object.keys(COLORS[mode]);
    let best = order.length - 1;
    for (const s of sites) best = Math.min(best, order.indexOf(s[FIELD[mode]]));
    return order[best];
  }
  function item(c) {
    const sites = c.ids.map((i) => byId[i]);
    const assets = sites.reduce((n, s) => n + s.assets, 0);
    if (sites.length === 1) return { name: sites[0].name, value: [c.lon, c.lat, assets], ids: c.ids, cat: worst(sites) };
    return { name: t("sm_cluster", { n: sites.length }), value: [c.lon, c.lat, assets], ids: c.ids, cat: worst(sites), cluster: true,
      label: { position: "inside", color: "#fff", fontWeight: "bold" }, itemStyle: { borderWidth: 3, borderColor: "rgba(255,255,255,0.8)" } };
  }
  function series() {
    const ladder = data.clusters, items = (ladder[Math.min(level, ladder.length - 1)] || []).map(item);
    el.dataset.items = String(items.length);
    el.dataset.clusters = String(items.filter((i) => i.cluster).length);
    const cats = Object.keys(COLORS[mode]);
    return cats.map((cat) => ({
      id: "cat-" + cat, name: label(mode, cat), type: "scatter", coordinateSystem: "geo", z: 3,
      data: items.filter((i) => i.cat === cat),
      symbolSize: (v, p) => (p.data.cluster ? 22 + Math.min(26, p.data.ids.length * 2) : Math.max(10, Math.min(30, 8 + Math.sqrt(v[2] || 0) * 1.4))),
      itemStyle: { color: COLORS[mode][cat], borderColor: "#fff", borderWidth: 1.5, opacity: 0.92 },
      label: { show: true, position: "right", fontSize: 11, color: "#33475b",
        formatter: (p) => (p.data.cluster ? String(p.data.ids.length) : p.data.name) },
      labelLayout: { hideOverlap: true },
    }));
  }
  function siteLines(s) {
    const f = s.findings, lines = [s.name + (s.city ? " · " + s.city : ""), t("site_assets", { n: s.assets }) +
      (s.missing ? " · " + t("site_missing", { n: s.missing }) : ""),
      t("sm_systems", { n: s.systems }) + (s.system_names.length ? ": " + s.system_names.join("、") + (s.systems > s.system_names.length ? " …" : "") : ""),
      t("sm_findings", { p1: f.P1, p2: f.P2, p3: f.P3, p4: f.P4 }), t("sm_exposed", { n: s.exposed }),
      t("sm_incidents", { n: s.incidents, w: s.warnings })];
    return lines;
  }
  function tip(p) {
    if (!p.data || !p.data.ids) return "";
    const sites = p.data.ids.map((i) => byId[i]);
    if (sites.length === 1) return siteLines(sites[0]).join("\n");
    const sum = (k) => sites.reduce((n, s) => n + s[k], 0);
    return [t("sm_cluster", { n: sites.length }), sites.slice(0, 6).map((s) => s.name).join("、") + (sites.length > 6 ? " …" : ""),
      t("site_assets", { n: sum("assets") }), t("sm_incidents", { n: sum("incidents"), w: sum("warnings") }), t("sm_cluster_click")].join("\n");
  }
  function zoom() { const g = chart.getOption().geo[0]; return g.zoom || 1; }
  function levelFor(z) { return Math.max(0, Math.min(data.clusters.length - 1, Math.round(Math.log2(z)))); }
  function refresh(force) {
    const z = zoom(), g = chart.getOption().geo[0], lv = levelFor(z);
    el.dataset.zoom = z.toFixed(3);
    el.dataset.center = JSON.stringify(g.center || null);
    if (lv === level && !force) return;
    level = lv;
    el.dataset.level = String(lv);
    chart.setOption({ series: series(), legend: { data: Object.keys(COLORS[mode]).map((c) => label(mode, c)) } }, { replaceMerge: ["series"] });
    chart.setOption({ series: [{ id: "ticks", type: "scatter", coordinateSystem: "geo", silent: true, symbolSize: 0, data: ticks,
      label: { show: true, formatter: "{b}", color: "#8a99ab", fontSize: 10, position: "insideBottomLeft" } }] });
  }
  let ticks = [];
  async function draw() {
    data = await window.ciimap.api("/api/sitemap/view");
    byId = Object.fromEntries(data.sites.map((s) => [s.id, s]));
    const b = data.bounds;
    if (!b) { status.textContent = t("sm_no_coords"); return; }
    let mapName = "grid";
    if (data.basemap) {
      const r = await fetch("/api/ui/basemap", { credentials: "same-origin" });
      if (r.ok) { echarts.registerMap("basemap", await r.json()); mapName = "basemap"; }
    }
    if (mapName === "grid") { echarts.registerMap("grid", graticule(b, data.step)); ticks = tickLabels(b, data.step); }
    chart = echarts.init(el);
    const mid = (b.north + b.south) / 2;
    chart.setOption({
      animation: false,
      tooltip: { trigger: "item", renderMode: "richText", formatter: tip },
      legend: { top: 6, left: 10, orient: "horizontal", backgroundColor: "rgba(255,255,255,0.85)" },
      geo: { map: mapName, roam: true, boundingCoords: [[b.west, b.north], [b.east, b.south]],
        aspectScale: Math.cos((mid * Math.PI) / 180), scaleLimit: { min: 0.5, max: 2 ** data.clusters.length * 2 },
        tooltip: { show: false }, emphasis: { disabled: true }, select: { disabled: true }, label: { show: false },
        itemStyle: mapName === "grid" ? { areaColor: "#fbfcfe", borderColor: "#e3e8ef", borderWidth: 0.6 } : { areaColor: "#eef2f6", borderColor: "#aab6c3" } },
      series: [],
    });
    refresh(true);
    chart.on("georoam", () => refresh(false));
    chart.on("click", (p) => {
      if (!p.data || !p.data.ids) return;
      if (!p.data.cluster) { window.location.href = "/entities/sites/" + p.data.ids[0]; return; }
      chart.setOption({ geo: { center: [p.data.value[0], p.data.value[1]], zoom: 2 ** (level + 1) * 1.01 } });
      refresh(false);
    });
    status.textContent = t("sm_status", { n: data.sites.filter((s) => s.lat != null).length, w: b.west, s: b.south, e: b.east, nn: b.north });
    el.dataset.ready = "1";
  }
  if (modeSel) modeSel.addEventListener("change", () => { mode = modeSel.value; if (chart) refresh(true); if (logical) drawLogical(); });
  window.addEventListener("resize", () => { if (chart) chart.resize(); if (logical) logical.resize(); });

  // ---- logical view: zones in columns by kind (outside in), links aggregated per zone pair
  const siteSel = document.getElementById("logical-site");
  async function drawLogical() {
    const url = "/api/sitemap/logical" + (siteSel && siteSel.value ? "?site_id=" + encodeURIComponent(siteSel.value) : "");
    const d = await window.ciimap.api(url);
    const lmode = mode === "alert" ? "risk" : mode;
    const cats = Object.keys(COLORS[lmode]);
    const col = {}, row = {};
    d.kinds.forEach((k, i) => (col[k] = i));
    const nodes = d.zones.map((z) => {
      row[z.kind] = (row[z.kind] || 0) + 1;
      return { id: String(z.id), name: z.name, x: col[z.kind] * 170, y: row[z.kind] * 110, zone: z,
        category: cats.indexOf(z[FIELD[lmode]]), symbolSize: Math.max(14, Math.min(46, 10 + Math.sqrt(z.assets) * 2)),
        symbol: z.internet_facing ? "diamond" : "circle" };
    });
    const max = Math.max(1, ...d.links.map((l) => l.count));
    const names = Object.fromEntries(d.zones.map((z) => [z.id, z.name]));
    const links = d.links.map((l) => ({ source: String(l.source), target: String(l.target), value: l.count, kinds: l.kinds,
      a: names[l.source], b: names[l.target],
      lineStyle: { width: 1 + (5 * Math.log(1 + l.count)) / Math.log(1 + max) } }));
    if (!logical) logical = echarts.init(lel);
    logical.setOption({
      animation: false,
      legend: { top: 6, left: 10, data: cats.map((c) => label(lmode, c)) },
      tooltip: { trigger: "item", renderMode: "richText", formatter: (p) => {
        if (p.dataType === "edge") return t("sm_link", { a: p.data.a, b: p.data.b, n: p.data.value }) + "\n" +
          Object.entries(p.data.kinds).map(([k, n]) => t("sm_kind_" + k) + " " + n).join(" · ");
        const z = p.data.zone;
        return [z.name, t("sm_zone_kind_" + z.kind), t("site_assets", { n: z.assets }),
          t("sm_findings", { p1: z.findings.P1, p2: z.findings.P2, p3: z.findings.P3, p4: z.findings.P4 }),
          t("sm_exposed", { n: z.exposed }), t("sm_internal", { n: z.internal })].join("\n");
      } },
      series: [{ type: "graph", layout: "none", roam: true, draggable: false, data: nodes, links,
        categories: cats.map((c) => ({ name: label(lmode, c), itemStyle: { color: COLORS[lmode][c] } })),
        edgeSymbol: ["none", "arrow"], edgeSymbolSize: 7, lineStyle: { color: "#9aa9ba", opacity: 0.7, curveness: 0.15 },
        label: { show: true, position: "bottom", fontSize: 11, color: "#33475b" }, labelLayout: { hideOverlap: true },
        edgeLabel: { show: true, formatter: (p) => String(p.data.value), fontSize: 10, color: "#66788a" } }],
    }, { replaceMerge: ["series"] });
    lel.dataset.zones = String(nodes.length);
    lel.dataset.links = String(links.length);
  }
  if (siteSel) siteSel.addEventListener("change", drawLogical);

  document.querySelectorAll("[data-sm-tab]").forEach((btn) => btn.addEventListener("click", () => {
    const tab = btn.dataset.smTab;
    document.querySelectorAll("[data-sm-tab]").forEach((b) => b.classList.toggle("active", b === btn));
    document.querySelectorAll("[data-sm-pane]").forEach((p) => (p.hidden = p.dataset.smPane !== tab));
    if (tab === "logical") drawLogical(); else if (chart) chart.resize();
  }));

  draw();
  const form = document.getElementById("basemap-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = document.getElementById("basemap-result");
    try {
      const res = await window.ciimap.api("/api/ui/basemap", { method: "POST", body: new FormData(form) });
      out.className = "alert alert-ok"; out.textContent = t("basemap_ok", { n: res.features });
      setTimeout(() => window.location.reload(), 800);
    } catch (e) { out.className = "alert alert-error"; out.textContent = e.message; }
  });
})();
