// How a stream event changes an output's value: the browser's copy of pixie_sdk.stream.apply_value.

const APPEND_SERIES_Y = new Set(["chart_line", "chart_area", "chart_bar"]);
const APPEND_SERIES_POINTS = new Set(["chart_scatter"]);
const APPEND_SERIES_VALUES = new Set(["chart_boxplot"]);
const APPEND_POINTS = new Set(["chart_candlestick"]);

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const unwrap = (v) => (isObject(v) && "value" in v ? v.value : v);

function mergeSeries(current, delta, field) {
  const merged = current.map((s) => (isObject(s) ? { ...s } : s));
  const byName = new Map();
  for (const s of merged) if (isObject(s)) byName.set(s.name, s);
  for (const s of delta) {
    if (!isObject(s)) continue;
    const target = byName.get(s.name);
    if (target === undefined) {
      const fresh = { ...s };
      merged.push(fresh);
      byName.set(s.name, fresh);
    } else {
      target[field] = [...(target[field] || []), ...(s[field] || [])];
    }
  }
  return merged;
}

/** The new value of an output of `type` after one event's `delta`. */
export function applyValue(type, current, delta) {
  if (type === "stream_text") {
    const before = unwrap(current);
    return (typeof before === "string" ? before : "") + String(unwrap(delta));
  }
  if (!isObject(delta)) return delta;
  const base = isObject(current) ? current : {};
  if (type === "log") return { ...base, ...delta, lines: [...(base.lines || []), ...(delta.lines || [])] };
  if (APPEND_POINTS.has(type)) return { ...base, ...delta, points: [...(base.points || []), ...(delta.points || [])] };
  const field = APPEND_SERIES_Y.has(type) ? "y" : APPEND_SERIES_POINTS.has(type) ? "points" : APPEND_SERIES_VALUES.has(type) ? "values" : null;
  if (field === null) return delta;
  const out = { ...base, ...delta };
  if (APPEND_SERIES_Y.has(type)) out.x = [...(base.x || []), ...(delta.x || [])];
  out.series = mergeSeries([...(base.series || [])], [...(delta.series || [])], field);
  return out;
}
