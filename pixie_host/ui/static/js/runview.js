// A run as a person sees it: status, elapsed time, queue place, progress, Cancel, the error with
// its stderr, and every output drawn (live while the run streams, final when it ends).

import { api, errorText, followEvents } from "./api.js";
import { clear, h, icon, link, toast, uid } from "./dom.js";
import { formatDuration } from "./format.js";
import { progressBar, renderOutput } from "./renderers.js";
import { presentation, unwrapScalar } from "./shapes.js";
import { applyValue } from "./stream.js";

/** How often a queued or running run's record is polled (queue place, running since...). */
const POLL_MS = 500;
/** How often the elapsed time is redrawn. */
const TICK_MS = 100;

export const STATUS_TEXT = {
  idle: "Ready",
  starting: "Starting",
  queued: "Queued",
  running: "Running",
  ok: "Done",
  error: "Failed",
  timeout: "Timed out",
  cancelled: "Cancelled",
  oom: "Out of memory",
  interrupted: "Interrupted",
};
const TERMINAL = new Set(["ok", "error", "timeout", "cancelled", "oom", "interrupted"]);

/** A status pill. */
export function statusBadge(status) {
  return h("span", { class: `status status-${status}`, "data-status": status }, h("span", { class: "status-dot", "aria-hidden": "true" }), STATUS_TEXT[status] || status);
}

/** The error of a run: the tool's detail, its code, and a "View stderr" disclosure when there is a tail. */
export function errorPanel(error, status) {
  if (!error) return null;
  const title = { timeout: "The run took too long", cancelled: "The run was cancelled", oom: "The tool ran out of memory", interrupted: "The run was interrupted" }[status] || "The run failed";
  const detail = error.detail;
  const body = Array.isArray(detail)
    ? h("ul", { class: "problems" }, detail.map((d) => h("li", {}, d && typeof d === "object" ? `${(d.loc || []).slice(2).join(".") || "inputs"}: ${d.msg}` : String(d))))
    : h("p", { class: "error-detail" }, typeof detail === "string" ? detail : JSON.stringify(detail));
  const tail = typeof error.stderr_tail === "string" && error.stderr_tail.trim() ? error.stderr_tail : null;
  return h(
    "div",
    { class: `run-error${status === "cancelled" ? " soft" : ""}`, role: "alert", "data-code": error.code || "" },
    h("div", { class: "run-error-head" }, h("strong", {}, title), error.code ? h("span", { class: "badge mono" }, error.code) : null, error.status_code ? h("span", { class: "muted" }, `HTTP ${error.status_code}`) : null),
    body,
    tail ? h("details", { class: "stderr" }, h("summary", {}, "View stderr"), h("pre", { class: "mono" }, tail)) : null,
  );
}

/**
 * The outputs of a tool as cards (panel, inline, or one tab strip for the `tab` outputs).
 * Returns {el, set(key, value, state), mark(key, state, note), keys}.
 */
export function outputGrid(outputs, rctx) {
  const el = h("div", { class: "outputs" });
  const cards = new Map();
  let tabs = null;
  let inlineRow = null;
  const addTab = (spec, section) => {
    if (!tabs) {
      const list = h("div", { class: "tablist", role: "tablist", "aria-label": "Outputs" });
      tabs = { list, panels: h("div", { class: "tabpanels" }), buttons: [] };
      el.appendChild(h("div", { class: "output-tabs card" }, list, tabs.panels));
      list.addEventListener("keydown", (e) => {
        const i = tabs.buttons.indexOf(document.activeElement);
        if (i < 0 || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
        e.preventDefault();
        const n = tabs.buttons.length;
        const next = e.key === "Home" ? 0 : e.key === "End" ? n - 1 : (i + (e.key === "ArrowRight" ? 1 : -1) + n) % n;
        tabs.buttons[next].click();
        tabs.buttons[next].focus();
      });
    }
    const id = uid("tab");
    const button = h("button", { type: "button", role: "tab", id, class: "tab", "aria-controls": `${id}-panel`, "aria-selected": "false", tabindex: "-1" }, spec.label);
    section.setAttribute("role", "tabpanel");
    section.id = `${id}-panel`;
    section.setAttribute("aria-labelledby", id);
    section.hidden = true;
    button.addEventListener("click", () => {
      for (const b of tabs.buttons) {
        const on = b === button;
        b.setAttribute("aria-selected", on ? "true" : "false");
        b.tabIndex = on ? 0 : -1;
        document.getElementById(b.getAttribute("aria-controls")).hidden = !on;
      }
    });
    tabs.buttons.push(button);
    tabs.list.appendChild(button);
    tabs.panels.appendChild(section);
    if (tabs.buttons.length === 1) button.click();
  };
  for (const spec of outputs) {
    const body = h("div", { class: "output-body" });
    const note = h("p", { class: "output-note", hidden: true });
    const caption = h("p", { class: "caption", hidden: true });
    const header = h("header", { class: "output-head" }, h("h3", {}, spec.label), h("span", { class: "type-chip" }, spec.type.replace(/_/g, " ")));
    const section = h("section", { class: ["output", spec.layout === "inline" ? "inline" : "card"], dataset: { key: spec.key, type: spec.type, state: "pending" }, "aria-label": spec.label },
      spec.layout === "tab" ? null : header,
      spec.description ? h("p", { class: "help" }, spec.description) : null,
      note,
      body,
      caption);
    if (spec.layout === "tab") {
      inlineRow = null;
      addTab(spec, section);
    } else if (spec.layout === "inline") {
      if (!inlineRow) {
        inlineRow = h("div", { class: "inline-row" });
        el.appendChild(inlineRow);
      }
      inlineRow.appendChild(section);
    } else {
      inlineRow = null;
      el.appendChild(section);
    }
    cards.set(spec.key, { spec, section, body, note, caption, drawn: null });
  }
  const mark = (key, state, message) => {
    const card = cards.get(key);
    if (!card) return;
    card.section.dataset.state = state;
    card.note.hidden = !message;
    card.note.textContent = message || "";
    if (state === "missing" || state === "none") {
      clear(card.body);
      card.drawn = null;
    }
  };
  const set = (key, value, state) => {
    const card = cards.get(key);
    if (!card) return;
    card.section.dataset.state = state;
    card.note.hidden = true;
    try {
      if (card.drawn && card.drawn.update) card.drawn.update(value);
      else {
        clear(card.body);
        card.drawn = renderOutput(card.spec, value, rctx);
        card.body.appendChild(card.drawn.el);
      }
    } catch (err) {
      clear(card.body).appendChild(h("p", { class: "out-problem" }, `Could not draw this value: ${err.message}`));
      card.drawn = null;
    }
    const cap = presentation(card.spec, value).caption;
    card.caption.hidden = !cap;
    card.caption.textContent = cap ? String(cap) : "";
  };
  return { el, set, mark, keys: [...cards.keys()] };
}

/**
 * The live view of one run. Options: tool (with .manifest), rctx ({onDispose}), compact,
 * onFinished(record). Returns {el, follow(runId), show(record), reset()}.
 */
export function runView(tool, { rctx, onFinished, showLink = true } = {}) {
  const manifest = tool.manifest;
  const types = Object.fromEntries(manifest.outputs.map((o) => [o.key, o.type]));
  const progressKey = (manifest.outputs.find((o) => o.type === "progress") || {}).key;
  const badge = h("span", { class: "run-badge" });
  const elapsed = h("span", { class: "elapsed mono", "aria-label": "Elapsed time" });
  const queueNote = h("span", { class: "queue-note", hidden: true });
  const runLink = h("span", { class: "run-link" });
  const cancel = h("button", { type: "button", class: "btn btn-danger btn-small", hidden: true, "data-action": "cancel" }, icon("stop"), "Cancel");
  const bar = progressBar();
  bar.el.hidden = true;
  const status = h("div", { class: "run-status", "data-status": "idle", "aria-live": "polite" }, badge, elapsed, queueNote, h("span", { class: "spacer" }), runLink, cancel);
  const errorSlot = h("div", { class: "error-slot" });
  const outputsSlot = h("div", { class: "outputs-slot" });
  const el = h("div", { class: "run-view" }, status, bar.el, errorSlot, outputsSlot);
  let grid = null;
  let current = null;
  let stop = null;
  let timers = [];
  let values = {};
  let startedAt = null;
  let finished = false;

  const setStatus = (name) => {
    status.dataset.status = name;
    clear(badge).appendChild(statusBadge(name));
    el.dataset.status = name;
  };
  const stopTimers = () => {
    timers.forEach((t) => window.clearInterval(t));
    timers = [];
    if (stop) stop();
    stop = null;
  };
  rctx.onDispose(stopTimers);

  const freshGrid = (state) => {
    grid = outputGrid(manifest.outputs, { ...rctx, runId: current });
    clear(outputsSlot).appendChild(grid.el);
    for (const key of grid.keys) grid.mark(key, state, state === "pending" ? "Waiting for the tool…" : null);
  };

  const empty = () => {
    clear(outputsSlot).appendChild(h("div", { class: "empty-state" }, h("p", {}, "Fill in the form and press ", h("strong", {}, "Run"), " to see the outputs here.")));
  };

  const finish = (record) => {
    if (finished) return;
    finished = true;
    stopTimers();
    const st = record.status;
    setStatus(st);
    cancel.hidden = true;
    queueNote.hidden = true;
    bar.el.hidden = true;
    if (typeof record.duration_ms === "number") elapsed.textContent = formatDuration(record.duration_ms);
    clear(errorSlot);
    const panel = errorPanel(record.error, st);
    if (panel) errorSlot.appendChild(panel);
    if (!grid) freshGrid("pending");
    const outputs = record.outputs && typeof record.outputs === "object" ? record.outputs : null;
    for (const spec of manifest.outputs) {
      if (outputs && spec.key in outputs) grid.set(spec.key, outputs[spec.key], "ready");
      else if (st === "ok") grid.mark(spec.key, "missing", "Missing: the tool's reply did not include this output.");
      else if (spec.key in values) grid.set(spec.key, values[spec.key], "partial");
      else grid.mark(spec.key, "none", "No value: the run ended before this output was produced.");
    }
    if (onFinished) onFinished(record);
  };

  const poll = async () => {
    if (finished || !current) return;
    const reply = await api(`/api/runs/${encodeURIComponent(current)}`);
    if (!reply.ok || finished) return;
    const record = reply.data;
    if (record.status === "queued") {
      setStatus("queued");
      queueNote.hidden = false;
      queueNote.textContent = record.queue_position ? `Place in queue: ${record.queue_position}` : "Waiting to start";
    } else if (record.status === "running") {
      setStatus("running");
      queueNote.hidden = true;
      if (record.started_at) startedAt = record.started_at * 1000;
    } else if (TERMINAL.has(record.status) && !stop) {
      finish(record);
    }
  };

  const onEvent = (event) => {
    const key = event.output_key;
    if (!(key in types)) return;
    values[key] = applyValue(types[key], values[key], event.value);
    if (status.dataset.status !== "running") setStatus("running");
    grid.set(key, values[key], "streaming");
    if (key === progressKey) {
      const [raw, rest] = unwrapScalar(values[key]);
      bar.el.hidden = false;
      bar.set(raw, typeof rest.label === "string" ? rest.label : null);
    }
  };

  const follow = (runId, { started } = {}) => {
    stopTimers();
    current = runId;
    finished = false;
    values = {};
    startedAt = started || Date.now();
    clear(errorSlot);
    setStatus("starting");
    cancel.hidden = false;
    cancel.disabled = false;
    cancel.textContent = "";
    cancel.append(icon("stop"), "Cancel");
    bar.el.hidden = !progressKey;
    bar.set(null, "Working…");
    clear(runLink);
    if (showLink) runLink.appendChild(link(`/runs/${encodeURIComponent(runId)}`, { class: "muted" }, "Run page"));
    freshGrid("pending");
    timers.push(window.setInterval(() => {
      if (!finished) elapsed.textContent = formatDuration(Date.now() - startedAt);
    }, TICK_MS));
    timers.push(window.setInterval(poll, POLL_MS));
    poll();
    stop = followEvents(runId, {
      onOpen: () => {
        // Every connection replays the run from its first event: start from nothing again.
        values = {};
      },
      onEvent,
      onDone: async (event) => {
        stop = null;
        const reply = await api(`/api/runs/${encodeURIComponent(runId)}`);
        const record = reply.ok && TERMINAL.has(reply.data.status) ? reply.data : { status: event.status, outputs: event.outputs, error: event.error, duration_ms: Date.now() - startedAt };
        if (!record.error && event.error) record.error = event.error;
        finish(record);
      },
      onError: () => {
        stop = null; // the stream is gone: the record poll takes over and finishes the run
      },
    });
  };

  cancel.addEventListener("click", async () => {
    if (!current) return;
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    const reply = await api(`/api/runs/${encodeURIComponent(current)}/cancel`, { method: "POST" });
    if (!reply.ok && reply.status !== 409) toast(`Cancel failed: ${errorText(reply.data)}`, "error");
  });

  const show = (record) => {
    stopTimers();
    current = record.id;
    finished = false;
    values = {};
    grid = null;
    clear(runLink);
    if (TERMINAL.has(record.status)) {
      freshGrid("pending");
      finish(record);
    } else {
      follow(record.id, { started: record.started_at ? record.started_at * 1000 : record.queued_at * 1000 });
    }
  };

  const reset = () => {
    stopTimers();
    current = null;
    setStatus("idle");
    elapsed.textContent = "";
    cancel.hidden = true;
    queueNote.hidden = true;
    bar.el.hidden = true;
    clear(errorSlot);
    clear(runLink);
    grid = null;
    empty();
  };
  reset();
  return { el, follow, show, reset, get runId() {
    return current;
  } };
}
