/* 科创积分: draws the firm's radar (three classes, % of each class maximum) and trend, and the desks'
   distribution of scores, from the JSON data block the page carries. The tables next to each
   chart carry the same figures for screen readers and for printing. No inline script anywhere. */
(function () {
  "use strict";

  var BLUE = "#1f5fa8";
  var PALETTE = [BLUE, "#2e9d6a", "#d08a1e"];

  function readData() {
    var node = document.getElementById("score-data");
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return null;
    }
  }

  function chart(id, height) {
    var el = document.getElementById(id);
    if (!el) return null;
    el.style.height = height + "px";
    el.style.width = "100%";
    return echarts.init(el, null, { renderer: "svg" });
  }

  function radar(data) {
    var c = chart("score-radar", 240);
    if (!c || !data.classes) return null;
    c.setOption({
      animation: false,
      radar: {
        indicator: data.classes.map(function (k) { return { name: k.label, max: 100 }; }),
        radius: "62%",
        axisName: { color: "#333", fontSize: 12 }
      },
      tooltip: {},
      series: [{
        type: "radar",
        name: "得分率（%）",
        data: [{ value: data.classes.map(function (k) { return Number(k.percent); }), name: "得分率（%）" }],
        areaStyle: { color: "rgba(31,95,168,0.2)" },
        lineStyle: { color: BLUE },
        itemStyle: { color: BLUE }
      }]
    });
    return c;
  }

  function trend(data) {
    var c = chart("score-trend", 200);
    if (!c || !data.trend) return null;
    c.setOption({
      animation: false,
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.trend.map(function (p) { return p.as_of; }) },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [{
        type: "line",
        name: "总分",
        data: data.trend.map(function (p) { return Number(p.total); }),
        itemStyle: { color: BLUE },
        symbolSize: 8
      }]
    });
    return c;
  }

  function distribution(data) {
    var c = chart("score-distribution", 280);
    if (!c || !data.series) return null;
    c.setOption({
      animation: false,
      grid: { left: 40, right: 16, top: 36, bottom: 48 },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.bands, axisLabel: { interval: 0, rotate: 35, fontSize: 11 } },
      yAxis: { type: "value", name: "企业数", minInterval: 1 },
      series: data.series.map(function (s, i) {
        return { type: "bar", name: s.label, data: s.values, itemStyle: { color: PALETTE[i % PALETTE.length] } };
      })
    });
    return c;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var data = readData();
    if (!data || typeof echarts === "undefined") return;
    var charts = [radar(data), trend(data), distribution(data)].filter(Boolean);
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  });
})();
