// Site map: sites by longitude/latitude on a plain plane, or on an admin-uploaded approved GeoJSON map.
(function () {
  "use strict";
  const sites = JSON.parse(document.getElementById("site-data").textContent).filter((s) => s.lat != null && s.lon != null);
  const el = document.getElementById("sitemap");
  const chart = echarts.init(el);
  const t = (k, v) => window.ciimap.t(k, v);
  const point = (s) => ({ name: s.name, value: [s.lon, s.lat, s.assets], id: s.id, missing: s.missing, city: s.city });
  const size = (v) => Math.max(8, Math.min(36, 6 + Math.sqrt(v[2] || 0) * 1.6));
  // Plain-text tooltip drawn on the canvas ("richText"): HTML tooltips carry style attributes the CSP refuses,
  // and a site name is never parsed as HTML.
  const tooltip = { trigger: "item", renderMode: "richText", formatter: (p) => [p.data.name, p.data.city || "",
    t("site_assets", { n: p.data.value[2] }), p.data.missing ? t("site_missing", { n: p.data.missing }) : ""].filter(Boolean).join("\n") };
  const series = (coord) => [{
    type: "scatter", coordinateSystem: coord, data: sites.map(point), symbolSize: size,
    itemStyle: { color: (p) => (p.data.missing ? "#c8372d" : "#1d6fb8"), opacity: 0.85, borderColor: "#fff" },
    label: { show: sites.length <= 60, formatter: "{b}", position: "right", fontSize: 11, color: "#33475b" },
  }];
  function plain() {
    const lons = sites.map((s) => s.lon), lats = sites.map((s) => s.lat);
    const pad = 1;
    chart.setOption({ animation: false, tooltip, grid: { left: 40, right: 30, top: 20, bottom: 30 },
      xAxis: { type: "value", min: Math.floor(Math.min(...lons, 180) - pad), max: Math.ceil(Math.max(...lons, -180) + pad), name: "E", splitLine: { lineStyle: { color: "#eef1f5" } } },
      yAxis: { type: "value", min: Math.floor(Math.min(...lats, 90) - pad), max: Math.ceil(Math.max(...lats, -90) + pad), name: "N", splitLine: { lineStyle: { color: "#eef1f5" } } },
      series: series("cartesian2d") });
  }
  async function withBasemap() {
    const r = await fetch("/api/ui/basemap", { credentials: "same-origin" });
    if (!r.ok) return plain();
    echarts.registerMap("basemap", await r.json());
    chart.setOption({ animation: false, tooltip, geo: { map: "basemap", roam: true, itemStyle: { areaColor: "#eef2f6", borderColor: "#aab6c3" }, emphasis: { disabled: true } }, series: series("geo") });
  }
  if (el.dataset.basemap) withBasemap(); else plain();
  chart.on("click", (p) => { if (p.data && p.data.id) window.location.href = "/entities/sites/" + p.data.id; });
  window.addEventListener("resize", () => chart.resize());
  el.dataset.points = String(sites.length);
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
