/* 信息直通车: draws the ECharts charts from the JSON data block the page (or an htmx refresh)
   carries, and redraws them after each in-place refresh. No inline script anywhere. */
(function () {
  "use strict";

  var charts = [];
  window.kejinDashboard = window.kejinDashboard || { loadedAt: Date.now(), renders: 0 };

  function readData() {
    var node = document.getElementById("dashboard-data");
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return null;
    }
  }

  function toNumber(value, money) {
    var n = Number(value);
    if (!isFinite(n)) return 0;
    return money ? Math.round(n / 100) / 100 : n; // yuan → 万元 with 2 decimals
  }

  function optionFor(chart) {
    var labels = chart.points.map(function (p) { return p.label; });
    var values = chart.points.map(function (p) { return toNumber(p.value, chart.money); });
    var isMonth = chart.group_by === "month";
    return {
      animation: false,
      grid: { left: 48, right: 16, top: 16, bottom: isMonth ? 32 : 64 },
      tooltip: { trigger: "axis" },
      xAxis: {
        type: "category",
        data: labels,
        axisLabel: { interval: 0, rotate: isMonth || labels.length <= 6 ? 0 : 35, fontSize: 11 }
      },
      yAxis: { type: "value", name: chart.money ? "万元" : "" },
      series: [{
        name: chart.label,
        type: isMonth ? "line" : "bar",
        data: values,
        itemStyle: { color: "#1f5fa8" },
        smooth: isMonth
      }]
    };
  }

  function render() {
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
    var data = readData();
    if (!data || typeof echarts === "undefined") return;
    data.charts.forEach(function (chart) {
      var el = document.querySelector('[data-chart="' + chart.group_by + '"]');
      if (!el) return;
      el.style.height = "260px";
      el.style.width = "100%";
      var instance = echarts.init(el, null, { renderer: "svg" });
      instance.setOption(optionFor(chart));
      charts.push(instance);
    });
    window.kejinDashboard.renders += 1;
  }

  function toggleCustomDates() {
    var period = document.getElementById("id_period");
    if (!period) return;
    var custom = period.value === "custom";
    ["id_date_from", "id_date_to"].forEach(function (id) {
      var input = document.getElementById(id);
      if (input) input.closest("div").classList.toggle("d-none", !custom);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    render();
    toggleCustomDates();
    var period = document.getElementById("id_period");
    if (period) period.addEventListener("change", toggleCustomDates);
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "dashboard-body") render();
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
