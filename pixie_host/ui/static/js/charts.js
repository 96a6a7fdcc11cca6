// The 13 chart types, all drawn with ECharts on a canvas. Tooltips use ECharts' rich-text mode
// (drawn on the canvas too), so no label from a tool is ever parsed as HTML.

import { cssVar, h, onTheme, theme } from "./dom.js";
import { isObject, presentation } from "./shapes.js";
import { need } from "./vendor.js";

/** Height of a chart, in CSS pixels (heatmaps grow with their rows). */
const CHART_HEIGHT = 320;
/** Symbols are drawn on line charts up to this many points; past it the line alone reads better. */
const SYMBOL_LIMIT = 60;

const arr = (v) => (Array.isArray(v) ? v : []);
const str = (v) => (v === null || v === undefined ? "" : String(v));

function axisName(name, where) {
  if (!name) return {};
  // The y name sits above the axis, so it never collides with wide tick labels.
  return where === "x" ? { name: String(name), nameLocation: "middle", nameGap: 28 } : { name: String(name), nameLocation: "end", nameGap: 12, nameTextStyle: { align: "left" } };
}

function base(pres) {
  return {
    backgroundColor: "transparent",
    animationDuration: 300,
    textStyle: { fontFamily: cssVar("--font") || "system-ui, sans-serif" },
    tooltip: { renderMode: "richText", confine: true },
    grid: { left: 16, right: 24, top: 40, bottom: pres.x_label ? 40 : 24, containLabel: true },
  };
}

function xyOption(type, value, pres) {
  const xs = arr(value.x);
  const series = arr(value.series).filter(isObject);
  const numericX = type !== "chart_bar" && xs.length > 0 && xs.every((x) => typeof x === "number");
  const xAxis = numericX
    ? { type: pres.log_x ? "log" : "value", scale: true, minInterval: xs.every(Number.isInteger) ? 1 : undefined, ...axisName(pres.x_label, "x") }
    : { type: "category", data: xs.map(str), boundaryGap: type === "chart_bar", ...axisName(pres.x_label, "x") };
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", confine: true, trigger: "axis" },
    legend: series.length > 1 ? { top: 0, type: "scroll" } : undefined,
    xAxis,
    yAxis: { type: pres.log_y ? "log" : "value", scale: type !== "chart_bar", ...axisName(pres.y_label, "y") },
    series: series.map((s) => {
      const ys = arr(s.y);
      const data = numericX ? xs.map((x, i) => [x, ys[i] ?? null]) : ys;
      return {
        type: type === "chart_bar" ? "bar" : "line",
        name: str(s.name),
        data,
        showSymbol: xs.length <= SYMBOL_LIMIT,
        areaStyle: type === "chart_area" ? { opacity: 0.25 } : undefined,
        connectNulls: false,
      };
    }),
  };
}

function scatterOption(value, pres) {
  const series = arr(value.series).filter(isObject);
  const all = series.flatMap((s) => arr(s.points).filter(isObject));
  const numericX = all.every((p) => typeof p.x === "number");
  const categories = numericX ? null : [...new Set(all.map((p) => str(p.x)))];
  return {
    ...base(pres),
    legend: series.length > 1 ? { top: 0, type: "scroll" } : undefined,
    xAxis: numericX ? { type: pres.log_x ? "log" : "value", scale: true, ...axisName(pres.x_label, "x") } : { type: "category", data: categories, ...axisName(pres.x_label, "x") },
    yAxis: { type: pres.log_y ? "log" : "value", scale: true, ...axisName(pres.y_label, "y") },
    series: series.map((s) => ({
      type: "scatter",
      name: str(s.name),
      data: arr(s.points).filter(isObject).map((p) => ({
        value: [numericX ? p.x : str(p.x), p.y],
        name: p.label !== undefined ? str(p.label) : undefined,
        symbolSize: typeof p.size === "number" ? Math.max(4, Math.min(48, Math.sqrt(Math.abs(p.size)) * 4)) : 12,
        itemStyle: typeof p.colour === "string" ? { color: p.colour } : undefined,
      })),
      label: { show: arr(s.points).length <= 20, formatter: (d) => d.name || "", position: "top" },
    })),
  };
}

function pieOption(value, pres) {
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", trigger: "item" },
    legend: { type: "scroll", bottom: 0 },
    series: [{
      type: "pie",
      radius: value.donut ? ["42%", "68%"] : "68%",
      center: ["50%", "46%"],
      data: arr(value.slices).filter(isObject).map((s) => ({ name: str(s.label), value: s.value })),
      label: { formatter: "{b}: {d}%" },
    }],
  };
}

/** Bin edges: a list as given, or `bins` equal-width bins (Sturges' rule when not given). */
export function histogramBins(values, bins) {
  const nums = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (!nums.length) return { edges: [], counts: [] };
  let edges;
  if (Array.isArray(bins) && bins.length >= 2) edges = bins;
  else {
    const n = Number.isInteger(bins) && bins > 0 ? bins : Math.max(1, Math.ceil(Math.log2(nums.length) + 1));
    let lo = Math.min(...nums);
    let hi = Math.max(...nums);
    if (lo === hi) {
      lo -= 0.5;
      hi += 0.5;
    }
    edges = Array.from({ length: n + 1 }, (_v, i) => lo + ((hi - lo) * i) / n);
  }
  const counts = new Array(edges.length - 1).fill(0);
  for (const v of nums) {
    for (let i = 0; i < counts.length; i += 1) {
      const last = i === counts.length - 1;
      if (v >= edges[i] && (v < edges[i + 1] || (last && v <= edges[i + 1]))) {
        counts[i] += 1;
        break;
      }
    }
  }
  return { edges, counts };
}

const short = (n) => (Math.abs(n) >= 1000 || Number.isInteger(n) ? String(Math.round(n * 100) / 100) : n.toPrecision(3));

function histogramOption(value, pres) {
  const { edges, counts } = histogramBins(arr(value.values), value.bins);
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", trigger: "axis" },
    xAxis: { type: "category", data: counts.map((_c, i) => `${short(edges[i])}–${short(edges[i + 1])}`), ...axisName(pres.x_label, "x") },
    yAxis: { type: "value", minInterval: 1, ...axisName(pres.y_label || "count", "y") },
    series: [{ type: "bar", name: "count", data: counts, barCategoryGap: "2%" }],
  };
}

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** [min, Q1, median, Q3, max] with linear interpolation (numpy's default). */
export function fiveNumbers(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  return [sorted[0], quantile(sorted, 0.25), quantile(sorted, 0.5), quantile(sorted, 0.75), sorted[sorted.length - 1]];
}

function boxplotOption(value, pres) {
  const series = arr(value.series).filter(isObject);
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", trigger: "item" },
    xAxis: { type: "category", data: series.map((s) => str(s.name)), ...axisName(pres.x_label, "x") },
    yAxis: { type: "value", scale: true, ...axisName(pres.y_label, "y") },
    series: [{ type: "boxplot", data: series.map((s) => fiveNumbers(arr(s.values)) || [0, 0, 0, 0, 0]) }],
  };
}

function heatmapOption(value, pres) {
  const z = arr(value.z).map(arr);
  const width = z.reduce((m, r) => Math.max(m, r.length), 0);
  const xl = arr(value.x_labels).length ? arr(value.x_labels).map(str) : Array.from({ length: width }, (_v, i) => String(i));
  const yl = arr(value.y_labels).length ? arr(value.y_labels).map(str) : z.map((_r, i) => String(i));
  const data = [];
  z.forEach((row, yi) => row.forEach((v, xi) => typeof v === "number" && data.push([xi, yi, v])));
  const nums = data.map((d) => d[2]);
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", trigger: "item" },
    grid: { left: 16, right: 24, top: 16, bottom: 64, containLabel: true },
    xAxis: { type: "category", data: xl, splitArea: { show: true } },
    yAxis: { type: "category", data: yl, splitArea: { show: true } },
    visualMap: { min: nums.length ? Math.min(...nums) : 0, max: nums.length ? Math.max(...nums) : 1, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
    series: [{ type: "heatmap", data, label: { show: data.length <= 100 } }],
  };
}

function candlestickOption(value, pres) {
  const points = arr(value.points).filter(isObject);
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", trigger: "axis" },
    xAxis: { type: "category", data: points.map((p) => str(p.t)), ...axisName(pres.x_label, "x") },
    yAxis: { type: "value", scale: true, ...axisName(pres.y_label, "y") },
    series: [{ type: "candlestick", data: points.map((p) => [p.open, p.close, p.low, p.high]) }],
  };
}

function radarOption(value, pres) {
  const axes = arr(value.axes).map(str);
  const series = arr(value.series).filter(isObject);
  const all = series.flatMap((s) => arr(s.values)).filter((v) => typeof v === "number");
  const max = all.length ? Math.max(...all) : 1;
  const min = all.length ? Math.min(0, ...all) : 0;
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", trigger: "item" },
    legend: { type: "scroll", bottom: 0 },
    radar: { indicator: axes.map((name) => ({ name, max: max * 1.1 || 1, min })), radius: "62%", center: ["50%", "48%"] },
    series: [{ type: "radar", data: series.map((s) => ({ name: str(s.name), value: arr(s.values) })), areaStyle: { opacity: 0.15 } }],
  };
}

function sankeyOption(value, pres) {
  const nodes = arr(value.nodes).filter(isObject);
  const labels = new Map(nodes.map((n) => [String(n.id), n.label !== undefined && n.label !== null ? str(n.label) : String(n.id)]));
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", trigger: "item" },
    series: [{
      type: "sankey",
      left: 8,
      right: 96,
      emphasis: { focus: "adjacency" },
      data: nodes.map((n) => ({ name: String(n.id) })),
      links: arr(value.links).filter(isObject).map((l) => ({ source: String(l.source), target: String(l.target), value: l.value })),
      label: { formatter: (p) => labels.get(p.name) ?? p.name },
    }],
  };
}

function treemapOption(value, pres) {
  const nodes = arr(value.nodes).filter(isObject);
  const byId = new Map(nodes.map((n) => [String(n.id), { name: n.label !== undefined && n.label !== null ? str(n.label) : String(n.id), value: n.value, children: [] }]));
  const roots = [];
  for (const n of nodes) {
    const item = byId.get(String(n.id));
    const parent = n.parent === null || n.parent === undefined || n.parent === "" ? null : byId.get(String(n.parent));
    if (parent) parent.children.push(item);
    else roots.push(item);
  }
  for (const item of byId.values()) if (!item.children.length) delete item.children;
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", trigger: "item" },
    series: [{ type: "treemap", data: roots, roam: false, breadcrumb: { show: true }, label: { show: true }, upperLabel: { show: true, height: 22 } }],
  };
}

function networkOption(value, pres) {
  const nodes = arr(value.nodes).filter(isObject);
  return {
    ...base(pres),
    tooltip: { renderMode: "richText", trigger: "item" },
    series: [{
      type: "graph",
      layout: "force",
      roam: true,
      draggable: true,
      force: { repulsion: 160, edgeLength: 90 },
      label: { show: true, position: "right" },
      symbolSize: 18,
      data: nodes.map((n) => ({ id: String(n.id), name: n.label !== undefined && n.label !== null ? str(n.label) : String(n.id) })),
      edges: arr(value.edges).filter(isObject).map((e) => ({ source: String(e.source), target: String(e.target) })),
      lineStyle: { opacity: 0.7, width: 1.5 },
    }],
  };
}

const BUILDERS = {
  chart_line: (v, p) => xyOption("chart_line", v, p),
  chart_area: (v, p) => xyOption("chart_area", v, p),
  chart_bar: (v, p) => xyOption("chart_bar", v, p),
  chart_scatter: scatterOption,
  chart_pie: pieOption,
  chart_histogram: histogramOption,
  chart_boxplot: boxplotOption,
  chart_heatmap: heatmapOption,
  chart_candlestick: candlestickOption,
  chart_radar: radarOption,
  chart_sankey: sankeyOption,
  chart_treemap: treemapOption,
  chart_network: networkOption,
};

/** The ECharts option of a chart output (exported for tests in the browser). */
export function chartOption(spec, value) {
  const v = isObject(value) ? value : {};
  return BUILDERS[spec.type](v, presentation(spec, v));
}

/** Draw a chart output; the chart appears once its box has a size, and follows resizes and the theme. */
export function render(spec, value, rctx) {
  const height = spec.type === "chart_heatmap" && isObject(value) ? Math.max(CHART_HEIGHT, arr(value.z).length * 28 + 100) : CHART_HEIGHT;
  const el = h("div", { class: "chart", style: { height: `${height}px` }, role: "img", "aria-label": `${spec.label} (${spec.type.replace("chart_", "")} chart)` });
  let chart = null;
  let latest = value;
  const draw = () => {
    if (!chart) return;
    try {
      chart.setOption(chartOption(spec, latest), { notMerge: true });
      el.dataset.drawn = "true";
    } catch (err) {
      el.dataset.drawn = "error";
      el.title = `Could not draw: ${err.message}`;
    }
  };
  const init = () => {
    chart = window.echarts.init(el, theme() === "dark" ? "dark" : null, { renderer: "canvas" });
    draw();
  };
  const ready = need("echarts");
  const observer = new ResizeObserver(() => {
    if (!el.clientWidth) return;
    if (chart) chart.resize();
    else ready.then(() => !chart && el.isConnected && init());
  });
  observer.observe(el);
  const stopTheme = onTheme(() => {
    if (!chart) return;
    chart.dispose();
    init();
  });
  rctx.onDispose(() => {
    observer.disconnect();
    stopTheme();
    if (chart) chart.dispose();
  });
  return {
    el,
    update: (v) => {
      latest = v;
      draw();
    },
  };
}
