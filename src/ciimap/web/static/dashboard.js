// Dashboard charts (ECharts, served locally). Data is embedded in the page by the server.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("dash-data").textContent);
  const t = (k) => window.ciimap.t(k);
  const palette = ["#1d6fb8", "#3f9a8a", "#e8801a", "#6a3fb5", "#c8372d", "#b08a2e", "#7b8a99", "#2f8f4e", "#d4589c", "#4fa3e0"];
  const grid = { left: 40, right: 16, top: 24, bottom: 28, containLabel: true };
  const charts = [];
  function chart(id, option) {
    const el = typeof id === "string" ? document.getElementById(id) : id;
    if (!el) return;
    const c = echarts.init(el, null, { renderer: "canvas" });
    // Tooltips are drawn on the canvas ("richText"): echarts' HTML tooltips carry style attributes the CSP refuses.
    const tooltip = Object.assign({ trigger: "item" }, option.tooltip, { renderMode: "richText" });
    c.setOption(Object.assign({ color: palette, animation: false }, option, { tooltip }));
    charts.push(c);
  }
  // A vocabulary value in the page's language (js.v.* keys), else the value as given (a name, "P1").
  const label = (v) => (t("v." + v) === "v." + v ? String(v) : t("v." + v));
  const bar = (rows, horizontal) => {
    const cats = rows.map((r) => label(r[0]));
    const vals = rows.map((r) => r[1]);
    return horizontal
      ? { grid, tooltip: { trigger: "axis" }, xAxis: { type: "value" }, yAxis: { type: "category", data: cats, inverse: true }, series: [{ type: "bar", data: vals, barMaxWidth: 18 }] }
      : { grid, tooltip: { trigger: "axis" }, xAxis: { type: "category", data: cats }, yAxis: { type: "value" }, series: [{ type: "bar", data: vals, barMaxWidth: 28 }] };
  };
  chart("chart-trend", {
    grid, tooltip: { trigger: "axis" }, legend: { top: 0, right: 0, data: [t("assets_new"), t("unmanaged_new")] },
    xAxis: { type: "category", data: data.assets_first_seen.map((r) => r[0].slice(5)) }, yAxis: { type: "value" },
    series: [
      { name: t("assets_new"), type: "line", smooth: true, areaStyle: { opacity: 0.12 }, data: data.assets_first_seen.map((r) => r[1]) },
      { name: t("unmanaged_new"), type: "line", smooth: true, data: data.unmanaged_first_seen.map((r) => r[1]), color: "#e8801a" },
    ],
  });
  chart("chart-kind", bar(data.assets_by_kind, true));
  chart("chart-zone", { series: [{ type: "pie", radius: ["40%", "70%"], label: { formatter: "{b}: {c}" },
    data: data.assets_by_zone_kind.map((r) => ({ name: label(r[0]), value: r[1] })) }] });
  chart("chart-mlps", bar(data.systems_by_mlps, false));
  document.querySelectorAll(".domain-chart").forEach((el) => {
    const rows = JSON.parse(el.dataset.series);
    chart(el, el.dataset.kind === "pie"
      ? { series: [{ type: "pie", radius: ["40%", "70%"], data: rows.map((r) => ({ name: label(r[0]), value: r[1] })) }] }
      : bar(rows, false));
  });
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  document.body.dataset.charts = String(charts.length);
})();
