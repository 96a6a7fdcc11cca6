// The vendored libraries, loaded on first use (static/vendor/<lib>/, fixed versions: see vendor.json).

import { url } from "./dom.js";

const BASE = "/ui-static/vendor/";
const LIBS = {
  echarts: { js: ["echarts/echarts.min.js"], global: "echarts" },
  leaflet: { css: ["leaflet/leaflet.css"], js: ["leaflet/leaflet.js"], global: "L" },
  heat: { needs: ["leaflet"], js: ["leaflet-heat/leaflet-heat.js"], check: () => window.L && window.L.heatLayer },
  topojson: { js: ["topojson-client/topojson-client.min.js"], global: "topojson" },
  katex: { css: ["katex/katex.min.css"], js: ["katex/katex.min.js"], global: "katex" },
  hljs: { js: ["highlight/highlight.min.js"], global: "hljs" },
  marked: { js: ["marked/marked.min.js"], global: "marked" },
  purify: { js: ["dompurify/purify.min.js"], global: "DOMPurify" },
  diff: { js: ["diff/diff.min.js"], global: "Diff" },
};
const loading = new Map();

function script(src) {
  return new Promise((resolve, reject) => {
    const el = document.createElement("script");
    el.src = src;
    el.async = false;
    el.onload = () => resolve();
    el.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(el);
  });
}

function style(href) {
  return new Promise((resolve) => {
    const el = document.createElement("link");
    el.rel = "stylesheet";
    el.href = href;
    el.onload = () => resolve();
    el.onerror = () => resolve();
    document.head.appendChild(el);
  });
}

async function loadOne(name) {
  const lib = LIBS[name];
  if (!lib) throw new Error(`unknown library ${name}`);
  for (const dep of lib.needs || []) await load(dep);
  const ready = lib.check ? lib.check() : window[lib.global];
  if (ready) return;
  await Promise.all((lib.css || []).map((path) => style(url(BASE + path))));
  for (const path of lib.js || []) await script(url(BASE + path));
}

function load(name) {
  if (!loading.has(name)) loading.set(name, loadOne(name));
  return loading.get(name);
}

/** Load the named libraries (once each); resolves when their globals exist. */
export async function need(...names) {
  await Promise.all(names.map(load));
}

/** World outline as GeoJSON (country polygons), fetched once from the vendored world-atlas. */
let world = null;
export function worldOutline() {
  if (!world) {
    world = (async () => {
      await need("topojson");
      const response = await fetch(url(BASE + "world-atlas/countries-110m.json"));
      const topo = await response.json();
      return window.topojson.feature(topo, topo.objects.countries);
    })().catch(() => null);
  }
  return world;
}
