// Number, time and value formatting, and Python-style spellings for messages that mirror the server's.

/** Python's str() of a number, as the server's messages print bounds. */
export function pyNum(n) {
  if (typeof n !== "number") return String(n);
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  const text = String(n);
  return text.replace(/e([+-])(\d)$/, "e$10$2");
}

/** Python's repr() of a JSON value (strings in single quotes, True/False/None). */
export function pyRepr(v) {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return pyNum(v);
  if (typeof v === "string") {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
    return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
  }
  if (Array.isArray(v)) return "[" + v.map(pyRepr).join(", ") + "]";
  if (typeof v === "object") return "{" + Object.entries(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ") + "}";
  return String(v);
}

const ISO_CURRENCY = /^[A-Z]{3}$/;

/** A number output: format (currency | percent | scientific | decimal), precision, unit. */
export function formatNumber(value, pres = {}) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
  const precision = Number.isInteger(pres.precision) ? pres.precision : null;
  const unit = typeof pres.unit === "string" ? pres.unit : "";
  const digits = precision === null ? {} : { minimumFractionDigits: precision, maximumFractionDigits: precision };
  switch (pres.format) {
    case "currency": {
      if (ISO_CURRENCY.test(unit)) {
        try {
          return new Intl.NumberFormat(undefined, { style: "currency", currency: unit, ...digits }).format(value);
        } catch (e) {
          // an unknown code: drawn as a plain number with the unit after it
        }
      }
      const text = new Intl.NumberFormat(undefined, { minimumFractionDigits: precision ?? 2, maximumFractionDigits: precision ?? 2 }).format(value);
      return unit ? `${text} ${unit}` : text;
    }
    case "percent":
      // The value is a fraction: 0.05 is 5 %.
      return new Intl.NumberFormat(undefined, { style: "percent", ...(precision === null ? { maximumFractionDigits: 2 } : digits) }).format(value);
    case "scientific":
      return value.toExponential(precision ?? 3) + (unit ? ` ${unit}` : "");
    default: {
      const text = new Intl.NumberFormat(undefined, precision === null ? { maximumFractionDigits: 6 } : digits).format(value);
      return unit ? `${text} ${unit}` : text;
    }
  }
}

/** A table cell by its column type (number, currency, percent, date, boolean, else text). */
export function formatCell(value, type) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" && Number.isFinite(value)) {
    if (type === "currency") return new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
    if (type === "percent") return new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 2 }).format(value);
    if (type === "number") return new Intl.NumberFormat(undefined, { maximumFractionDigits: 6 }).format(value);
  }
  if (type === "boolean" && typeof value === "boolean") return value ? "✓" : "✗";
  if (type === "date" && typeof value === "string") {
    const d = new Date(value.length === 10 ? `${value}T00:00:00` : value);
    if (!Number.isNaN(d.getTime())) return d.toLocaleDateString();
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Milliseconds as "812 ms", "3.4 s" or "2 min 05 s". */
export function formatDuration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60000);
  const seconds = Math.floor((ms % 60000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
}

/** Unix seconds as a local date and time. */
export function formatTime(unix) {
  if (typeof unix !== "number") return "–";
  return new Date(unix * 1000).toLocaleString();
}

/** Unix seconds as "just now", "5 min ago", "3 h ago", else a date. */
export function relativeTime(unix) {
  if (typeof unix !== "number") return "never";
  const seconds = Date.now() / 1000 - unix;
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(unix * 1000).toLocaleDateString();
}

/** A short, readable spelling of any JSON value (kv values, tree meta, input summaries). */
export function brief(value, max = 120) {
  let text;
  if (typeof value === "string") text = value;
  else if (value === null || value === undefined) text = "—";
  else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") text = String(value);
  else text = JSON.stringify(value);
  if (typeof text === "string" && text.startsWith("data:")) {
    const name = /;name=([^;,]+)/.exec(text);
    const mime = /^data:([^;,]*)/.exec(text);
    text = `${name ? decodeURIComponent(name[1]) : "file"} (${(mime && mime[1]) || "data"})`;
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
