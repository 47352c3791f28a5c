// The reports page: each chart drawn with ECharts from the numbers the server put in #report-charts,
// the same numbers as the table beside it. An empty chart keeps its axes and says "No incidents".
(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("report-charts").textContent);
  var strings = JSON.parse(document.getElementById("report-strings").textContent);
  var drawn = [];

  function option(spec) {
    var unit = spec.unit ? " " + spec.unit : "";
    var stacked = spec.series.some(function (s) { return s.stack; });
    return {
      animation: false,
      grid: { left: 48, right: 16, top: stacked ? 40 : 24, bottom: 56, containLabel: true },
      legend: stacked || spec.series.length > 1 ? { top: 0, type: "scroll" } : undefined,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + unit; } },
      xAxis: { type: "category", data: spec.x, axisLabel: { interval: 0, rotate: spec.x.length > 6 ? 40 : 0,
                                                            width: 90, overflow: "truncate" } },
      yAxis: { type: "value", minInterval: spec.unit ? 0 : 1, max: spec.unit === "%" ? 100 : null,
               axisLabel: { formatter: "{value}" + (spec.unit === "%" ? "%" : "") } },
      title: spec.empty ? { text: spec.emptyText || strings.noIncidents, left: "center", top: "middle",
                            textStyle: { color: "#6e7781", fontSize: 16, fontWeight: "normal" } } : undefined,
      series: spec.series.map(function (s) {
        var item = { name: s.name, type: "bar", data: s.data, barMaxWidth: 36 };
        if (s.stack) { item.stack = s.stack; }
        if (s.color) { item.itemStyle = { color: s.color }; }
        return item;
      })
    };
  }

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = specs[Number(el.getAttribute("data-chart"))];
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    el.setAttribute("data-drawn", "true");
    drawn.push(chart);
  });
  window.addEventListener("resize", function () { drawn.forEach(function (c) { c.resize(); }); });
})();
