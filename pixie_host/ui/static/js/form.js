// The input form: fields in manifest order, grouped, shown or hidden by show_if, checked on the client
// with the server's messages, and filled from defaults or from a past run's inputs.

import { clear, h, uid } from "./dom.js";
import { validateInputs, visibleInputs } from "./validate.js";
import { makeWidget, preloadFor } from "./widgets.js";

/**
 * Build a form for `manifest` into a new element. Options: toolId, onSubmit(values), onDispose(fn),
 * submitLabel, compact. Returns {el, values(), setValues(v), reset(), check() -> problems, showProblems(list)}.
 */
export function buildForm(manifest, { toolId, onSubmit, onDispose, submitLabel = "Run", compact = false } = {}) {
  const inputs = manifest.inputs || [];
  preloadFor(inputs);
  const fields = new Map();
  const form = h("form", { class: ["run-form", compact && "compact"], novalidate: true, "aria-label": `${manifest.name} inputs` });

  const changed = () => {
    applyVisibility();
    for (const field of fields.values()) if (field.touched) field.showError(null);
  };

  let group = null;
  let groupName = null;
  for (const spec of inputs) {
    if (spec.type === "hidden") continue;
    const id = uid("in");
    const labelId = `${id}-label`;
    const helpId = spec.description ? `${id}-help` : null;
    const errorId = `${id}-error`;
    const ctx = { id, labelId, toolId, describedBy: [helpId, errorId].filter(Boolean).join(" "), changed: () => {
      field.touched = true;
      changed();
    }, onDispose: onDispose || (() => {}) };
    const widget = makeWidget(spec, ctx);
    const error = h("p", { class: "field-error", id: errorId, hidden: true });
    const label = widget.inlineLabel
      ? h("span", { class: "field-label visually-hidden", id: labelId }, spec.label)
      : h("label", { class: "field-label", id: labelId, for: id }, spec.label, spec.required !== false && spec.default == null ? h("span", { class: "req", "aria-label": "required" }, " *") : null);
    const el = h(
      "div",
      { class: "field", dataset: { key: spec.key, type: spec.type } },
      label,
      widget.el,
      spec.description ? h("p", { class: "help", id: helpId }, spec.description) : null,
      error,
    );
    const field = {
      spec,
      widget,
      el,
      touched: false,
      showError(message) {
        error.hidden = !message;
        error.textContent = message || "";
        el.classList.toggle("invalid", Boolean(message));
      },
    };
    fields.set(spec.key, field);
    if (spec.group) {
      if (spec.group !== groupName) {
        group = h("fieldset", { class: "group" }, h("legend", {}, spec.group));
        form.appendChild(group);
        groupName = spec.group;
      }
      group.appendChild(el);
    } else {
      group = null;
      groupName = null;
      form.appendChild(el);
    }
  }
  if (!fields.size) form.appendChild(h("p", { class: "muted" }, "This tool takes no inputs."));

  const raw = () => {
    const out = {};
    for (const [key, field] of fields) out[key] = field.widget.get();
    return out;
  };

  function applyVisibility() {
    const visible = visibleInputs(inputs, raw());
    for (const [key, field] of fields) field.el.hidden = !visible.has(key);
    for (const fs of form.querySelectorAll("fieldset.group")) fs.hidden = ![...fs.querySelectorAll(".field")].some((f) => !f.hidden);
  }

  /** The values sent: visible inputs that have a value (a missing key takes its default on the server). */
  const values = () => {
    const current = raw();
    const visible = visibleInputs(inputs, current);
    const out = {};
    for (const [key, value] of Object.entries(current)) if (visible.has(key) && value !== null && value !== undefined) out[key] = value;
    return out;
  };

  const showProblems = (problems) => {
    for (const field of fields.values()) field.showError(null);
    const unplaced = [];
    let first = null;
    for (const p of problems) {
      const key = Array.isArray(p.loc) ? p.loc[2] : null;
      const field = fields.get(key);
      if (!field) {
        unplaced.push(p);
        continue;
      }
      const where = p.loc.slice(3);
      const text = where.length ? `${where.map((w) => (typeof w === "number" ? `[${w}]` : w)).join("")}: ${p.msg}` : p.msg;
      if (!field.el.classList.contains("invalid")) field.showError(text);
      field.touched = false;
      first = first || field;
    }
    if (first) {
      first.el.scrollIntoView({ block: "center", behavior: "smooth" });
      first.widget.focus();
    }
    return unplaced;
  };

  const check = () => {
    const local = [];
    const visible = visibleInputs(inputs, raw());
    for (const [key, field] of fields) {
      const message = visible.has(key) && field.widget.localProblem ? field.widget.localProblem() : null;
      if (message) local.push({ loc: ["body", "inputs", key], msg: message, type: "client" });
    }
    const flagged = new Set(local.map((p) => p.loc[2]));
    return [...local, ...validateInputs(inputs, values()).filter((p) => !flagged.has(p.loc[2]))];
  };

  const setValues = (given) => {
    for (const [key, field] of fields) {
      const value = given && key in given ? given[key] : field.spec.default;
      field.widget.set(value === undefined ? null : value);
      field.showError(null);
    }
    applyVisibility();
  };

  const actions = h("div", { class: "form-actions" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", "data-action": "run" }, submitLabel);
  const reset = h("button", { type: "button", class: "btn btn-ghost", onClick: () => setValues(null) }, "Reset");
  actions.append(submit, reset, h("span", { class: "kbd-hint" }, h("kbd", {}, "Ctrl"), "+", h("kbd", {}, "Enter")));
  form.appendChild(actions);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const problems = check();
    if (problems.length) {
      showProblems(problems);
      return;
    }
    onSubmit && onSubmit(values());
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  applyVisibility();
  return {
    el: form,
    values,
    setValues,
    reset: () => setValues(null),
    check,
    showProblems,
    setBusy(busy) {
      submit.disabled = busy;
      submit.textContent = busy ? "Running…" : submitLabel;
    },
    clearErrors: () => showProblems([]),
    destroy: () => clear(form),
  };
}
