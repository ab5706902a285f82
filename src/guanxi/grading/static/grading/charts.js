// Grading pages: ECharts charts drawn from json_script data, and progress bars sized from
// data-progress. No inline scripts or styles (the Content-Security-Policy forbids them);
// sizes set here through the CSSOM are allowed.
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

  // Customers per tier after each evaluation: one stacked bar per evaluation.
  function stacked(data) {
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { type: "scroll", top: 0 },
      grid: { left: 48, right: 16, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (serie) {
        return {
          name: serie.name,
          type: "bar",
          stack: "tiers",
          data: serie.data,
          itemStyle: serie.color ? { color: serie.color } : undefined,
          emphasis: { focus: "series" },
          barMaxWidth: 48
        };
      })
    };
  }

  // Shares per tier side by side: customers, revenue, margin, interactions.
  function grouped(data) {
    var unit = data.unit || "";
    return {
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: function (value) { return value + unit; }
      },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.tiers },
      yAxis: { type: "value", axisLabel: { formatter: "{value}" + unit } },
      series: data.series.map(function (serie) {
        return {
          name: serie.name,
          type: "bar",
          data: serie.data,
          itemStyle: serie.color ? { color: serie.color } : undefined,
          barMaxWidth: 32
        };
      })
    };
  }

  var builders = { stacked: stacked, grouped: grouped };
  var charts = [];

  function drawCharts(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      if (element.getAttribute("data-drawn")) return;
      var build = builders[element.getAttribute("data-chart")];
      var data = readData(element.getAttribute("data-source"));
      if (!build || !data) return;
      element.style.height = element.getAttribute("data-height") || "320px";
      element.style.width = "100%";
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(build(data));
      element.setAttribute("data-drawn", "1");
      charts.push(chart);
    });
  }

  function sizeProgressBars(root) {
    root.querySelectorAll("[data-progress]").forEach(function (bar) {
      var value = parseInt(bar.getAttribute("data-progress"), 10);
      if (isNaN(value)) value = 0;
      bar.style.width = Math.max(0, Math.min(100, value)) + "%";
    });
  }

  function prepare(root) {
    sizeProgressBars(root);
    drawCharts(root);
  }

  document.addEventListener("DOMContentLoaded", function () { prepare(document); });
  // htmx swapped new content in (the run page polling itself).
  document.addEventListener("htmx:load", function (event) { prepare(event.target); });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
