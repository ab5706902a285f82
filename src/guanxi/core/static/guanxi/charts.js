// Charts drawn with ECharts from json_script data. An element
//   <div class="chart" data-chart="NAME" data-source="ID">
// gets the chart that a domain's script registered as NAME (Guanxi.charts.register(NAME,
// build): build(data) returns the ECharts option), built from the JSON in the element whose
// id is ID. Include this file after ECharts and before the scripts that register charts.
// No inline scripts or styles (the Content-Security-Policy forbids them); a data-height is
// applied through the CSSOM, which it allows.
(function () {
  "use strict";

  var builders = {};
  var drawn = [];

  function readData(id) {
    var element = id ? document.getElementById(id) : null;
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (ignored) {
      return null;
    }
  }

  function draw(root) {
    if (!window.echarts || !root.querySelectorAll) return;
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      if (element.getAttribute("data-drawn")) return;
      var build = builders[element.getAttribute("data-chart")];
      var data = readData(element.getAttribute("data-source"));
      if (!build || !data) return;
      if (element.getAttribute("data-height")) {
        element.style.height = element.getAttribute("data-height");
      }
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(build(data));
      element.setAttribute("data-drawn", "1");
      drawn.push(chart);
    });
  }

  window.Guanxi = window.Guanxi || {};
  window.Guanxi.charts = {
    register: function (name, build) { builders[name] = build; }
  };

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  // htmx swapped new content in (a page polling itself, a panel loaded later).
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
  window.addEventListener("resize", function () {
    drawn.forEach(function (chart) { chart.resize(); });
  });
})();
