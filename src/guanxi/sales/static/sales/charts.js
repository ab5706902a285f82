// Sales reports: the funnel and the forecast drawn with ECharts from json_script data.
// No inline scripts or styles (the Content-Security-Policy forbids them).
(function () {
  "use strict";

  function readData(id) {
    var element = document.getElementById(id);
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (ignored) {
      return null;
    }
  }

  function funnel(data) {
    return {
      tooltip: { trigger: "item" },
      series: [{
        type: "funnel",
        sort: "none",
        left: "10%",
        width: "80%",
        label: { show: true, position: "inside", formatter: "{b}: {c}" },
        data: data.funnel.labels.map(function (label, index) {
          return { name: label, value: data.funnel.values[index] };
        })
      }]
    };
  }

  function forecast(data) {
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 64, right: 16, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.forecast.periods },
      yAxis: { type: "value" },
      series: data.forecast.series.map(function (serie) {
        return { name: serie.name, type: "bar", data: serie.data, barMaxWidth: 32 };
      })
    };
  }

  var builders = { funnel: funnel, forecast: forecast };
  var charts = [];

  function draw() {
    if (!window.echarts) return;
    var data = readData("sales-chart-data");
    if (!data) return;
    document.querySelectorAll("[data-sales-chart]").forEach(function (element) {
      var build = builders[element.getAttribute("data-sales-chart")];
      if (!build) return;
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(build(data));
      charts.push(chart);
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
