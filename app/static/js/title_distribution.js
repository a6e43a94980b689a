/* 职称系列分布查询: draws the distribution the page carries as JSON (#distribution-data) with ECharts
   (app/static/vendor/echarts): a horizontal stacked bar per title series (most persons on top, one colour
   per level) and a pie of each series' share. Tooltips give counts and shares. No request leaves the site. */
(function () {
  "use strict";
  var source = document.getElementById("distribution-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var rows = data.series, total = data.total || 0, text = data.text;
  if (!rows.length) { return; }

  function share(n) { return total ? (n * 100 / total).toFixed(2) + "%" : "0%"; }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  var barEl = document.getElementById("chart-bar"), pieEl = document.getElementById("chart-pie");
  // one bar row per series: tall enough for 27 readable labels
  barEl.style.height = Math.max(260, rows.length * 26 + 90) + "px";
  pieEl.style.height = "460px";

  var names = rows.map(function (r) { return r.name; });
  var bar = echarts.init(barEl, null, {renderer: "canvas"});
  bar.setOption({
    animation: false,
    title: {text: text.bar_title, left: "center", textStyle: {fontSize: 14}},
    legend: {top: 24, data: data.levels},
    grid: {left: 8, right: 48, top: 56, bottom: 8, containLabel: true},
    tooltip: {
      trigger: "axis", axisPointer: {type: "shadow"},
      formatter: function (items) {
        if (!items.length) { return ""; }
        var row = rows[items[0].dataIndex];
        var lines = ["<b>" + esc(row.name) + "</b>：" + row.total + text.persons + "（" + text.of_total + " " + share(row.total) + "）"];
        items.forEach(function (item) {
          if (item.value) {
            lines.push(item.marker + esc(item.seriesName) + "：" + item.value + text.persons + "（" + text.of_series + " " +
                       (row.total ? (item.value * 100 / row.total).toFixed(1) : "0") + "%）");
          }
        });
        return lines.join("<br>");
      }
    },
    xAxis: {type: "value", name: text.persons_axis, minInterval: 1},
    yAxis: {type: "category", data: names, inverse: true, axisLabel: {interval: 0, fontSize: 12}},
    series: data.levels.map(function (level, i) {
      return {
        name: level, type: "bar", stack: "total", barMaxWidth: 18,
        emphasis: {focus: "series"},
        data: rows.map(function (r) { return r.counts[i]; })
      };
    })
  });

  var pie = echarts.init(pieEl, null, {renderer: "canvas"});
  pie.setOption({
    animation: false,
    title: {text: text.pie_title, left: "center", textStyle: {fontSize: 14}},
    tooltip: {
      trigger: "item",
      formatter: function (item) {
        return item.marker + esc(item.name) + "：" + item.value + text.persons + "（" + text.of_total + " " + item.percent + "%）";
      }
    },
    legend: {type: "scroll", orient: "vertical", right: 0, top: 30, bottom: 10, data: names},
    series: [{
      name: text.series, type: "pie", radius: ["30%", "62%"], center: ["38%", "55%"],
      minShowLabelAngle: 6, avoidLabelOverlap: true,
      label: {formatter: "{b}\n{d}%", fontSize: 11},
      data: rows.map(function (r) { return {name: r.name, value: r.total}; })
    }]
  });

  window.addEventListener("resize", function () { bar.resize(); pie.resize(); });
})();
