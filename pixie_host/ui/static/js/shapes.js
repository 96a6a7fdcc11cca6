// Output values as the contract shapes them: scalars raw or {"value"}, the accepted variants
// normalised, presentation merged (the value wins over the spec), media resolved to safe URLs.

import { url } from "./dom.js";

export const SCALAR_TYPES = new Set(["text", "markdown", "latex", "code", "stream_text", "number", "boolean", "progress", "image", "audio", "video"]);

const AXES = ["x_label", "y_label", "log_x", "log_y"];
const AXIS_LABELS = ["x_label", "y_label"];
const MAP_VIEW = ["default_center", "default_zoom"];
const COMMON = ["unit", "caption"];
const SPEC_PRESENTATION = {
  number: ["format", "precision"],
  boolean: ["true_label", "false_label"],
  table: ["columns", "downloadable"],
  chart_line: AXES,
  chart_area: AXES,
  map_points: MAP_VIEW,
  code: ["language"],
};
const VALUE_ONLY_PRESENTATION = {
  chart_bar: AXIS_LABELS,
  chart_scatter: AXES,
  chart_histogram: AXIS_LABELS,
  chart_boxplot: AXIS_LABELS,
  chart_candlestick: AXIS_LABELS,
  map_heatmap: MAP_VIEW,
  map_route: MAP_VIEW,
  map_polygons: MAP_VIEW,
  map_choropleth: MAP_VIEW,
};

export const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** [raw value, wrapper fields] of a scalar output. */
export function unwrapScalar(value) {
  if (isObject(value) && "value" in value) {
    const { value: raw, ...rest } = value;
    return [raw, rest];
  }
  return [value, {}];
}

const isId = (v) => typeof v === "string" || (typeof v === "number" && Number.isInteger(v));

function pairsObject(items) {
  if (!Array.isArray(items)) return null;
  const pairs = {};
  for (const item of items) {
    if (isObject(item) && "value" in item && isId(item.key)) pairs[String(item.key)] = item.value;
    else if (Array.isArray(item) && item.length === 2 && isId(item[0])) pairs[String(item[0])] = item[1];
    else return null;
  }
  return pairs;
}

/** The canonical form of an output value (the variants contract §3.5 accepts). */
export function normalise(type, value) {
  if (type === "table") {
    let v = Array.isArray(value) ? { rows: value } : value;
    if (!isObject(v)) return v;
    v = { ...v };
    if (Array.isArray(v.columns)) v.columns = v.columns.map((c) => (typeof c === "string" ? { key: c, label: c } : c));
    if (Array.isArray(v.rows) && Array.isArray(v.columns)) {
      const keys = v.columns.map((c) => (isObject(c) ? c.key : c));
      v.rows = v.rows.map((r) => (Array.isArray(r) ? Object.fromEntries(keys.map((k, i) => [k, r[i]])) : r));
    }
    return v;
  }
  if (type === "kv") {
    if (Array.isArray(value)) return { pairs: pairsObject(value) || {} };
    if (isObject(value) && !("pairs" in value)) return { pairs: value };
    if (isObject(value) && Array.isArray(value.pairs)) return { ...value, pairs: pairsObject(value.pairs) || {} };
    return value;
  }
  if (type === "tree" && isObject(value) && !("root" in value) && "name" in value) return { root: value };
  if (type === "chart_heatmap" && isObject(value)) {
    const v = { ...value };
    if (v.x_labels == null && Array.isArray(v.x)) v.x_labels = v.x;
    if (v.y_labels == null && Array.isArray(v.y)) v.y_labels = v.y;
    return v;
  }
  if (type === "file" && isObject(value) && value.mime_type == null) {
    return { ...value, mime_type: value.mime || value.content_type };
  }
  return value;
}

/** The presentation of an output: the spec's fields, then the value's (non-null) ones over them. */
export function presentation(spec, value) {
  const type = spec.type;
  const keys = [...(SPEC_PRESENTATION[type] || []), ...COMMON];
  const merged = {};
  for (const key of keys) if (spec[key] !== undefined && spec[key] !== null) merged[key] = spec[key];
  let overlay = {};
  if (SCALAR_TYPES.has(type)) {
    overlay = unwrapScalar(value)[1];
  } else if (isObject(value)) {
    for (const key of [...(SPEC_PRESENTATION[type] || []), ...(VALUE_ONLY_PRESENTATION[type] || []), ...COMMON]) {
      if (key in value) overlay[key] = value[key];
    }
  }
  for (const [key, v] of Object.entries(overlay)) if (v !== null && v !== undefined) merged[key] = v;
  return merged;
}

/** True for a path inside a run's artefacts folder (contract §4: relative, no `..`, no NUL). */
export function safeArtefactPath(path) {
  if (typeof path !== "string" || !path || path.includes("\0")) return false;
  if (/^[\\/~]/.test(path) || /^[A-Za-z]:/.test(path)) return false;
  return !path.split(/[\\/]/).includes("..");
}

/** The URL of a run's artefact: always the run's own URL, whatever `url` the reference carries. */
export function artefactUrl(runId, path) {
  if (!runId || !safeArtefactPath(path)) return null;
  return url(`/api/runs/${encodeURIComponent(runId)}/artefacts/${path.split("/").map(encodeURIComponent).join("/")}`);
}

const DATA_URL = /^data:([^,;]*)(?:;[^,]*)?,/i;
const REMOTE_URL = /^https?:\/\/[^/\s]+/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A media value (data URL, http(s) URL, artefact reference, or an item wrapping one under
 * value/url/data) as {src, mime}; null when it is none of these (a javascript: URL, say).
 */
export function mediaSource(value, runId, fallbackMime = "") {
  if (typeof value === "string") {
    const data = DATA_URL.exec(value);
    if (data) return { src: value, mime: data[1] || fallbackMime };
    if (REMOTE_URL.test(value)) return { src: value, mime: fallbackMime, remote: true };
    return null;
  }
  if (isObject(value)) {
    if (typeof value.artefact === "string") {
      const src = artefactUrl(runId, value.artefact);
      return src ? { src, mime: value.mime_type || fallbackMime, artefact: value.artefact } : null;
    }
    for (const key of ["value", "url", "data"]) if (key in value) return mediaSource(value[key], runId, value.mime_type || fallbackMime);
  }
  return null;
}

/** A `file` output's download: data URL, strict base64 (wrapped with its MIME type) or artefact. */
export function fileSource(value, runId) {
  if (!isObject(value)) return null;
  const mime = value.mime_type || value.mime || value.content_type || "application/octet-stream";
  const data = value.data;
  if (typeof data === "string" && !DATA_URL.test(data) && !REMOTE_URL.test(data)) {
    const compact = data.replace(/\s+/g, "");
    if (compact.length % 4 === 0 && BASE64.test(compact)) return { src: `data:${mime};base64,${compact}`, mime };
    return null;
  }
  const found = mediaSource(data, runId, mime);
  if (found && found.remote) return null; // a file is a data URL, base64 or an artefact: never a remote link
  return found;
}

/** Bytes in a data URL, roughly (for "12.3 KiB" labels). */
export function dataUrlBytes(src) {
  const comma = src.indexOf(",");
  if (comma < 0) return null;
  const meta = src.slice(0, comma);
  const body = src.slice(comma + 1);
  if (/;base64$/i.test(meta)) return Math.floor((body.replace(/=+$/, "").length * 3) / 4);
  try {
    return decodeURIComponent(body).length;
  } catch (e) {
    return body.length;
  }
}

export function formatBytes(n) {
  if (typeof n !== "number") return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
