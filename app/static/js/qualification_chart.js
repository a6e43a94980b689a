/* 首页: this year's 合格率 of the direct subordinate departments as a bar chart (Apache ECharts, served locally). */
(function () {
  "use strict";
  var el = document.getElementById("qualification-chart");
  if (!el || typeof echarts === "undefined") { return; }
  var names = JSON.parse(el.getAttribute("data-names") || "[]");
  var rates = JSON.parse(el.getAttribute("data-rates") || "[]");
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    grid: { left: 48, right: 16, top: 24, bottom: 64 },
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 4 ? 30 : 0 } },
    yAxis: { type: "value", name: el.getAttribute("data-label") || "", min: 0, max: 100 },
    series: [{ type: "bar", data: rates, barMaxWidth: 36, label: { show: true, position: "top",
      formatter: function (p) { return p.value === null || p.value === undefined ? "" : p.value + "%"; } } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
