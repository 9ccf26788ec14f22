// Dashboard posture cards: a 30-day sparkline per card (ECharts, served locally). The series are in
// each card's data-series attribute ([ISO day, count] pairs), rendered by the server.
(function () {
  "use strict";
  const charts = [];
  function spark(el) {
    const rows = JSON.parse(el.dataset.series);
    const c = echarts.init(el, null, { renderer: "canvas" });
    c.setOption({
      animation: false,
      grid: { left: 2, right: 2, top: 4, bottom: 2 },
      xAxis: { type: "category", show: false, boundaryGap: false, data: rows.map((r) => r[0]) },
      yAxis: { type: "value", show: false, min: 0 },
      // tooltips drawn on the canvas: echarts' HTML tooltips carry style attributes the CSP refuses
      tooltip: { trigger: "axis", renderMode: "richText", formatter: (ps) => ps[0].name.slice(5) + "  " + ps[0].value },
      series: [{ type: "line", data: rows.map((r) => r[1]), symbol: "none", lineStyle: { width: 1.5 }, areaStyle: { opacity: 0.15 } }],
      color: [el.closest(".bad") ? "#c8372d" : el.closest(".warn") ? "#e8801a" : "#1d6fb8"],
    });
    charts.push(c);
  }
  function init() {
    if (typeof echarts === "undefined") return;
    document.querySelectorAll("#posture .spark").forEach(spark);
    window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
    document.getElementById("posture").dataset.sparks = String(charts.length);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
