// Grading pages: the reports' charts (drawn by guanxi/charts.js) and progress bars sized from
// data-progress. No inline scripts or styles (the Content-Security-Policy forbids them);
// sizes set here through the CSSOM are allowed.
(function () {
  "use strict";

  // Customers per tier after each evaluation: one stacked bar per evaluation.
  window.Guanxi.charts.register("stacked", function (data) {
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
  });

  // Shares per tier side by side: customers, revenue, margin, interactions.
  window.Guanxi.charts.register("grouped", function (data) {
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
  });

  function sizeProgressBars(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("[data-progress]").forEach(function (bar) {
      var value = parseInt(bar.getAttribute("data-progress"), 10);
      if (isNaN(value)) value = 0;
      bar.style.width = Math.max(0, Math.min(100, value)) + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { sizeProgressBars(document); });
  // htmx swapped new content in (the run page polling itself).
  document.addEventListener("htmx:load", function (event) { sizeProgressBars(event.target); });
})();
