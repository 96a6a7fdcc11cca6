// One renderer per output type. renderOutput(spec, value, rctx) -> {el, update?(value)}.
// Tool text goes in as text nodes, through KaTeX's DOM builder, or through DOMPurify
// (markdown, highlighted code): never as raw HTML.

import { clear, h, icon, toast } from "./dom.js";
import { brief, formatCell, formatNumber } from "./format.js";
import { dataUrlBytes, fileSource, formatBytes, isObject, mediaSource, normalise, presentation, unwrapScalar } from "./shapes.js";
import { need } from "./vendor.js";

/** Rows per table page. */
const TABLE_PAGE_SIZE = 25;
/** Unchanged diff lines kept around each change; longer unchanged runs are folded. */
const DIFF_CONTEXT = 3;
/** Log levels in order, for the level filter ("at least warning"). */
const LOG_LEVELS = ["debug", "info", "warning", "error", "critical"];

let purifyHooked = false;
function purifier() {
  const purify = window.DOMPurify;
  if (!purifyHooked) {
    purify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A" && node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
    purifyHooked = true;
  }
  return purify;
}

/** Highlight `text` into `code` (hljs's escaped spans, passed through DOMPurify allowing only spans). */
export async function highlightInto(code, text, language) {
  code.textContent = text;
  try {
    await need("hljs", "purify");
  } catch (e) {
    return;
  }
  const hljs = window.hljs;
  let result;
  if (language && hljs.getLanguage(language)) result = hljs.highlight(text, { language, ignoreIllegals: true });
  else if (!language && text.length < 20000) result = hljs.highlightAuto(text);
  else return;
  const fragment = purifier().sanitize(result.value, { ALLOWED_TAGS: ["span"], ALLOWED_ATTR: ["class"], RETURN_DOM_FRAGMENT: true });
  code.replaceChildren(fragment);
  code.classList.add("hljs");
  if (result.language) code.dataset.language = result.language;
}

/** Markdown into `el`: marked, then DOMPurify (no script, styles or forms), then code highlighting. */
export async function renderMarkdownInto(el, source) {
  await need("marked", "purify");
  const html = window.marked.parse(String(source ?? ""), { gfm: true, async: false });
  const fragment = purifier().sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
    FORBID_ATTR: ["style"],
  });
  el.replaceChildren(fragment);
  for (const code of el.querySelectorAll("pre code")) {
    const language = [...code.classList].find((c) => c.startsWith("language-"));
    highlightInto(code, code.textContent, language ? language.slice(9) : null);
  }
}

function copyButton(getText, label = "Copy") {
  return h("button", {
    type: "button",
    class: "btn btn-small btn-ghost",
    onClick: async () => {
      try {
        await navigator.clipboard.writeText(getText());
        toast("Copied");
      } catch (e) {
        toast("Copy is not allowed here", "error");
      }
    },
  }, icon("copy"), label);
}

function download(name, text, mime) {
  const blob = new Blob([text], { type: mime });
  const href = URL.createObjectURL(blob);
  const a = h("a", { href, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 1000);
}

const unsupported = (why) => h("p", { class: "out-problem" }, why);

// --- text-like -------------------------------------------------------------------------------------------------

function textRenderer(spec, value) {
  const p = h("p", { class: "out-text" });
  const update = (v) => {
    const raw = unwrapScalar(v)[0];
    p.textContent = raw === null || raw === undefined ? "" : String(raw);
  };
  update(value);
  return { el: p, update };
}

function streamTextRenderer(spec, value) {
  const p = h("p", { class: "out-text out-stream", "aria-live": "polite" });
  const update = (v) => {
    const raw = unwrapScalar(v)[0];
    p.textContent = raw === null || raw === undefined ? "" : String(raw);
  };
  update(value);
  return { el: p, update };
}

function markdownRenderer(spec, value) {
  const el = h("div", { class: "prose" });
  const update = (v) => renderMarkdownInto(el, unwrapScalar(v)[0]);
  update(value);
  return { el, update };
}

function latexRenderer(spec, value) {
  const el = h("div", { class: "out-latex" });
  const update = async (v) => {
    const tex = String(unwrapScalar(v)[0] ?? "");
    el.textContent = tex;
    await need("katex");
    window.katex.render(tex, el, { displayMode: true, throwOnError: false, trust: false, strict: "ignore", maxSize: 50, maxExpand: 1000 });
  };
  update(value);
  return { el, update };
}

function codeRenderer(spec, value) {
  const code = h("code");
  const pre = h("pre", { class: "out-code" }, code);
  let text = "";
  const lang = h("span", { class: "badge" });
  const update = (v) => {
    const pres = presentation(spec, v);
    text = String(unwrapScalar(v)[0] ?? "");
    lang.textContent = pres.language || "code";
    highlightInto(code, text, pres.language || null);
  };
  update(value);
  return { el: h("div", { class: "code-block" }, h("div", { class: "code-bar" }, lang, copyButton(() => text)), pre), update };
}

// --- scalars ---------------------------------------------------------------------------------------------------

function numberRenderer(spec, value) {
  const el = h("p", { class: "out-number" });
  const update = (v) => {
    const raw = unwrapScalar(v)[0];
    el.textContent = formatNumber(raw, presentation(spec, v));
    el.title = String(raw);
  };
  update(value);
  return { el, update };
}

function booleanRenderer(spec, value) {
  const el = h("p", { class: "out-boolean" });
  const update = (v) => {
    const raw = unwrapScalar(v)[0] === true;
    const pres = presentation(spec, v);
    clear(el);
    el.className = `out-boolean ${raw ? "yes" : "no"}`;
    el.append(h("span", { class: "bool-mark", "aria-hidden": "true" }, raw ? "✓" : "✗"), raw ? pres.true_label || "True" : pres.false_label || "False");
  };
  update(value);
  return { el, update };
}

/** A progress bar: null is indeterminate, 0–1 a fraction, over 1 a percent. */
export function progressBar() {
  const fill = h("div", { class: "progress-fill" });
  const bar = h("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" }, fill);
  const label = h("span", { class: "progress-label" });
  const el = h("div", { class: "progress-wrap" }, bar, label);
  const set = (raw, text) => {
    if (typeof raw !== "number") {
      bar.classList.add("indeterminate");
      bar.removeAttribute("aria-valuenow");
      fill.style.width = "";
      label.textContent = text || "Working…";
      return;
    }
    const percent = Math.max(0, Math.min(100, raw <= 1 ? raw * 100 : raw));
    bar.classList.remove("indeterminate");
    bar.setAttribute("aria-valuenow", String(Math.round(percent)));
    fill.style.width = `${percent}%`;
    label.textContent = text ? `${Math.round(percent)} % · ${text}` : `${Math.round(percent)} %`;
  };
  return { el, set };
}

function progressRenderer(spec, value) {
  const bar = progressBar();
  const update = (v) => {
    const [raw, rest] = unwrapScalar(v);
    bar.set(raw, typeof rest.label === "string" ? rest.label : null);
  };
  update(value);
  return { el: bar.el, update };
}

// --- media -----------------------------------------------------------------------------------------------------

function imageElement(value, rctx, alt) {
  const source = mediaSource(value, rctx.runId, "image/");
  if (!source) return unsupported("This image is not a data URL, an http(s) URL or an artefact of this run.");
  const img = h("img", { class: "out-image", src: source.src, alt: alt || "", loading: "lazy" });
  img.addEventListener("click", () => img.classList.toggle("zoomed"));
  return img;
}

function imageRenderer(spec, value, rctx) {
  const el = h("div", { class: "media" });
  const update = (v) => {
    const pres = presentation(spec, v);
    clear(el).appendChild(imageElement(unwrapScalar(v)[0], rctx, pres.alt || spec.label));
  };
  update(value);
  return { el, update };
}

function avRenderer(kind) {
  return (spec, value, rctx) => {
    const el = h("div", { class: "media" });
    const update = (v) => {
      const [raw, rest] = unwrapScalar(v);
      const source = mediaSource(raw, rctx.runId, `${kind}/`);
      clear(el);
      if (!source) {
        el.appendChild(unsupported(`This ${kind} is not a data URL, an http(s) URL or an artefact of this run.`));
        return;
      }
      const poster = kind === "video" && rest.poster ? mediaSource(rest.poster, rctx.runId, "image/") : null;
      el.appendChild(h(kind, { class: `out-${kind}`, controls: true, preload: "metadata", src: source.src, poster: poster ? poster.src : null }));
      if (source.remote) el.appendChild(h("p", { class: "field-note" }, "Loaded from ", h("span", { class: "mono" }, source.src)));
    };
    update(value);
    return { el, update };
  };
}

function imageGridRenderer(spec, value, rctx) {
  const el = h("div", { class: "image-grid" });
  const update = (v) => {
    clear(el);
    const images = isObject(v) && Array.isArray(v.images) ? v.images : [];
    images.forEach((item, i) => {
      const alt = isObject(item) && typeof item.alt === "string" ? item.alt : `${spec.label} ${i + 1}`;
      const caption = isObject(item) && (item.caption || item.label);
      el.appendChild(h("figure", {}, imageElement(item, rctx, alt), caption ? h("figcaption", {}, String(caption)) : null));
    });
    if (!images.length) el.appendChild(h("p", { class: "muted" }, "No images."));
  };
  update(value);
  return { el, update };
}

function imageCompareRenderer(spec, value, rctx) {
  const el = h("div", { class: "compare-wrap" });
  const update = (v) => {
    clear(el);
    if (!isObject(v)) return;
    const before = mediaSource(v.before, rctx.runId, "image/");
    const after = mediaSource(v.after, rctx.runId, "image/");
    if (!before || !after) {
      el.appendChild(unsupported("Both sides must be images: data URLs, http(s) URLs or artefacts of this run."));
      return;
    }
    const afterImg = h("img", { class: "compare-after", src: after.src, alt: String(v.after_label ?? "after") });
    const slider = h("input", { type: "range", class: "compare-slider", min: 0, max: 100, value: 50, "aria-label": "Compare: drag to reveal the before and after images" });
    const set = () => {
      afterImg.style.clipPath = `inset(0 0 0 ${slider.value}%)`;
    };
    slider.addEventListener("input", set);
    const frame = h("div", { class: "compare" }, h("img", { class: "compare-before", src: before.src, alt: String(v.before_label ?? "before") }), afterImg);
    el.append(frame, slider, h("div", { class: "row-between compare-labels" }, h("span", {}, String(v.before_label ?? "Before")), h("span", {}, String(v.after_label ?? "After"))));
    set();
  };
  update(value);
  return { el, update };
}

function fileRenderer(spec, value, rctx) {
  const el = h("div", { class: "file-out" });
  const update = (v) => {
    clear(el);
    const file = normalise("file", v);
    const source = fileSource(file, rctx.runId);
    if (!source) {
      el.appendChild(unsupported("This file's data is not a data URL, base64 or an artefact of this run."));
      return;
    }
    const name = String(file.filename || "download");
    const size = source.src.startsWith("data:") ? dataUrlBytes(source.src) : null;
    el.append(
      h("div", { class: "file-meta" }, h("span", { class: "file-name" }, name), h("span", { class: "muted" }, [source.mime, size !== null ? formatBytes(size) : null].filter(Boolean).join(" · "))),
      h("a", { class: "btn btn-small", href: source.src, download: name, "data-download": "" }, icon("download"), "Download"),
    );
  };
  update(value);
  return { el, update };
}

// --- structured ------------------------------------------------------------------------------------------------

function csvCell(value) {
  if (value === null || value === undefined) return "";
  let text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`; // not a formula in a spreadsheet
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function tableRenderer(spec, value) {
  const el = h("div", { class: "out-table" });
  const state = { filter: "", page: 0, sort: null, dir: 1 };
  let current = { rows: [], columns: [] };
  let filterInput = null;
  const draw = () => {
    const pres = presentation(spec, current);
    const rows = Array.isArray(current.rows) ? current.rows.filter(isObject) : [];
    const columns = (Array.isArray(pres.columns) && pres.columns.length ? pres.columns : [...new Set(rows.flatMap((r) => Object.keys(r)))].map((k) => ({ key: k, label: k })))
      .map((c) => (typeof c === "string" ? { key: c, label: c } : c));
    const needle = state.filter.toLowerCase();
    let shown = needle ? rows.filter((r) => columns.some((c) => formatCell(r[c.key], c.type).toLowerCase().includes(needle))) : rows;
    if (state.sort !== null) {
      const key = state.sort;
      shown = [...shown].sort((a, b) => {
        const x = a[key];
        const y = b[key];
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true })) * state.dir;
      });
    }
    const pages = Math.max(1, Math.ceil(shown.length / TABLE_PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const slice = shown.slice(state.page * TABLE_PAGE_SIZE, (state.page + 1) * TABLE_PAGE_SIZE);
    const hadFocus = document.activeElement === filterInput;
    clear(el);
    filterInput = h("input", { type: "search", class: "input input-small", placeholder: "Filter rows…", "aria-label": `Filter ${spec.label}`, value: state.filter });
    filterInput.addEventListener("input", () => {
      state.filter = filterInput.value;
      state.page = 0;
      draw();
    });
    const tools = h("div", { class: "table-tools" }, filterInput, h("span", { class: "muted", "data-count": "" }, needle ? `${shown.length} of ${rows.length} rows` : `${rows.length} row${rows.length === 1 ? "" : "s"}`));
    if (pres.downloadable) {
      tools.appendChild(h("button", { type: "button", class: "btn btn-small", "data-csv": "", onClick: () => {
        const lines = [columns.map((c) => csvCell(c.label ?? c.key)).join(","), ...shown.map((r) => columns.map((c) => csvCell(r[c.key])).join(","))];
        download(`${spec.key}.csv`, `${lines.join("\r\n")}\r\n`, "text/csv");
      } }, icon("download"), "CSV"));
    }
    const head = h("tr", {}, columns.map((c) => {
      const sorted = state.sort === c.key;
      return h("th", { scope: "col", "aria-sort": sorted ? (state.dir > 0 ? "ascending" : "descending") : "none", class: ["number", "currency", "percent"].includes(c.type) ? "num" : null },
        h("button", { type: "button", class: "th-sort", onClick: () => {
          state.dir = sorted ? -state.dir : 1;
          state.sort = c.key;
          draw();
        } }, String(c.label ?? c.key), h("span", { class: "sort-mark", "aria-hidden": "true" }, sorted ? (state.dir > 0 ? " ▲" : " ▼") : "")));
    }));
    const body = h("tbody", {}, slice.map((r) => h("tr", { "data-row": "" }, columns.map((c) => h("td", { class: ["number", "currency", "percent"].includes(c.type) || typeof r[c.key] === "number" ? "num" : null }, formatCell(r[c.key], c.type))))));
    if (!slice.length) body.appendChild(h("tr", {}, h("td", { colspan: Math.max(1, columns.length), class: "muted empty" }, rows.length ? "No rows match the filter." : "No rows.")));
    el.append(tools, h("div", { class: "table-scroll" }, h("table", { class: "data-table" }, h("thead", {}, head), body)));
    if (pages > 1) {
      const go = (n) => () => {
        state.page = n;
        draw();
      };
      el.appendChild(h("nav", { class: "pager", "aria-label": `${spec.label} pages` },
        h("button", { type: "button", class: "btn btn-small", disabled: state.page === 0, onClick: go(state.page - 1) }, "Previous"),
        h("span", { "data-page": "" }, `Page ${state.page + 1} of ${pages}`),
        h("button", { type: "button", class: "btn btn-small", disabled: state.page >= pages - 1, onClick: go(state.page + 1) }, "Next")));
    }
    if (hadFocus) {
      filterInput.focus();
      filterInput.setSelectionRange(filterInput.value.length, filterInput.value.length);
    }
  };
  const update = (v) => {
    current = normalise("table", v) || { rows: [] };
    draw();
  };
  update(value);
  return { el, update };
}

function kvRenderer(spec, value) {
  const el = h("dl", { class: "kv" });
  const update = (v) => {
    clear(el);
    const pairs = (normalise("kv", v) || {}).pairs || {};
    for (const [key, val] of Object.entries(pairs)) {
      const dd = isObject(val) || Array.isArray(val) ? h("dd", {}, h("pre", { class: "mono" }, JSON.stringify(val, null, 2))) : h("dd", {}, brief(val, 400));
      el.append(h("dt", {}, key), dd);
    }
    if (!Object.keys(pairs).length) el.appendChild(h("p", { class: "muted" }, "No pairs."));
  };
  update(value);
  return { el, update };
}

function logRenderer(spec, value) {
  const list = h("ol", { class: "log", tabindex: "0", "aria-label": `${spec.label} lines` });
  const select = h("select", { class: "input input-small", "aria-label": "Lowest level shown" });
  const count = h("span", { class: "muted" });
  let lines = [];
  const rank = (level) => {
    const i = LOG_LEVELS.indexOf(String(level || "info").toLowerCase().replace(/^warn$/, "warning"));
    return i < 0 ? 1 : i;
  };
  const draw = () => {
    const min = select.value === "all" ? -1 : LOG_LEVELS.indexOf(select.value);
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    clear(list);
    const shown = lines.filter((l) => rank(l.level) >= min);
    for (const line of shown) {
      const level = String(line.level || "info").toLowerCase();
      list.appendChild(h("li", { class: `log-line level-${rank(line.level) >= 3 ? "error" : level}`, "data-level": level },
        line.t !== undefined && line.t !== null ? h("span", { class: "log-t" }, String(line.t)) : null,
        h("span", { class: "log-level" }, level),
        h("span", { class: "log-msg" }, String(line.message ?? ""))));
    }
    count.textContent = shown.length === lines.length ? `${lines.length} line${lines.length === 1 ? "" : "s"}` : `${shown.length} of ${lines.length} lines`;
    if (atBottom) list.scrollTop = list.scrollHeight;
  };
  select.append(h("option", { value: "all" }, "All levels"), ...LOG_LEVELS.slice(0, 4).map((l) => h("option", { value: l }, `${l} and up`)));
  select.addEventListener("change", draw);
  const update = (v) => {
    lines = isObject(v) && Array.isArray(v.lines) ? v.lines.filter(isObject) : [];
    draw();
  };
  update(value);
  return { el: h("div", { class: "out-log" }, h("div", { class: "table-tools" }, select, count), list), update };
}

function diffRenderer(spec, value) {
  const el = h("div", { class: "out-diff" });
  const update = async (v) => {
    clear(el);
    if (!isObject(v)) return;
    await need("diff");
    const parts = window.Diff.diffLines(String(v.before ?? ""), String(v.after ?? ""));
    let added = 0;
    let removed = 0;
    const rows = [];
    let oldNo = 1;
    let newNo = 1;
    for (const part of parts) {
      const lines = part.value.replace(/\n$/, "").split("\n");
      for (const text of lines) {
        if (part.added) {
          rows.push({ kind: "add", a: "", b: newNo++, text });
          added += 1;
        } else if (part.removed) {
          rows.push({ kind: "del", a: oldNo++, b: "", text });
          removed += 1;
        } else rows.push({ kind: "same", a: oldNo++, b: newNo++, text });
      }
    }
    const keep = rows.map((r, i) => r.kind !== "same" || rows.slice(Math.max(0, i - DIFF_CONTEXT), i + DIFF_CONTEXT + 1).some((x) => x.kind !== "same"));
    const body = h("tbody");
    let folded = 0;
    const flush = () => {
      if (folded) body.appendChild(h("tr", { class: "diff-fold" }, h("td", { colspan: 4 }, `… ${folded} unchanged line${folded === 1 ? "" : "s"}`)));
      folded = 0;
    };
    rows.forEach((r, i) => {
      if (!keep[i]) {
        folded += 1;
        return;
      }
      flush();
      body.appendChild(h("tr", { class: `diff-${r.kind}` }, h("td", { class: "ln" }, String(r.a)), h("td", { class: "ln" }, String(r.b)), h("td", { class: "sign" }, r.kind === "add" ? "+" : r.kind === "del" ? "−" : " "), h("td", { class: "code" }, r.text)));
    });
    flush();
    const names = v.filename_before || v.filename_after ? `${v.filename_before ?? ""}${v.filename_after && v.filename_after !== v.filename_before ? ` → ${v.filename_after}` : ""}` : "";
    el.append(
      h("div", { class: "diff-head" }, h("span", { class: "mono" }, names), h("span", { class: "diff-stat" }, h("span", { class: "plus" }, `+${added}`), " ", h("span", { class: "minus" }, `−${removed}`))),
      h("div", { class: "table-scroll" }, h("table", { class: "diff" }, body)),
    );
  };
  update(value);
  return { el, update };
}

function treeNode(node, depth) {
  if (!isObject(node)) return h("li", {}, brief(node));
  const meta = isObject(node.meta) ? Object.entries(node.meta).map(([k, v]) => `${k}: ${brief(v, 60)}`).join(" · ") : node.meta != null ? brief(node.meta, 80) : "";
  const label = h("span", { class: "tree-label" }, h("span", { class: "tree-name" }, String(node.name ?? "")), meta ? h("span", { class: "tree-meta" }, meta) : null);
  const children = Array.isArray(node.children) ? node.children : [];
  if (!children.length) return h("li", { class: "tree-leaf" }, label);
  const details = h("details", { open: depth < 1 }, h("summary", {}, label, h("span", { class: "muted" }, ` (${children.length})`)), h("ul", {}, children.map((c) => treeNode(c, depth + 1))));
  return h("li", {}, details);
}

function treeRenderer(spec, value) {
  const el = h("ul", { class: "tree" });
  const update = (v) => {
    clear(el);
    const root = (normalise("tree", v) || {}).root;
    if (root) el.appendChild(treeNode(root, 0));
  };
  update(value);
  return { el, update };
}

function when(t) {
  if (typeof t === "string" && /^\d{4}-\d{2}-\d{2}/.test(t)) {
    const d = new Date(t.length === 10 ? `${t}T00:00:00` : t);
    if (!Number.isNaN(d.getTime())) return t.length === 10 ? d.toLocaleDateString() : d.toLocaleString();
  }
  return String(t ?? "");
}

function timelineRenderer(spec, value) {
  const el = h("ol", { class: "timeline" });
  const update = (v) => {
    clear(el);
    const events = isObject(v) && Array.isArray(v.events) ? v.events.filter(isObject) : [];
    for (const e of events) {
      el.appendChild(h("li", { class: "timeline-item" }, h("span", { class: "timeline-dot", "aria-hidden": "true" }), h("time", {}, when(e.t)), h("strong", {}, String(e.title ?? "")), e.description ? h("p", {}, String(e.description)) : null));
    }
  };
  update(value);
  return { el, update };
}

const instant = (x) => (typeof x === "number" ? x : Date.parse(String(x)));

function ganttRenderer(spec, value) {
  const el = h("div", { class: "gantt" });
  const update = (v) => {
    clear(el);
    const tasks = isObject(v) && Array.isArray(v.tasks) ? v.tasks.filter(isObject) : [];
    const spans = tasks.map((t) => [instant(t.start), instant(t.end)]);
    const valid = spans.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    if (!valid.length) {
      el.appendChild(h("p", { class: "muted" }, "No tasks."));
      return;
    }
    const lo = Math.min(...valid.map((s) => s[0]));
    const hi = Math.max(...valid.map((s) => s[1]));
    const range = hi - lo || 1;
    const numeric = tasks.every((t) => typeof t.start === "number");
    const label = (x) => (numeric ? String(x) : when(new Date(x).toISOString().slice(0, 10)));
    el.appendChild(h("div", { class: "gantt-row gantt-axis" }, h("span"), h("div", { class: "gantt-track" }, h("span", {}, label(lo)), h("span", {}, label(hi)))));
    tasks.forEach((t, i) => {
      const [a, b] = spans[i];
      const bar = h("div", { class: "gantt-bar", title: `${t.name}: ${t.start} → ${t.end}` }, t.label != null ? String(t.label) : "");
      if (Number.isFinite(a) && Number.isFinite(b)) {
        bar.style.left = `${((a - lo) / range) * 100}%`;
        bar.style.width = `max(4px, ${((b - a) / range) * 100}%)`;
      }
      if (typeof t.colour === "string" && /^#[0-9a-fA-F]{3,8}$/.test(t.colour)) bar.style.background = t.colour;
      el.appendChild(h("div", { class: "gantt-row" }, h("span", { class: "gantt-name" }, String(t.name ?? "")), h("div", { class: "gantt-track" }, bar)));
    });
  };
  update(value);
  return { el, update };
}

// --- dispatch --------------------------------------------------------------------------------------------------

const RENDERERS = {
  text: textRenderer,
  markdown: markdownRenderer,
  latex: latexRenderer,
  code: codeRenderer,
  stream_text: streamTextRenderer,
  number: numberRenderer,
  boolean: booleanRenderer,
  progress: progressRenderer,
  image: imageRenderer,
  audio: avRenderer("audio"),
  video: avRenderer("video"),
  table: tableRenderer,
  kv: kvRenderer,
  log: logRenderer,
  diff: diffRenderer,
  tree: treeRenderer,
  timeline: timelineRenderer,
  gantt: ganttRenderer,
  image_grid: imageGridRenderer,
  image_compare: imageCompareRenderer,
  file: fileRenderer,
};

/** Draw an output. Charts and maps are drawn by their own modules, loaded on first use. */
export function renderOutput(spec, value, rctx) {
  const type = spec.type;
  if (type.startsWith("chart_") || type.startsWith("map_")) {
    const holder = h("div", { class: type.startsWith("map_") ? "map-holder" : "chart-holder" });
    let drawn = null;
    let latest = value;
    const module = type.startsWith("chart_") ? import("./charts.js") : import("./mapout.js");
    module
      .then((m) => {
        drawn = m.render(spec, latest, rctx);
        holder.appendChild(drawn.el);
      })
      .catch((err) => holder.appendChild(unsupported(`Could not draw this ${type}: ${err.message}`)));
    return {
      el: holder,
      update: (v) => {
        latest = v;
        if (drawn) drawn.update(v);
      },
    };
  }
  const renderer = RENDERERS[type];
  if (!renderer) {
    return { el: h("pre", { class: "mono" }, JSON.stringify(value, null, 2)) };
  }
  return renderer(spec, value, rctx);
}

/** Output types with a renderer here or in charts.js / mapout.js (39). */
export const RENDERED_TYPES = [
  ...Object.keys(RENDERERS),
  ...["line", "area", "bar", "scatter", "pie", "histogram", "boxplot", "heatmap", "candlestick", "radar", "sankey", "treemap", "network"].map((t) => `chart_${t}`),
  ...["points", "heatmap", "route", "polygons", "choropleth"].map((t) => `map_${t}`),
];
