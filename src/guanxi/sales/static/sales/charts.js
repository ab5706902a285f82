// Sales reports: the funnel and the forecast, drawn by guanxi/charts.js from json_script data.
(function () {
  "use strict";

  window.Guanxi.charts.register("funnel", function (data) {
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
  });

  window.Guanxi.charts.register("forecast", function (data) {
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
  });
})();
