// An offline base map for Leaflet: no tile server, a vendored low-resolution world outline and a
// graticule that refines as you zoom. Used by the map pickers and the map outputs.

import { cssVar, onTheme } from "./dom.js";
import { need, worldOutline } from "./vendor.js";

const GRID_STEPS = [30, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005];
/** At most this many graticule lines across the view in each direction. */
const GRID_LINES = 10;

function drawGraticule(map, layer) {
  const L = window.L;
  layer.clearLayers();
  const b = map.getBounds();
  const span = Math.max(b.getNorth() - b.getSouth(), (b.getEast() - b.getWest()) / 2);
  const step = GRID_STEPS.find((s) => span / s <= GRID_LINES) || GRID_STEPS[GRID_STEPS.length - 1];
  const style = { color: cssVar("--map-grid"), weight: 1, interactive: false, renderer: map.pixieBaseRenderer };
  const south = Math.max(-90, Math.floor(b.getSouth() / step) * step);
  const north = Math.min(90, Math.ceil(b.getNorth() / step) * step);
  const west = Math.floor(b.getWest() / step) * step;
  const east = Math.ceil(b.getEast() / step) * step;
  for (let lat = south; lat <= north + 1e-9; lat += step) layer.addLayer(L.polyline([[lat, west], [lat, east]], style));
  for (let lng = west; lng <= east + 1e-9; lng += step) layer.addLayer(L.polyline([[south, lng], [north, lng]], style));
}

/**
 * A Leaflet map in `el` on the offline base map. Resolves to the map; it redraws itself when its
 * container changes size or the theme changes. `dispose` removes it.
 */
export async function createBaseMap(el, { center = [20, 0], zoom = 2, interactive = true } = {}) {
  await need("leaflet");
  const L = window.L;
  const map = L.map(el, {
    center,
    zoom,
    minZoom: 1,
    maxZoom: 18,
    attributionControl: false,
    zoomControl: interactive,
    scrollWheelZoom: false,
    worldCopyJump: true,
    keyboard: true,
  });
  L.control.scale({ imperial: false }).addTo(map);
  // The outline and the grid sit in their own pane under every data layer (where tiles would be).
  map.createPane("pixie-base").style.zIndex = 250;
  const baseRenderer = L.svg({ pane: "pixie-base" });
  const grid = L.layerGroup().addTo(map);
  let land = null;
  const landStyle = () => ({ color: cssVar("--map-border"), weight: 0.8, fillColor: cssVar("--map-land"), fillOpacity: 1, interactive: false });
  worldOutline().then((geo) => {
    if (!geo || !map._container) return;
    land = L.geoJSON(geo, { style: landStyle, interactive: false, renderer: baseRenderer });
    land.addTo(map);
    land.bringToBack();
  });
  map.pixieBaseRenderer = baseRenderer;
  map.on("moveend zoomend", () => drawGraticule(map, grid));
  drawGraticule(map, grid);
  const observer = new ResizeObserver(() => map.invalidateSize());
  observer.observe(el);
  const stopTheme = onTheme(() => {
    if (land) land.setStyle(landStyle());
    drawGraticule(map, grid);
  });
  map.pixieDispose = () => {
    observer.disconnect();
    stopTheme();
    map.remove();
  };
  return map;
}
