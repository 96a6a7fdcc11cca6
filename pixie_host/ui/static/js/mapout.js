// The 5 map output types on the offline base map. Tooltips and the legend are DOM nodes built
// with text, never HTML strings (Leaflet would parse a string as HTML).

import { createBaseMap } from "./basemap.js";
import { cssVar, h } from "./dom.js";
import { isObject, presentation } from "./shapes.js";
import { need } from "./vendor.js";

/** Zoom used when a map has one point, or a default_center but no default_zoom. */
const SINGLE_ZOOM = 12;
/** Choropleth colour ramp ends (light to dark), in the accent's hue. */
const RAMP = [
  [219, 234, 254],
  [30, 64, 175],
];

const arr = (v) => (Array.isArray(v) ? v : []);
const text = (value) => h("span", {}, String(value));
const validPoint = (p) => isObject(p) && typeof p.lat === "number" && typeof p.lng === "number";

function ramp(t) {
  const c = RAMP[0].map((a, i) => Math.round(a + (RAMP[1][i] - a) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

function featureId(feature) {
  if (feature.id !== undefined && feature.id !== null) return String(feature.id);
  const p = feature.properties || {};
  for (const key of ["id", "ID", "name", "NAME"]) if (p[key] !== undefined && p[key] !== null) return String(p[key]);
  return null;
}

function draw(type, value, map, layer) {
  const L = window.L;
  const accent = cssVar("--accent");
  const bounds = [];
  if (type === "map_points" || type === "map_route") {
    const points = arr(value.points).filter(validPoint);
    if (type === "map_route" && points.length > 1) L.polyline(points.map((p) => [p.lat, p.lng]), { color: accent, weight: 4, opacity: 0.85 }).addTo(layer);
    points.forEach((p, i) => {
      const end = type === "map_route" && (i === 0 || i === points.length - 1);
      const radius = typeof p.weight === "number" ? Math.max(4, Math.min(20, 4 + Math.sqrt(Math.abs(p.weight)) * 2)) : end ? 8 : 6;
      const marker = L.circleMarker([p.lat, p.lng], { radius, color: "#fff", weight: 2, fillColor: end && i === 0 ? "#16a34a" : accent, fillOpacity: 0.95 });
      const label = p.label !== undefined && p.label !== null ? p.label : type === "map_route" ? `Stop ${i + 1}` : null;
      if (label !== null) marker.bindTooltip(text(label));
      marker.addTo(layer);
      bounds.push([p.lat, p.lng]);
    });
  } else if (type === "map_heatmap") {
    const points = arr(value.points).filter(validPoint);
    const max = Math.max(1, ...points.map((p) => (typeof p.weight === "number" ? p.weight : 1)));
    L.heatLayer(points.map((p) => [p.lat, p.lng, typeof p.weight === "number" ? p.weight : 1]), { radius: 28, blur: 18, max, minOpacity: 0.35 }).addTo(layer);
    points.forEach((p) => bounds.push([p.lat, p.lng]));
  } else if (type === "map_polygons") {
    for (const poly of arr(value.polygons).filter(isObject)) {
      const coords = arr(poly.coords).filter((c) => Array.isArray(c) && c.length === 2);
      if (coords.length < 3) continue;
      const colour = typeof poly.colour === "string" ? poly.colour : accent;
      const shape = L.polygon(coords, { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.25 });
      if (poly.label !== undefined && poly.label !== null) shape.bindTooltip(text(poly.label), { sticky: true });
      shape.addTo(layer);
      bounds.push(...coords);
    }
  } else if (type === "map_choropleth") {
    const values = isObject(value.values) ? value.values : {};
    const nums = Object.values(values).filter((v) => typeof v === "number");
    const lo = nums.length ? Math.min(...nums) : 0;
    const hi = nums.length ? Math.max(...nums) : 1;
    const geo = L.geoJSON(isObject(value.geojson) ? value.geojson : { type: "FeatureCollection", features: [] }, {
      style: (feature) => {
        const v = values[featureId(feature)];
        const fill = typeof v === "number" ? ramp(hi > lo ? (v - lo) / (hi - lo) : 1) : cssVar("--map-land");
        return { color: cssVar("--text-muted"), weight: 1, fillColor: fill, fillOpacity: 0.85 };
      },
      onEachFeature: (feature, shape) => {
        const id = featureId(feature);
        const v = values[id];
        shape.bindTooltip(text(`${id ?? "feature"}: ${typeof v === "number" ? v : "no value"}`), { sticky: true });
      },
    }).addTo(layer);
    const b = geo.getBounds();
    if (b.isValid()) bounds.push(b.getSouthWest(), b.getNorthEast());
    const legend = L.control({ position: "bottomright" });
    legend.onAdd = () =>
      h("div", { class: "map-legend" }, h("span", {}, String(Math.round(lo * 1e4) / 1e4)), h("span", { class: "map-legend-ramp", style: { background: `linear-gradient(90deg, ${ramp(0)}, ${ramp(1)})` } }), h("span", {}, String(Math.round(hi * 1e4) / 1e4)));
    legend.addTo(map);
    layer.pixieLegend = legend;
  }
  return bounds;
}

/** Draw a map output; it is created when its box has a size (Leaflet needs one to fit the data). */
export function render(spec, value, rctx) {
  const el = h("div", { class: "map", role: "region", "aria-label": `${spec.label} (map)` });
  let map = null;
  let layer = null;
  let latest = value;
  let started = false;
  const redraw = (fit) => {
    if (!map) return;
    if (layer) {
      if (layer.pixieLegend) layer.pixieLegend.remove();
      layer.remove();
    }
    layer = window.L.featureGroup().addTo(map);
    const v = isObject(latest) ? latest : {};
    const bounds = draw(spec.type, v, map, layer);
    el.dataset.drawn = "true";
    if (!fit) return;
    const pres = presentation(spec, v);
    if (Array.isArray(pres.default_center)) map.setView(pres.default_center, typeof pres.default_zoom === "number" ? pres.default_zoom : SINGLE_ZOOM);
    else if (bounds.length === 1) map.setView(bounds[0], SINGLE_ZOOM);
    else if (bounds.length) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
  };
  const start = async () => {
    started = true;
    await need("leaflet");
    if (spec.type === "map_heatmap") await need("heat");
    map = await createBaseMap(el, {});
    rctx.onDispose(() => map.pixieDispose());
    redraw(true);
  };
  const observer = new ResizeObserver(() => {
    if (!started && el.clientWidth) start();
  });
  observer.observe(el);
  rctx.onDispose(() => observer.disconnect());
  return {
    el,
    update: (v) => {
      latest = v;
      redraw(false);
    },
  };
}
