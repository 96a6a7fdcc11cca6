// One widget per input type, driven by the input's spec. A widget is
//   {el, get() -> value | null ("not given"), set(value), focus(), localProblem?() -> message | null}
// and calls ctx.changed() whenever its value changes. Values are the JSON the contract expects.

import { api } from "./api.js";
import { createBaseMap } from "./basemap.js";
import { clear, cssVar, h, icon, uid } from "./dom.js";
import { formatBytes } from "./shapes.js";
import { describeDataUrl, matchesAccept, showIfEqual } from "./validate.js";
import { need } from "./vendor.js";

/** Debounce for autocomplete look-ups, in ms: one request per pause in typing. */
const SUGGEST_DEBOUNCE_MS = 150;

const hasDefault = (spec) => spec.default !== null && spec.default !== undefined;
/** An empty control is "not given" when there is no default; with a default, the person emptied it on purpose. */
const emptyValue = (spec, empty) => (hasDefault(spec) ? empty : null);

function textWidget(spec, ctx, multiline) {
  const props = {
    id: ctx.id,
    class: ["input", multiline && spec.monospace ? "mono" : null],
    placeholder: spec.placeholder || null,
    maxlength: spec.max_length ?? null,
    "aria-describedby": ctx.describedBy,
    onInput: () => ctx.changed(),
  };
  const input = multiline ? h("textarea", { ...props, rows: 4 }) : h("input", { ...props, type: "text", autocomplete: "off" });
  const counter = spec.max_length != null ? h("span", { class: "counter", "aria-hidden": "true" }) : null;
  const count = () => counter && (counter.textContent = `${[...input.value].length} / ${spec.max_length}`);
  input.addEventListener("input", count);
  return {
    el: h("div", { class: "control-stack" }, input, counter),
    get: () => (input.value === "" ? emptyValue(spec, "") : input.value),
    set: (v) => {
      input.value = typeof v === "string" ? v : v == null ? "" : String(v);
      count();
    },
    focus: () => input.focus(),
  };
}

function numberWidget(spec, ctx) {
  const input = h("input", {
    id: ctx.id,
    class: "input",
    type: "number",
    inputmode: "decimal",
    min: spec.min ?? null,
    max: spec.max ?? null,
    step: spec.step ?? "any",
    "aria-describedby": ctx.describedBy,
    onInput: () => ctx.changed(),
  });
  return {
    el: h("div", { class: "with-unit" }, input, spec.unit ? h("span", { class: "unit" }, spec.unit) : null),
    get: () => {
      if (input.validity.badInput) return "";
      return input.value === "" ? null : Number(input.value);
    },
    set: (v) => {
      input.value = typeof v === "number" ? String(v) : "";
    },
    focus: () => input.focus(),
  };
}

function sliderWidget(spec, ctx) {
  const range = (id, label) =>
    h("input", {
      id,
      type: "range",
      class: "range",
      min: spec.min,
      max: spec.max,
      step: spec.step ?? "any",
      "aria-label": label,
      "aria-describedby": ctx.describedBy,
    });
  const lo = range(ctx.id, spec.range ? `${spec.label}: from` : spec.label);
  const hi = spec.range ? range(uid(), `${spec.label}: to`) : null;
  const readout = h("output", { class: "readout", for: ctx.id });
  const show = () => {
    readout.textContent = hi ? `${lo.value} – ${hi.value}` : lo.value;
  };
  const onInput = (event) => {
    if (hi && Number(lo.value) > Number(hi.value)) {
      if (event.target === lo) hi.value = lo.value;
      else lo.value = hi.value;
    }
    show();
    ctx.changed();
  };
  lo.addEventListener("input", onInput);
  if (hi) hi.addEventListener("input", onInput);
  const mid = (spec.min + spec.max) / 2;
  return {
    el: h("div", { class: ["slider", hi && "slider-range"] }, h("div", { class: "slider-tracks" }, lo, hi), readout),
    get: () => (hi ? [Number(lo.value), Number(hi.value)] : Number(lo.value)),
    set: (v) => {
      if (hi) {
        const [a, b] = Array.isArray(v) ? v : [spec.min, spec.max];
        lo.value = String(a);
        hi.value = String(b);
      } else {
        lo.value = String(typeof v === "number" ? v : mid);
      }
      show();
    },
    focus: () => lo.focus(),
  };
}

function optionIndex(options, value) {
  if (value === null || value === undefined) return -1;
  return options.findIndex((o) => showIfEqual(value, o.value));
}

function searchBox(label, onFilter) {
  return h("input", {
    type: "search",
    class: "input input-small search",
    placeholder: "Filter…",
    "aria-label": `Filter ${label}`,
    onInput: (e) => onFilter(e.target.value.trim().toLowerCase()),
  });
}

function selectWidget(spec, ctx) {
  const select = h("select", { id: ctx.id, class: "input", "aria-describedby": ctx.describedBy, onChange: () => ctx.changed() });
  const blank = spec.required === false || !hasDefault(spec);
  if (blank) select.appendChild(h("option", { value: "" }, spec.required === false ? "— none —" : "— choose —"));
  spec.options.forEach((o, i) => select.appendChild(h("option", { value: String(i) }, o.label)));
  const filter = spec.searchable
    ? searchBox(spec.label, (q) => {
        for (const el of select.options) if (el.value !== "") el.hidden = q !== "" && !el.textContent.toLowerCase().includes(q);
      })
    : null;
  return {
    el: h("div", { class: "control-stack" }, filter, select),
    get: () => (select.value === "" ? null : spec.options[Number(select.value)].value),
    set: (v) => {
      const i = optionIndex(spec.options, v);
      select.value = i >= 0 ? String(i) : blank ? "" : "0";
    },
    focus: () => select.focus(),
  };
}

function radioWidget(spec, ctx) {
  const name = uid("radio");
  const inputs = spec.options.map((o) => h("input", { type: "radio", name, value: o.label, onChange: () => ctx.changed() }));
  const group = h(
    "div",
    { class: "choices", role: "radiogroup", "aria-labelledby": ctx.labelId, "aria-describedby": ctx.describedBy },
    spec.options.map((o, i) => h("label", { class: "choice" }, inputs[i], h("span", {}, o.label))),
  );
  return {
    el: group,
    get: () => {
      const i = inputs.findIndex((el) => el.checked);
      return i < 0 ? null : spec.options[i].value;
    },
    set: (v) => {
      const i = optionIndex(spec.options, v);
      inputs.forEach((el, n) => {
        el.checked = n === i;
      });
    },
    focus: () => (inputs.find((el) => el.checked) || inputs[0]).focus(),
  };
}

function multiselectWidget(spec, ctx) {
  const boxes = spec.options.map(() => h("input", { type: "checkbox", onChange: () => ctx.changed() }));
  const labels = spec.options.map((o, i) => h("label", { class: "choice chip-choice" }, boxes[i], h("span", {}, o.label)));
  const filter = spec.searchable
    ? searchBox(spec.label, (q) => labels.forEach((el, i) => (el.hidden = q !== "" && !spec.options[i].label.toLowerCase().includes(q))))
    : null;
  return {
    el: h("div", { class: "control-stack" }, filter, h("div", { class: "choices wrap", role: "group", "aria-labelledby": ctx.labelId, "aria-describedby": ctx.describedBy }, labels)),
    get: () => spec.options.filter((_o, i) => boxes[i].checked).map((o) => o.value),
    set: (v) => {
      const wanted = Array.isArray(v) ? v : [];
      boxes.forEach((el, i) => {
        el.checked = wanted.some((w) => showIfEqual(w, spec.options[i].value));
      });
    },
    focus: () => boxes[0].focus(),
  };
}

function checkboxWidget(spec, ctx) {
  const box = h("input", { id: ctx.id, type: "checkbox", class: "checkbox", "aria-describedby": ctx.describedBy, onChange: () => ctx.changed() });
  return {
    el: h("label", { class: "choice" }, box, h("span", {}, spec.label)),
    inlineLabel: true,
    get: () => box.checked,
    set: (v) => {
      box.checked = v === true;
    },
    focus: () => box.focus(),
  };
}

function toggleWidget(spec, ctx) {
  const button = h(
    "button",
    { id: ctx.id, type: "button", class: "switch", role: "switch", "aria-checked": "false", "aria-labelledby": ctx.labelId, "aria-describedby": ctx.describedBy },
    h("span", { class: "switch-thumb" }),
  );
  const state = h("span", { class: "switch-state" }, "Off");
  const setOn = (on) => {
    button.setAttribute("aria-checked", on ? "true" : "false");
    state.textContent = on ? "On" : "Off";
  };
  button.addEventListener("click", () => {
    setOn(button.getAttribute("aria-checked") !== "true");
    ctx.changed();
  });
  return {
    el: h("div", { class: "switch-row" }, button, state),
    get: () => button.getAttribute("aria-checked") === "true",
    set: (v) => setOn(v === true),
    focus: () => button.focus(),
  };
}

function dateLike(type, spec, ctx, extra = {}) {
  const input = h("input", { id: ctx.id, class: "input", type, "aria-describedby": ctx.describedBy, onInput: () => ctx.changed(), ...extra });
  return {
    el: input,
    get: () => (input.value === "" ? null : input.value),
    set: (v) => {
      input.value = typeof v === "string" ? v : "";
    },
    focus: () => input.focus(),
  };
}

function datetimeWidget(spec, ctx) {
  // datetime-local cannot hold a timezone: a default with one is edited as text.
  const zoned = typeof spec.default === "string" && /(Z|[+-]\d{2}:?\d{2})$/.test(spec.default);
  const withSeconds = typeof spec.default === "string" && /T\d{2}:\d{2}:\d{2}/.test(spec.default);
  return zoned
    ? dateLike("text", spec, ctx, { placeholder: "YYYY-MM-DDTHH:MM+00:00" })
    : dateLike("datetime-local", spec, ctx, { step: withSeconds ? 1 : null });
}

function dateRangeWidget(spec, ctx) {
  const from = h("input", { id: ctx.id, class: "input", type: "date", "aria-label": `${spec.label}: from`, onInput: () => ctx.changed() });
  const to = h("input", { class: "input", type: "date", "aria-label": `${spec.label}: to`, onInput: () => ctx.changed() });
  return {
    el: h("div", { class: "pair", role: "group", "aria-labelledby": ctx.labelId, "aria-describedby": ctx.describedBy }, from, h("span", { class: "pair-sep" }, "to"), to),
    get: () => (from.value === "" && to.value === "" ? null : [from.value, to.value]),
    set: (v) => {
      const [a, b] = Array.isArray(v) ? v : ["", ""];
      from.value = a || "";
      to.value = b || "";
    },
    focus: () => from.focus(),
  };
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      // The file's name travels in the data URL's `name` parameter (contract §5.4).
      const text = String(reader.result);
      const comma = text.indexOf(",");
      let meta = text.slice(5, comma);
      if (!meta.split(";")[0]) meta = (file.type || "application/octet-stream") + meta;
      const parts = meta.split(";");
      parts.splice(1, 0, `name=${encodeURIComponent(file.name)}`);
      resolve(`data:${parts.join(";")}${text.slice(comma)}`);
    };
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function fileWidget(spec, ctx) {
  const multiple = spec.multiple === true;
  const acceptAttr = Array.isArray(spec.accept) ? spec.accept.join(",") : spec.accept || null;
  const picker = h("input", { type: "file", class: "visually-hidden", tabindex: "-1", accept: acceptAttr, multiple });
  let chosen = [];
  let note = null;
  const list = h("div", { class: "file-list" });
  const choose = h("button", { type: "button", class: "btn btn-small", id: ctx.id, "aria-describedby": ctx.describedBy }, icon("upload"), multiple ? "Choose files" : "Choose file");
  const zone = h(
    "div",
    { class: "dropzone", "data-dropzone": "" },
    choose,
    h("span", { class: "dropzone-hint" }, " or drop ", multiple ? "files" : "a file", " here"),
    picker,
  );
  const preview = (item) => {
    const info = describeDataUrl(item.url) || { name: "file", mime: "", size: 0 };
    let thumb = null;
    if (spec.type === "image" || info.mime.startsWith("image/")) thumb = h("img", { class: "file-thumb", src: item.url, alt: "" });
    else if (spec.type === "audio" || info.mime.startsWith("audio/")) thumb = h("audio", { controls: true, src: item.url, class: "file-audio" });
    const remove = item.isDefault
      ? null
      : h("button", { type: "button", class: "btn-icon", "aria-label": `Remove ${info.name}`, onClick: () => {
          chosen = chosen.filter((c) => c !== item);
          draw();
          ctx.changed();
        } }, icon("x"));
    return h("div", { class: "file-item" }, thumb, h("span", { class: "file-name" }, info.name), h("span", { class: "muted" }, `${info.mime} · ${formatBytes(info.size)}${item.isDefault ? " · default" : ""}`), remove);
  };
  const draw = () => {
    clear(list);
    const shown = chosen.length ? chosen : hasDefault(spec) ? [].concat(spec.default).map((url) => ({ url, isDefault: true })) : [];
    for (const item of shown) if (typeof item.url === "string") list.appendChild(preview(item));
    if (note) list.appendChild(h("p", { class: "field-note" }, note));
  };
  const add = async (files) => {
    note = null;
    const fresh = [];
    for (const file of files) {
      const info = { name: file.name, mime: file.type || "application/octet-stream" };
      if (!matchesAccept(info, spec.accept)) {
        note = `${file.name} is not accepted here (${acceptAttr}).`;
        continue;
      }
      fresh.push({ url: await readAsDataUrl(file), isDefault: false });
    }
    if (fresh.length) chosen = multiple ? [...chosen, ...fresh] : fresh.slice(0, 1);
    draw();
    ctx.changed();
  };
  choose.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    add([...picker.files]);
    picker.value = "";
  });
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    if (e.dataTransfer && e.dataTransfer.files.length) add([...e.dataTransfer.files]);
  });
  draw();
  return {
    el: h("div", { class: "control-stack" }, zone, list),
    get: () => (chosen.length ? (multiple ? chosen.map((c) => c.url) : chosen[0].url) : null),
    set: (v) => {
      const urls = [].concat(v ?? []).filter((u) => typeof u === "string" && u.startsWith("data:"));
      chosen = urls.map((url) => ({ url, isDefault: false }));
      note = null;
      draw();
    },
    focus: () => choose.focus(),
  };
}

function colourWidget(spec, ctx) {
  const swatch = h("input", { type: "color", class: "swatch", "aria-label": `${spec.label}: picker` });
  const text = h("input", { id: ctx.id, class: "input mono", type: "text", maxlength: 7, placeholder: "#rrggbb", "aria-describedby": ctx.describedBy, size: 8 });
  swatch.addEventListener("input", () => {
    text.value = swatch.value;
    ctx.changed();
  });
  text.addEventListener("input", () => {
    if (/^#[0-9a-fA-F]{6}$/.test(text.value)) swatch.value = text.value.toLowerCase();
    ctx.changed();
  });
  return {
    el: h("div", { class: "pair" }, swatch, text),
    get: () => (text.value === "" ? null : text.value),
    set: (v) => {
      text.value = typeof v === "string" ? v : "";
      if (/^#[0-9a-fA-F]{6}$/.test(text.value)) swatch.value = text.value.toLowerCase();
    },
    focus: () => text.focus(),
  };
}

/** Tab in a code editor types a tab; Escape first, then Tab, leaves the field (keyboard users are never trapped). */
function tabIndents(area) {
  let leaving = false;
  area.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      leaving = true;
      return;
    }
    if (e.key === "Tab" && !e.shiftKey && !leaving) {
      e.preventDefault();
      area.setRangeText("\t", area.selectionStart, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input"));
    }
    if (e.key !== "Tab") leaving = false;
  });
}

function jsonWidget(spec, ctx) {
  const area = h("textarea", { id: ctx.id, class: "input mono", rows: 5, spellcheck: "false", "aria-describedby": ctx.describedBy });
  const status = h("p", { class: "json-status", "aria-live": "polite" });
  const parse = () => {
    if (area.value.trim() === "") return { empty: true };
    try {
      return { value: JSON.parse(area.value) };
    } catch (e) {
      return { error: e.message };
    }
  };
  const refresh = () => {
    const parsed = parse();
    status.textContent = parsed.error ? "Not valid JSON yet" : parsed.empty ? "" : spec.schema ? "Valid JSON; checked against the input's schema on run" : "Valid JSON";
    status.classList.toggle("bad", Boolean(parsed.error));
  };
  area.addEventListener("input", () => {
    refresh();
    ctx.changed();
  });
  tabIndents(area);
  const format = h("button", { type: "button", class: "btn btn-small btn-ghost", onClick: () => {
    const parsed = parse();
    if ("value" in parsed) {
      area.value = JSON.stringify(parsed.value, null, 2);
      refresh();
    }
  } }, "Format");
  return {
    el: h("div", { class: "control-stack" }, area, h("div", { class: "row-between" }, status, format)),
    get: () => {
      const parsed = parse();
      return "value" in parsed ? parsed.value : null;
    },
    localProblem: () => {
      const parsed = parse();
      return parsed.error ? `Input is not valid JSON: ${parsed.error}` : null;
    },
    set: (v) => {
      area.value = v === null || v === undefined ? "" : JSON.stringify(v, null, 2);
      refresh();
    },
    focus: () => area.focus(),
  };
}

function codeWidget(spec, ctx) {
  const area = h("textarea", { id: ctx.id, class: "input mono code-input", rows: 6, spellcheck: "false", "aria-describedby": ctx.describedBy, onInput: () => ctx.changed() });
  tabIndents(area);
  const badge = spec.language ? h("span", { class: "badge" }, spec.language) : null;
  return {
    el: h("div", { class: "control-stack" }, area, h("p", { class: "field-note" }, badge, " Tab types a tab; press Esc, then Tab, to move on.")),
    get: () => (area.value === "" ? emptyValue(spec, "") : area.value),
    set: (v) => {
      area.value = typeof v === "string" ? v : "";
    },
    focus: () => area.focus(),
  };
}

function markdownWidget(spec, ctx) {
  const area = h("textarea", { id: ctx.id, class: "input", rows: 4, "aria-describedby": ctx.describedBy, onInput: () => ctx.changed() });
  const view = h("div", { class: "md-preview prose", hidden: true });
  const toggle = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-pressed": "false" }, "Preview");
  toggle.addEventListener("click", async () => {
    const showing = toggle.getAttribute("aria-pressed") === "true";
    toggle.setAttribute("aria-pressed", showing ? "false" : "true");
    toggle.textContent = showing ? "Preview" : "Edit";
    area.hidden = !showing;
    view.hidden = showing;
    if (!showing) {
      const { renderMarkdownInto } = await import("./renderers.js");
      await renderMarkdownInto(view, area.value);
    }
  });
  return {
    el: h("div", { class: "control-stack" }, area, view, h("div", { class: "row-end" }, toggle)),
    get: () => (area.value === "" ? emptyValue(spec, "") : area.value),
    set: (v) => {
      area.value = typeof v === "string" ? v : "";
    },
    focus: () => area.focus(),
  };
}

function tagsWidget(spec, ctx) {
  let tags = [];
  const listId = uid("tags");
  const chips = h("span", { class: "chips" });
  const input = h("input", { id: ctx.id, class: "tag-input", type: "text", list: listId, placeholder: "Add a tag…", "aria-describedby": ctx.describedBy, autocomplete: "off" });
  const datalist = h("datalist", { id: listId }, (spec.suggestions || []).map((s) => h("option", { value: s })));
  const draw = () => {
    clear(chips);
    tags.forEach((t, i) =>
      chips.appendChild(
        h("span", { class: "chip" }, t, h("button", { type: "button", class: "chip-x", "aria-label": `Remove ${t}`, onClick: () => {
          tags.splice(i, 1);
          draw();
          ctx.changed();
          input.focus();
        } }, "×")),
      ),
    );
  };
  const commit = () => {
    const value = input.value.replace(/,$/, "").trim();
    if (value && !tags.includes(value)) tags.push(value);
    input.value = "";
    draw();
    ctx.changed();
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === ",") {
      e.preventDefault();
      commit();
    } else if (e.key === "Backspace" && input.value === "" && tags.length) {
      tags.pop();
      draw();
      ctx.changed();
    }
  });
  input.addEventListener("change", () => {
    if ((spec.suggestions || []).includes(input.value)) commit();
  });
  input.addEventListener("blur", () => input.value.trim() && commit());
  return {
    el: h("div", { class: "tags-box", onClick: (e) => e.target === e.currentTarget && input.focus() }, chips, input, datalist),
    get: () => (tags.length ? [...tags] : emptyValue(spec, [])),
    set: (v) => {
      tags = Array.isArray(v) ? v.map(String) : [];
      draw();
    },
    focus: () => input.focus(),
  };
}

function autocompleteWidget(spec, ctx) {
  const listId = uid("suggest");
  const input = h("input", {
    id: ctx.id,
    class: "input",
    type: "text",
    role: "combobox",
    autocomplete: "off",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listId,
    "aria-describedby": ctx.describedBy,
  });
  const list = h("ul", { id: listId, class: "suggestions", role: "listbox", hidden: true });
  let items = [];
  let active = -1;
  let timer = null;
  let unavailable = false;
  let asked = 0;
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const pick = (item) => {
    input.value = String(item.value);
    close();
    ctx.changed();
  };
  const draw = () => {
    clear(list);
    items.forEach((item, i) => {
      const li = h("li", { id: `${listId}-${i}`, role: "option", class: i === active ? "active" : null, "aria-selected": i === active ? "true" : "false" }, String(item.label ?? item.value));
      li.addEventListener("mousedown", (e) => {
        e.preventDefault();
        pick(item);
      });
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", items.length ? "true" : "false");
    if (active >= 0) input.setAttribute("aria-activedescendant", `${listId}-${active}`);
  };
  const lookup = async () => {
    if (unavailable || !ctx.toolId) return;
    const ticket = ++asked;
    const reply = await api(`/api/tools/${encodeURIComponent(ctx.toolId)}/autocomplete/${spec.endpoint}`, { query: { q: input.value } });
    if (ticket !== asked) return;
    if (!reply.ok) {
      // The host offers no suggestions for this tool: the field stays a plain text box.
      if (reply.status === 404 || reply.status === 405) unavailable = true;
      items = [];
    } else {
      items = (Array.isArray(reply.data) ? reply.data : []).map((x) => (typeof x === "string" ? { value: x, label: x } : x)).filter((x) => x && "value" in x);
    }
    active = -1;
    if (document.activeElement === input) draw();
  };
  input.addEventListener("input", () => {
    ctx.changed();
    window.clearTimeout(timer);
    timer = window.setTimeout(lookup, SUGGEST_DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      draw();
    } else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      pick(items[active]);
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", close);
  return {
    el: h("div", { class: "combo" }, input, list),
    get: () => (input.value === "" ? emptyValue(spec, "") : input.value),
    set: (v) => {
      input.value = v == null ? "" : String(v);
    },
    focus: () => input.focus(),
  };
}

function tableWidget(spec, ctx) {
  const body = h("tbody");
  const add = h("button", { type: "button", class: "btn btn-small" }, "+ Add row");
  const count = h("span", { class: "muted" });
  const cell = (column, value) => {
    const label = `${column.label}`;
    if (column.type === "boolean") {
      const box = h("input", { type: "checkbox", "aria-label": label, onChange: () => ctx.changed() });
      box.checked = value === true;
      box.dataset.kind = "boolean";
      return box;
    }
    const numeric = ["number", "currency", "percent"].includes(column.type);
    const input = h("input", {
      class: "cell-input",
      type: numeric ? "number" : column.type === "date" ? "date" : "text",
      step: numeric ? "any" : null,
      "aria-label": label,
      onInput: () => ctx.changed(),
    });
    input.value = value === null || value === undefined ? "" : String(value);
    input.dataset.kind = numeric ? "number" : "text";
    return input;
  };
  const refresh = () => {
    const n = body.rows.length;
    add.disabled = spec.max_rows != null && n >= spec.max_rows;
    const limits = [spec.min_rows != null ? `at least ${spec.min_rows}` : null, spec.max_rows != null ? `at most ${spec.max_rows}` : null].filter(Boolean);
    count.textContent = `${n} row${n === 1 ? "" : "s"}${limits.length ? ` (${limits.join(", ")})` : ""}`;
    [...body.rows].forEach((tr, i) => {
      const del = tr.querySelector("button");
      del.setAttribute("aria-label", `Delete row ${i + 1}`);
    });
  };
  const addRow = (row = {}) => {
    const tr = h("tr");
    for (const column of spec.columns) tr.appendChild(h("td", {}, cell(column, row[column.key])));
    const del = h("button", { type: "button", class: "btn-icon", onClick: () => {
      tr.remove();
      refresh();
      ctx.changed();
    } }, icon("x"));
    tr.appendChild(h("td", { class: "cell-action" }, del));
    body.appendChild(tr);
    refresh();
  };
  add.addEventListener("click", () => {
    addRow();
    ctx.changed();
    body.rows[body.rows.length - 1].querySelector("input").focus();
  });
  const table = h(
    "table",
    { class: "edit-table", "aria-labelledby": ctx.labelId, "aria-describedby": ctx.describedBy },
    h("thead", {}, h("tr", {}, spec.columns.map((c) => h("th", { scope: "col" }, c.label)), h("th", { class: "cell-action" }, h("span", { class: "visually-hidden" }, "Actions")))),
    body,
  );
  return {
    el: h("div", { class: "control-stack" }, h("div", { class: "table-scroll" }, table), h("div", { class: "row-between" }, count, add)),
    get: () =>
      [...body.rows].map((tr) => {
        const row = {};
        [...tr.querySelectorAll("input")].forEach((input, i) => {
          const key = spec.columns[i].key;
          if (input.dataset.kind === "boolean") row[key] = input.checked;
          else if (input.dataset.kind === "number") {
            if (input.validity.badInput) row[key] = "";
            else if (input.value !== "") row[key] = Number(input.value);
          } else if (input.value !== "") row[key] = input.value;
        });
        return row;
      }),
    set: (v) => {
      clear(body);
      for (const row of Array.isArray(v) ? v : []) addRow(row && typeof row === "object" ? row : {});
      refresh();
    },
    focus: () => (body.querySelector("input") || add).focus(),
  };
}

// --- maps ----------------------------------------------------------------------------------------------------

const fmt = (n) => (typeof n === "number" ? String(Math.round(n * 1e6) / 1e6) : "");
const num = (input) => (input.value === "" ? null : Number(input.value));

function mapFrame(spec, ctx, setup) {
  const frame = h("div", { class: "map map-input", role: "application", "aria-label": `${spec.label}: map (click to set; the fields below take typed coordinates)` });
  let map = null;
  const ready = createBaseMap(frame, { center: spec.default_center || [20, 0], zoom: spec.default_zoom ?? (spec.default_center ? 10 : 2) }).then((m) => {
    map = m;
    ctx.onDispose(() => m.pixieDispose());
    setup(m);
    return m;
  });
  return { frame, ready, getMap: () => map };
}

function coordInput(label, min, max) {
  return h("input", { class: "input input-small", type: "number", step: "any", min, max, "aria-label": label });
}

const dot = () => window.L.divIcon({ className: "map-pin", iconSize: [16, 16] });

function mapPointWidget(spec, ctx) {
  const lat = coordInput(`${spec.label}: latitude`, -90, 90);
  const lng = coordInput(`${spec.label}: longitude`, -180, 180);
  lat.id = ctx.id;
  let marker = null;
  const place = (m) => {
    const a = num(lat);
    const b = num(lng);
    if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b)) {
      if (marker) marker.remove();
      marker = null;
      return;
    }
    if (!marker) {
      marker = window.L.marker([a, b], { draggable: true, icon: dot(), keyboard: false }).addTo(m);
      marker.on("dragend", () => {
        const p = marker.getLatLng();
        lat.value = fmt(p.lat);
        lng.value = fmt(p.lng);
        ctx.changed();
      });
    } else marker.setLatLng([a, b]);
  };
  const { frame, getMap } = mapFrame(spec, ctx, (m) => {
    m.on("click", (e) => {
      lat.value = fmt(e.latlng.lat);
      lng.value = fmt(e.latlng.wrap().lng);
      place(m);
      ctx.changed();
    });
    place(m);
    if (marker) m.setView(marker.getLatLng(), m.getZoom());
  });
  for (const input of [lat, lng]) input.addEventListener("input", () => {
    if (getMap()) place(getMap());
    ctx.changed();
  });
  return {
    el: h("div", { class: "control-stack" }, frame, h("div", { class: "coords", "aria-describedby": ctx.describedBy }, h("label", {}, "Lat ", lat), h("label", {}, "Lng ", lng))),
    get: () => (lat.value === "" && lng.value === "" ? null : [num(lat), num(lng)]),
    set: (v) => {
      lat.value = Array.isArray(v) ? fmt(v[0]) : "";
      lng.value = Array.isArray(v) ? fmt(v[1]) : "";
      if (getMap()) place(getMap());
    },
    focus: () => lat.focus(),
  };
}

function mapBboxWidget(spec, ctx) {
  const [south, west, north, east] = [["south", -90, 90], ["west", -180, 180], ["north", -90, 90], ["east", -180, 180]].map(([n, a, b]) =>
    coordInput(`${spec.label}: ${n}`, a, b),
  );
  south.id = ctx.id;
  let rect = null;
  let corner = null;
  const draw = (m) => {
    const v = [south, west, north, east].map(num);
    if (v.some((x) => x === null || !Number.isFinite(x))) {
      if (rect) rect.remove();
      rect = null;
      return;
    }
    const bounds = [[v[0], v[1]], [v[2], v[3]]];
    if (!rect) rect = window.L.rectangle(bounds, { color: cssVar("--accent"), weight: 2, fillOpacity: 0.15 }).addTo(m);
    else rect.setBounds(bounds);
  };
  const { frame, getMap } = mapFrame(spec, ctx, (m) => {
    m.on("click", (e) => {
      const p = e.latlng.wrap();
      if (!corner) {
        corner = p;
        frame.dataset.hint = "Click the opposite corner";
        return;
      }
      south.value = fmt(Math.min(corner.lat, p.lat));
      north.value = fmt(Math.max(corner.lat, p.lat));
      west.value = fmt(Math.min(corner.lng, p.lng));
      east.value = fmt(Math.max(corner.lng, p.lng));
      corner = null;
      delete frame.dataset.hint;
      draw(m);
      ctx.changed();
    });
    draw(m);
    if (rect) m.fitBounds(rect.getBounds(), { padding: [16, 16] });
  });
  for (const input of [south, west, north, east]) input.addEventListener("input", () => {
    if (getMap()) draw(getMap());
    ctx.changed();
  });
  const labelled = (text, input) => h("label", {}, `${text} `, input);
  return {
    el: h("div", { class: "control-stack" }, frame, h("p", { class: "field-note" }, "Click two opposite corners, or type the edges."),
      h("div", { class: "coords", "aria-describedby": ctx.describedBy }, labelled("S", south), labelled("W", west), labelled("N", north), labelled("E", east))),
    get: () => {
      const v = [south, west, north, east].map(num);
      return v.every((x) => x === null) ? null : [[v[0], v[1]], [v[2], v[3]]];
    },
    set: (v) => {
      const ok = Array.isArray(v) && Array.isArray(v[0]) && Array.isArray(v[1]);
      south.value = ok ? fmt(v[0][0]) : "";
      west.value = ok ? fmt(v[0][1]) : "";
      north.value = ok ? fmt(v[1][0]) : "";
      east.value = ok ? fmt(v[1][1]) : "";
      if (getMap()) draw(getMap());
    },
    focus: () => south.focus(),
  };
}

function parsePoints(text) {
  const points = [];
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  for (let i = 0; i < lines.length; i += 1) {
    const parts = lines[i].split(/[\s,;]+/).filter(Boolean).map(Number);
    if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x))) return { error: `Line ${i + 1} is not \`lat, lng\`` };
    points.push(parts);
  }
  return { points };
}

function mapPointsWidget(spec, ctx, polygon) {
  const area = h("textarea", { id: ctx.id, class: "input mono", rows: 4, placeholder: "lat, lng — one point per line", "aria-describedby": ctx.describedBy, spellcheck: "false" });
  let layer = null;
  const draw = (m) => {
    const { points } = parsePoints(area.value);
    if (layer) layer.remove();
    layer = window.L.layerGroup().addTo(m);
    if (!points) return;
    if (polygon && points.length >= 2) window.L.polygon(points, { color: cssVar("--accent"), weight: 2, fillOpacity: 0.15 }).addTo(layer);
    points.forEach((p, i) => window.L.circleMarker(p, { radius: 6, color: cssVar("--accent"), fillOpacity: 0.9, weight: 2 }).bindTooltip(String(i + 1)).addTo(layer));
  };
  const { frame, getMap } = mapFrame(spec, ctx, (m) => {
    m.on("click", (e) => {
      const p = e.latlng.wrap();
      area.value = `${area.value.trim() ? `${area.value.trimEnd()}\n` : ""}${fmt(p.lat)}, ${fmt(p.lng)}`;
      draw(m);
      ctx.changed();
    });
    draw(m);
    const { points } = parsePoints(area.value);
    if (points && points.length) m.fitBounds(points, { padding: [24, 24], maxZoom: spec.default_zoom ?? 12 });
  });
  area.addEventListener("input", () => {
    if (getMap()) draw(getMap());
    ctx.changed();
  });
  const edit = (fn) => () => {
    fn();
    if (getMap()) draw(getMap());
    ctx.changed();
  };
  const undo = h("button", { type: "button", class: "btn btn-small btn-ghost", onClick: edit(() => {
    area.value = area.value.trim().split("\n").slice(0, -1).join("\n");
  }) }, "Undo last");
  const reset = h("button", { type: "button", class: "btn btn-small btn-ghost", onClick: edit(() => {
    area.value = "";
  }) }, "Clear");
  return {
    el: h("div", { class: "control-stack" }, frame, h("p", { class: "field-note" }, polygon ? "Click to add corners (3 or more), or type them." : "Click to add points, or type them."), area, h("div", { class: "row-end" }, undo, reset)),
    get: () => {
      const { points } = parsePoints(area.value);
      if (area.value.trim() === "") return emptyValue(spec, []);
      return points || null;
    },
    localProblem: () => parsePoints(area.value).error || null,
    set: (v) => {
      area.value = Array.isArray(v) ? v.filter(Array.isArray).map((p) => `${fmt(p[0])}, ${fmt(p[1])}`).join("\n") : "";
      if (getMap()) draw(getMap());
    },
    focus: () => area.focus(),
  };
}

const BUILDERS = {
  text: (s, c) => textWidget(s, c, false),
  textarea: (s, c) => textWidget(s, c, true),
  number: numberWidget,
  slider: sliderWidget,
  select: selectWidget,
  radio: radioWidget,
  multiselect: multiselectWidget,
  checkbox: checkboxWidget,
  toggle: toggleWidget,
  date: (s, c) => dateLike("date", s, c, { min: s.min || null, max: s.max || null }),
  time: (s, c) => dateLike("time", s, c, { step: typeof s.default === "string" && s.default.length > 5 ? 1 : null }),
  datetime: datetimeWidget,
  date_range: dateRangeWidget,
  file: fileWidget,
  image: fileWidget,
  audio: fileWidget,
  colour: colourWidget,
  json: jsonWidget,
  code: codeWidget,
  markdown: markdownWidget,
  tags: tagsWidget,
  autocomplete: autocompleteWidget,
  table: tableWidget,
  map_point: mapPointWidget,
  map_bbox: mapBboxWidget,
  map_polygon: (s, c) => mapPointsWidget(s, c, true),
  map_multipoint: (s, c) => mapPointsWidget(s, c, false),
};

/** The 28 input types this module draws (hidden inputs have no widget: they always send their default). */
export const WIDGET_TYPES = [...Object.keys(BUILDERS), "hidden"];

/** The widget for one input; unknown types fall back to a JSON editor, so a newer tool still runs. */
export function makeWidget(spec, ctx) {
  const build = BUILDERS[spec.type] || jsonWidget;
  const widget = build(spec, ctx);
  widget.set(spec.default);
  return widget;
}

/** Libraries a form with these inputs needs (loaded while the form is drawn). */
export function preloadFor(inputs) {
  if (inputs.some((i) => i.type.startsWith("map_"))) need("leaflet").catch(() => {});
}
