// Risk pages: one horizontal bar chart from the JSON the server embeds (ECharts, served locally).
(function () {
  "use strict";
  const el = document.getElementById("risk-chart");
  const src = document.getElementById("risk-chart-data");
  if (!el || !src || typeof echarts === "undefined") return;
  const rows = JSON.parse(src.textContent);
  if (!rows.length) { el.hidden = true; return; }
  const c = echarts.init(el, null, { renderer: "canvas" });
  c.setOption({
    animation: false,
    color: ["#c8372d"],
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", renderMode: "richText" },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: rows.map((r) => r.name) },
    series: [{ type: "bar", barMaxWidth: 16, data: rows.map((r) => r.value) }],
  });
  window.addEventListener("resize", () => c.resize());
})();
