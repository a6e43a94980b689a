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

  // the pie stays readable with 27 series: the largest ones as slices, the rest as one "other" slice
  // (every series keeps its own bar and table row); the tooltip names what "other" holds
  var TOP = 9, slices = rows.slice(0, TOP), rest = rows.slice(TOP);
  var pieData = slices.map(function (r) { return {name: r.name, value: r.total}; });
  if (rest.length === 1) {
    pieData.push({name: rest[0].name, value: rest[0].total});
  } else if (rest.length > 1) {
    pieData.push({name: text.others, value: rest.reduce(function (n, r) { return n + r.total; }, 0),
                  members: rest.map(function (r) { return r.name + " " + r.total; })});
  }
  var pie = echarts.init(pieEl, null, {renderer: "canvas"});
  pie.setOption({
    animation: false,
    color: ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4",
            "#ea7ccc", "#8c8c8c"],
    title: {text: text.pie_title, left: "center", textStyle: {fontSize: 14}},
    tooltip: {
      trigger: "item", confine: true,
      formatter: function (item) {
        var line = item.marker + esc(item.name) + "：" + item.value + text.persons + "（" + text.of_total + " " +
                   item.percent + "%）";
        var members = item.data && item.data.members;
        return members ? line + "<br><small>" + members.map(esc).join("、") + "</small>" : line;
      }
    },
    legend: {type: "scroll", orient: "horizontal", bottom: 0, left: "center",
             data: pieData.map(function (d) { return d.name; })},
    series: [{
      name: text.series, type: "pie", radius: ["28%", "55%"], center: ["50%", "50%"],
      minShowLabelAngle: 4, avoidLabelOverlap: true,
      label: {formatter: "{b}\n{d}%", fontSize: 11},
      labelLine: {length: 10, length2: 8},
      data: pieData
    }]
  });

  window.addEventListener("resize", function () { bar.resize(); pie.resize(); });
})();
