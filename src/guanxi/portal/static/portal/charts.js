// Survey results: the monthly trend, drawn by guanxi/charts.js from json_script data.
(function () {
  "use strict";

  // Responses per month as bars (left axis), the month's CSAT % or NPS as a line (right axis).
  window.Guanxi.charts.register("survey-trend", function (data) {
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.months },
      yAxis: [
        { type: "value", minInterval: 1 },
        { type: "value", min: data.range[0], max: data.range[1], splitLine: { show: false } }
      ],
      series: [
        { name: data.names.responses, type: "bar", data: data.responses, barMaxWidth: 32 },
        {
          name: data.names.value,
          type: "line",
          yAxisIndex: 1,
          data: data.values,
          connectNulls: false
        }
      ]
    };
  });
})();
