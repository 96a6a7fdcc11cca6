// Client-side input checks: the same rules and the same messages as the server's 422
// (pixie_sdk.run_input), so a person sees the problem before the run is sent.

import { pyNum, pyRepr } from "./format.js";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{2}:\d{2}(:\d{2})?$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const COLOUR = /^#[0-9a-fA-F]{6}$/;
const MiB = 1024 * 1024;

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isNumber = (v) => typeof v === "number";
const err = (loc, msg, type) => ({ loc, msg, type });

function jsonEqual(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

const spell = (v) => (typeof v === "boolean" ? (v ? "true" : "false") : typeof v === "string" ? v : isNumber(v) ? pyNum(v) : JSON.stringify(v));

/** show_if equality: the same value, or a string spelling of a non-string (contract §5.2). */
export function showIfEqual(a, b) {
  if (jsonEqual(a, b) && (typeof a === "boolean") === (typeof b === "boolean")) return true;
  return (typeof a === "string") !== (typeof b === "string") && a !== null && a !== undefined && spell(a) === spell(b);
}

/** Keys of the inputs `show_if` leaves visible, given the current values (defaults fill gaps). */
export function visibleInputs(inputs, values) {
  const specs = new Map(inputs.map((i) => [i.key, i]));
  const memo = new Map();
  const visible = (key, depth) => {
    if (memo.has(key)) return memo.get(key);
    const rule = specs.get(key).show_if;
    let result;
    if (!rule) result = true;
    else if (depth > specs.size || !specs.has(rule.key)) result = false;
    else {
      let current = values[rule.key];
      if (current === null || current === undefined) current = specs.get(rule.key).default;
      result = visible(rule.key, depth + 1) && showIfEqual(current ?? null, rule.equals);
    }
    memo.set(key, result);
    return result;
  };
  return new Set(inputs.filter((i) => visible(i.key, 0)).map((i) => i.key));
}

function number(value, lo, hi, loc = []) {
  if (!isNumber(value)) return [err(loc, "Input should be a valid number", "float_type")];
  if (!Number.isFinite(value)) return [err(loc, "Input should be a finite number", "finite_number")];
  if (lo !== null && lo !== undefined && value < lo) return [err(loc, `Input should be at least ${pyNum(lo)}`, "too_small")];
  if (hi !== null && hi !== undefined && value > hi) return [err(loc, `Input should be at most ${pyNum(hi)}`, "too_large")];
  return [];
}

function pair(value, one) {
  if (!Array.isArray(value)) return [err([], "Input should be a valid tuple", "tuple_type")];
  if (value.length > 2) return [err([], `Tuple should have at most 2 items after validation, not ${value.length}`, "too_long")];
  const out = [];
  for (let i = 0; i < 2; i += 1) {
    if (i >= value.length) out.push(err([i], "Field required", "missing"));
    else out.push(...one(value[i]).map((e) => ({ ...e, loc: [i, ...e.loc] })));
  }
  if (!out.length && value[0] > value[1]) out.push(err([], "Input should be ordered: the first value must not exceed the second", "range_order"));
  return out;
}

function choice(options, value, loc = []) {
  for (const o of options) if (value === o.value && typeof value === typeof o.value) return [];
  for (const o of options) {
    const numeric = isNumber(o.value);
    if (numeric && isNumber(value) && value === o.value) return [];
    if (typeof value === "string" && typeof o.value !== "string" && value === spell(o.value)) return [];
  }
  return [err(loc, `Input should be one of: ${options.map((o) => pyRepr(o.value)).join(", ")}`, "invalid_choice")];
}

function date(value, loc = []) {
  if (typeof value !== "string" || !DATE.test(value)) return [err(loc, "Input should be a date, YYYY-MM-DD", "date_format")];
  const [y, m, d] = value.split("-").map(Number);
  if (m < 1 || m > 12) return [err(loc, "Input should be a valid date or datetime, month value is outside expected range of 1-12", "date_from_datetime_parsing")];
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d < 1 || d > days) return [err(loc, "Input should be a valid date or datetime, day value is outside expected range", "date_from_datetime_parsing")];
  return [];
}

function time(value) {
  if (typeof value !== "string" || !TIME.test(value)) return [err([], "Input should be a time, HH:MM", "time_format")];
  const [hh, mm, ss] = value.split(":").map(Number);
  const bad = (what, range) => [err([], `Input should be in a valid time format, ${what} value is outside expected range of ${range}`, "time_parsing")];
  if (hh > 23) return bad("hour", "0-23");
  if (mm > 59) return bad("minute", "0-59");
  if (ss !== undefined && ss > 59) return bad("second", "0-59");
  return [];
}

function coordinate(value, limit, loc) {
  if (!isNumber(value)) return [err(loc, "Input should be a valid number", "float_type")];
  if (!Number.isFinite(value)) return [err(loc, "Input should be a finite number", "finite_number")];
  if (value < -limit) return [err(loc, `Input should be greater than or equal to ${-limit}`, "greater_than_equal")];
  if (value > limit) return [err(loc, `Input should be less than or equal to ${limit}`, "less_than_equal")];
  return [];
}

function point(value, loc = []) {
  if (!Array.isArray(value)) return [err(loc, "Input should be a valid tuple", "tuple_type")];
  if (value.length > 2) return [err(loc, `Tuple should have at most 2 items after validation, not ${value.length}`, "too_long")];
  const out = [];
  [90, 180].forEach((limit, i) => {
    if (i >= value.length) out.push(err([...loc, i], "Field required", "missing"));
    else out.push(...coordinate(value[i], limit, [...loc, i]));
  });
  return out;
}

function points(value, min = 0) {
  if (!Array.isArray(value)) return [err([], "Input should be a valid list", "list_type")];
  const out = value.flatMap((p, i) => point(p, [i]));
  if (!out.length && value.length < min) out.push(err([], `List should have at least ${min} items after validation, not ${value.length}`, "too_short"));
  return out;
}

// --- files ---------------------------------------------------------------------------------------------------

const EXTENSIONS = {
  "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "image/svg+xml": ".svg",
  "text/plain": ".txt", "text/csv": ".csv", "application/json": ".json", "application/pdf": ".pdf",
  "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "audio/ogg": ".ogg", "application/zip": ".zip",
};

/** {name, mime, size} of a data URL (as pixie_sdk.files reads it), or null when it is not one. */
export function describeDataUrl(value) {
  const match = /^data:([^,]*),(.*)$/s.exec(value);
  if (!match) return null;
  const params = match[1].split(";");
  const mime = (params[0] || "text/plain").toLowerCase();
  const nameParam = params.find((p) => p.startsWith("name="));
  let name = null;
  if (nameParam) {
    try {
      name = decodeURIComponent(nameParam.slice(5));
    } catch (e) {
      name = nameParam.slice(5);
    }
  }
  const base64 = params.includes("base64");
  const body = match[2];
  const size = base64 ? Math.floor((body.replace(/=+$/, "").length * 3) / 4) : decodeURIComponent(body).length;
  return { name: name || `upload${EXTENSIONS[mime] || ""}`, mime, size };
}

function acceptPatterns(accept) {
  if (accept === null || accept === undefined) return [];
  const list = Array.isArray(accept) ? accept : String(accept).split(",");
  return list.map((p) => p.trim().toLowerCase()).filter(Boolean);
}

/** The `accept` rule (contract §5.4): MIME types, type/*, .ext against the name, * or * / *. */
export function matchesAccept(file, accept) {
  const patterns = acceptPatterns(accept);
  if (!patterns.length) return true;
  const mime = file.mime.toLowerCase();
  const name = file.name.toLowerCase();
  return patterns.some((p) =>
    p === "*" || p === "*/*" ? true : p.startsWith(".") ? name.endsWith(p) : p.endsWith("/*") ? mime.startsWith(p.slice(0, -1)) : mime === p,
  );
}

function pyStr(accept) {
  return Array.isArray(accept) ? pyRepr(accept) : String(accept);
}

function file(spec, value, loc = []) {
  if (typeof value !== "string") return [];
  const info = describeDataUrl(value);
  if (!info) return [];
  if (!matchesAccept(info, spec.accept)) {
    return [err(loc, `Input file \`${info.name}\` (${info.mime}) is not accepted: ${pyStr(spec.accept)}`, "file_accept")];
  }
  if (isNumber(spec.max_size_mb) && info.size > spec.max_size_mb * MiB) {
    return [err(loc, `Input file is ${(info.size / MiB).toFixed(1)} MiB, over ${pyNum(spec.max_size_mb)} MiB`, "file_too_large")];
  }
  return [];
}

// --- tables --------------------------------------------------------------------------------------------------

const CELL_RULES = {
  number: ["a number", isNumber],
  currency: ["a number", isNumber],
  percent: ["a number", isNumber],
  boolean: ["true or false", (v) => typeof v === "boolean"],
  date: ["a date, YYYY-MM-DD", (v) => typeof v === "string" && DATE.test(v)],
};

function table(spec, rows) {
  if (!Array.isArray(rows)) return [err([], "Input should be a valid list", "list_type")];
  const notObject = rows.findIndex((r) => !isObject(r));
  if (notObject >= 0) return [err([notObject], "Input should be a valid dictionary", "dict_type")];
  if (spec.min_rows != null && rows.length < spec.min_rows) return [err([], `Input should have at least ${spec.min_rows} rows`, "too_short")];
  if (spec.max_rows != null && rows.length > spec.max_rows) return [err([], `Input should have at most ${spec.max_rows} rows`, "too_long")];
  const keys = spec.columns.map((c) => c.key);
  const sorted = [...keys].sort();
  for (let n = 0; n < rows.length; n += 1) {
    const unknown = Object.keys(rows[n]).filter((k) => !keys.includes(k)).sort();
    if (unknown.length) return [err([], `Row ${n + 1} has unknown column \`${unknown[0]}\`; columns are: ${sorted.join(", ")}`, "table_column")];
    for (const column of spec.columns) {
      const rule = CELL_RULES[column.type];
      const cell = rows[n][column.key];
      if (rule && cell !== null && cell !== undefined && !rule[1](cell)) {
        const shown = pyRepr(cell).slice(0, 40);
        return [err([], `Row ${n + 1}, column \`${column.key}\` should be ${rule[0]}, got \`${shown}\``, "table_cell")];
      }
    }
  }
  return [];
}

// --- JSON Schema (the Draft 2020-12 keywords tool authors use, with jsonschema's messages) -----------------

const TYPE_CHECKS = {
  object: isObject,
  array: Array.isArray,
  string: (v) => typeof v === "string",
  number: isNumber,
  integer: (v) => isNumber(v) && Number.isInteger(v),
  boolean: (v) => typeof v === "boolean",
  null: (v) => v === null,
};

function schemaErrors(schema, value, path, out) {
  if (schema === true || !isObject(schema)) return;
  if (schema === false) {
    out.push({ path, message: `False schema does not allow ${pyRepr(value)}` });
    return;
  }
  for (const [keyword, arg] of Object.entries(schema)) {
    switch (keyword) {
      case "type": {
        const types = Array.isArray(arg) ? arg : [arg];
        if (!types.some((t) => TYPE_CHECKS[t] && TYPE_CHECKS[t](value))) {
          out.push({ path, message: `${pyRepr(value)} is not of type ${types.map(pyRepr).join(", ")}` });
        }
        break;
      }
      case "enum":
        if (Array.isArray(arg) && !arg.some((x) => jsonEqual(x, value))) out.push({ path, message: `${pyRepr(value)} is not one of ${pyRepr(arg)}` });
        break;
      case "const":
        if (!jsonEqual(arg, value)) out.push({ path, message: `${pyRepr(arg)} was expected` });
        break;
      case "minimum":
        if (isNumber(value) && value < arg) out.push({ path, message: `${pyNum(value)} is less than the minimum of ${pyNum(arg)}` });
        break;
      case "maximum":
        if (isNumber(value) && value > arg) out.push({ path, message: `${pyNum(value)} is greater than the maximum of ${pyNum(arg)}` });
        break;
      case "exclusiveMinimum":
        if (isNumber(value) && value <= arg) out.push({ path, message: `${pyNum(value)} is less than or equal to the minimum of ${pyNum(arg)}` });
        break;
      case "exclusiveMaximum":
        if (isNumber(value) && value >= arg) out.push({ path, message: `${pyNum(value)} is greater than or equal to the maximum of ${pyNum(arg)}` });
        break;
      case "multipleOf":
        if (isNumber(value) && Math.abs(value / arg - Math.round(value / arg)) > 1e-9) out.push({ path, message: `${pyNum(value)} is not a multiple of ${pyNum(arg)}` });
        break;
      case "minLength":
        if (typeof value === "string" && [...value].length < arg) out.push({ path, message: `${pyRepr(value)} is too short` });
        break;
      case "maxLength":
        if (typeof value === "string" && [...value].length > arg) out.push({ path, message: `${pyRepr(value)} is too long` });
        break;
      case "pattern":
        try {
          if (typeof value === "string" && !new RegExp(arg, "u").test(value)) out.push({ path, message: `${pyRepr(value)} does not match ${pyRepr(arg)}` });
        } catch (e) {
          // a pattern JS cannot read is left to the server
        }
        break;
      case "minItems":
        if (Array.isArray(value) && value.length < arg) out.push({ path, message: `${pyRepr(value)} is too short` });
        break;
      case "maxItems":
        if (Array.isArray(value) && value.length > arg) out.push({ path, message: `${pyRepr(value)} is too long` });
        break;
      case "uniqueItems":
        if (arg && Array.isArray(value) && value.some((x, i) => value.findIndex((y) => jsonEqual(x, y)) !== i)) {
          out.push({ path, message: `${pyRepr(value)} has non-unique elements` });
        }
        break;
      case "prefixItems":
        if (Array.isArray(value) && Array.isArray(arg)) arg.forEach((s, i) => i < value.length && schemaErrors(s, value[i], [...path, i], out));
        break;
      case "items":
        if (Array.isArray(value)) {
          const start = Array.isArray(schema.prefixItems) ? schema.prefixItems.length : 0;
          for (let i = start; i < value.length; i += 1) schemaErrors(arg, value[i], [...path, i], out);
        }
        break;
      case "required":
        if (isObject(value) && Array.isArray(arg)) for (const key of arg) if (!(key in value)) out.push({ path, message: `${pyRepr(key)} is a required property` });
        break;
      case "properties":
        if (isObject(value) && isObject(arg)) for (const [key, sub] of Object.entries(arg)) if (key in value) schemaErrors(sub, value[key], [...path, key], out);
        break;
      case "additionalProperties":
        if (isObject(value)) {
          const known = new Set(Object.keys(schema.properties || {}));
          const patterns = Object.keys(schema.patternProperties || {}).map((p) => new RegExp(p, "u"));
          const extra = Object.keys(value).filter((k) => !known.has(k) && !patterns.some((p) => p.test(k)));
          if (arg === false && extra.length) {
            const verb = extra.length === 1 ? "was" : "were";
            out.push({ path, message: `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${verb} unexpected)` });
          } else if (isObject(arg)) {
            for (const key of extra) schemaErrors(arg, value[key], [...path, key], out);
          }
        }
        break;
      case "allOf":
        if (Array.isArray(arg)) for (const sub of arg) schemaErrors(sub, value, path, out);
        break;
      case "anyOf":
      case "oneOf":
        if (Array.isArray(arg)) {
          const passing = arg.filter((sub) => {
            const inner = [];
            schemaErrors(sub, value, path, inner);
            return inner.length === 0;
          }).length;
          if (passing === 0) out.push({ path, message: `${pyRepr(value)} is not valid under any of the given schemas` });
          else if (keyword === "oneOf" && passing > 1) out.push({ path, message: `${pyRepr(value)} is valid under each of ${arg.map(pyRepr).join(", ")}` });
        }
        break;
      case "not": {
        const inner = [];
        schemaErrors(arg, value, path, inner);
        if (!inner.length) out.push({ path, message: `${pyRepr(value)} should not be valid under ${pyRepr(arg)}` });
        break;
      }
      default:
        break;
    }
  }
}

/** jsonschema's best_match, roughly: the first error among those highest up in the value. */
export function schemaProblem(schema, value) {
  if (!isObject(schema)) return null;
  const found = [];
  schemaErrors(schema, value, [], found);
  if (!found.length) return null;
  const depth = Math.min(...found.map((e) => e.path.length));
  const best = found.find((e) => e.path.length === depth);
  const where = best.path.join("/");
  return `Input does not match its schema${where ? ` at ${where}` : ""}: ${best.message}`;
}

// --- one value, and a whole form ----------------------------------------------------------------------------

/** Problems with one value of an input: [{loc (inside the input), msg, type}]; [] when it is valid. */
export function checkValue(spec, value) {
  switch (spec.type) {
    case "text":
    case "textarea":
      if (typeof value !== "string") return [err([], "Input should be a valid string", "string_type")];
      if (spec.max_length != null && [...value].length > spec.max_length) {
        return [err([], `String should have at most ${spec.max_length} character${spec.max_length === 1 ? "" : "s"}`, "string_too_long")];
      }
      return [];
    case "code":
    case "markdown":
    case "autocomplete":
      return typeof value === "string" ? [] : [err([], "Input should be a valid string", "string_type")];
    case "number":
      return number(value, spec.min, spec.max);
    case "slider":
      return spec.range ? pair(value, (v) => number(v, spec.min, spec.max)) : number(value, spec.min, spec.max);
    case "select":
    case "radio":
      return choice(spec.options, value);
    case "multiselect":
      if (!Array.isArray(value)) return [err([], "Input should be a valid list", "list_type")];
      return value.flatMap((v, i) => choice(spec.options, v, [i]));
    case "checkbox":
    case "toggle":
      return typeof value === "boolean" ? [] : [err([], "Input should be a valid boolean", "bool_type")];
    case "date": {
      const problems = date(value);
      if (problems.length) return problems;
      if (spec.min && DATE.test(spec.min) && value < spec.min) return [err([], `Input should be at least ${spec.min}`, "too_small")];
      if (spec.max && DATE.test(spec.max) && value > spec.max) return [err([], `Input should be at most ${spec.max}`, "too_large")];
      return [];
    }
    case "time":
      return time(value);
    case "datetime":
      return typeof value === "string" && DATETIME.test(value) ? [] : [err([], "Input should be a date and time, YYYY-MM-DDTHH:MM", "datetime_format")];
    case "date_range":
      return pair(value, (v) => date(v));
    case "file":
    case "image":
    case "audio":
      if (spec.multiple) {
        if (!Array.isArray(value)) return [err([], "Input should be a valid list", "list_type")];
        return value.flatMap((v, i) => file(spec, v, [i]));
      }
      return file(spec, value);
    case "colour":
      return typeof value === "string" && COLOUR.test(value) ? [] : [err([], "Input should be a colour, #rrggbb", "colour_format")];
    case "json": {
      const problem = schemaProblem(spec.schema, value);
      return problem ? [err([], problem, "json_schema")] : [];
    }
    case "tags":
      if (!Array.isArray(value)) return [err([], "Input should be a valid list", "list_type")];
      return value.flatMap((v, i) => (typeof v === "string" ? [] : [err([i], "Input should be a valid string", "string_type")]));
    case "table":
      return table(spec, value);
    case "map_point":
      return point(value);
    case "map_bbox": {
      if (!Array.isArray(value)) return [err([], "Input should be a valid tuple", "tuple_type")];
      const problems = [];
      for (let i = 0; i < 2; i += 1) {
        if (i >= value.length) problems.push(err([i], "Field required", "missing"));
        else problems.push(...point(value[i], [i]));
      }
      if (!problems.length && value[0][0] > value[1][0]) {
        problems.push(err([], "Input should be [[south, west], [north, east]] with south <= north", "bbox_order"));
      }
      return problems;
    }
    case "map_polygon":
      return points(value, 3);
    case "map_multipoint":
      return points(value);
    default:
      return [];
  }
}

/**
 * The form's values as the server would judge them: visibility, defaults, required, then each rule.
 * Returns FastAPI-style problems [{loc: ["body", "inputs", key, ...], msg, type}].
 */
export function validateInputs(inputs, values) {
  const visible = visibleInputs(inputs, values);
  const problems = [];
  for (const spec of inputs) {
    if (!visible.has(spec.key) || spec.type === "hidden") continue;
    let value = values[spec.key];
    if (value === null || value === undefined) value = spec.default;
    if (value === null || value === undefined) {
      if (spec.required !== false) problems.push(err(["body", "inputs", spec.key], "Field required", "missing"));
      continue;
    }
    for (const p of checkValue(spec, value)) problems.push({ ...p, loc: ["body", "inputs", spec.key, ...p.loc] });
  }
  return problems;
}
