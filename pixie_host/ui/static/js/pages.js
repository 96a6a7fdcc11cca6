// The four pages: the tool list, a tool (form and outputs, or the chat / split layouts), the run
// history, and one run. Each page is page(main, params, query, pctx) with pctx.onDispose(fn).

import { api, errorText } from "./api.js";
import { clear, h, icon, link, navigate, toast, uid } from "./dom.js";
import { brief, formatDuration, formatTime, relativeTime } from "./format.js";
import { buildForm } from "./form.js";
import { errorPanel, runView, STATUS_TEXT, statusBadge } from "./runview.js";

/** The history page re-reads the list this often while a run in it is queued or running. */
const HISTORY_REFRESH_MS = 1500;
/** Runs per history page. */
const HISTORY_PAGE = 50;
/** Split layout: the form's share of the width, at most and at least (percent). */
const SPLIT_RANGE = [25, 75];
const RUN_STATUSES = ["queued", "running", "ok", "error", "timeout", "cancelled", "oom", "interrupted"];

const STATE_TEXT = { cold: "Not running", starting: "Starting", ready: "Ready", busy: "Busy", stopping: "Stopping", crashed: "Crashed" };

function stateDot(state, reason) {
  return h("span", { class: `state state-${state}`, title: reason || STATE_TEXT[state] || state, "data-state": state }, h("span", { class: "state-dot", "aria-hidden": "true" }), STATE_TEXT[state] || state);
}

function validationLine(v) {
  if (!v) return h("span", { class: "validation muted", "data-validation": "none" }, "Not validated yet");
  const s = v.summary || {};
  const scope = s.scope ? ` (${s.scope})` : "";
  if (!v.ok) {
    const failed = Array.isArray(s.failed) && s.failed.length ? `: ${s.failed.join(", ")}` : s.error ? `: ${s.error}` : "";
    return h("span", { class: "validation bad", "data-validation": "fail", title: formatTime(v.ts) }, `✗ Validation failed${scope}${failed} · ${relativeTime(v.ts)}`);
  }
  const warned = Array.isArray(s.warned) && s.warned.length ? `, ${s.warned.length} warning${s.warned.length === 1 ? "" : "s"}` : "";
  return h("span", { class: "validation good", "data-validation": "pass", title: formatTime(v.ts) }, `✓ Validation passed${scope}${warned} · ${relativeTime(v.ts)}`);
}

function tagChips(tags) {
  return (tags || []).length ? h("span", { class: "tags" }, tags.map((t) => h("span", { class: "tag" }, t))) : null;
}

function pageHeader(title, ...rest) {
  return h("header", { class: "page-head" }, h("h1", {}, title), ...rest);
}

function failure(main, reply, what) {
  clear(main).appendChild(h("div", { class: "page" }, pageHeader(what), errorPanel({ detail: errorText(reply.data), code: reply.data && reply.data.code }, "error")));
}

// --- the tool list -------------------------------------------------------------------------------------------

export async function toolList(main, _params, query) {
  document.title = "Tools · Pixie";
  const reply = await api("/api/tools");
  if (!reply.ok) return failure(main, reply, "Tools");
  const tools = reply.data;
  const details = await Promise.all(tools.map((t) => api(`/api/tools/${encodeURIComponent(t.id)}`)));
  const filter = h("input", { type: "search", class: "input", placeholder: "Filter tools…  ( / )", "aria-label": "Filter tools", "data-shortcut": "/", value: query.get("q") || "" });
  const grid = h("ul", { class: "tool-grid" });
  const count = h("p", { class: "muted" });
  const cards = tools.map((t, i) => {
    const d = details[i].ok ? details[i].data : t;
    const card = h(
      "li",
      { class: "tool-card card", "data-tool": t.id },
      h("div", { class: "tool-card-head" }, h("h2", {}, link(`/tools/${encodeURIComponent(t.id)}`, { class: "stretched" }, t.name)), stateDot(t.state, t.reason)),
      t.description ? h("p", { class: "tool-desc" }, t.description) : null,
      h("div", { class: "tool-meta" }, t.category ? h("span", { class: "category" }, t.category.split("/").join(" › ")) : null, tagChips(t.tags)),
      t.error ? h("p", { class: "out-problem" }, t.error) : validationLine(d.last_validation),
    );
    return { card, text: `${t.name} ${t.id} ${t.category || ""} ${(t.tags || []).join(" ")} ${t.description || ""}`.toLowerCase() };
  });
  cards.sort((a, b) => a.card.dataset.tool.localeCompare(b.card.dataset.tool));
  const apply = () => {
    const q = filter.value.trim().toLowerCase();
    clear(grid);
    const shown = cards.filter((c) => !q || c.text.includes(q));
    shown.forEach((c) => grid.appendChild(c.card));
    count.textContent = `${shown.length} of ${cards.length} tool${cards.length === 1 ? "" : "s"}`;
    if (!shown.length) grid.appendChild(h("li", { class: "empty-state" }, cards.length ? "No tool matches the filter." : "This host serves no tools."));
  };
  filter.addEventListener("input", apply);
  apply();
  clear(main).appendChild(h("div", { class: "page" }, pageHeader("Tools", h("div", { class: "head-tools" }, filter, count)), grid));
}

/** `/`: the list, or straight to the tool when the host serves just one (`pixie run ./mytool`). */
export async function home(main, params, query, pctx) {
  const reply = await api("/api/tools");
  if (reply.ok && reply.data.length === 1) {
    navigate(`/tools/${encodeURIComponent(reply.data[0].id)}`, { replace: true });
    return;
  }
  return toolList(main, params, query, pctx);
}

// --- a tool --------------------------------------------------------------------------------------------------

function logsDisclosure(toolId) {
  const pre = h("pre", { class: "mono logs" }, "Loading…");
  const details = h("details", { class: "tool-logs" }, h("summary", {}, "Process output"), pre);
  details.addEventListener("toggle", async () => {
    if (!details.open) return;
    const reply = await api(`/api/tools/${encodeURIComponent(toolId)}/logs`);
    pre.textContent = reply.ok ? reply.data.text || "(nothing yet)" : errorText(reply.data);
  });
  return details;
}

async function startRun(toolId, inputs) {
  return api(`/api/tools/${encodeURIComponent(toolId)}/runs`, { method: "POST", body: { inputs }, query: { background: "true", source: "ui" } });
}

function inputSummary(manifest, inputs) {
  const specs = new Map((manifest ? manifest.inputs : []).map((i) => [i.key, i]));
  const entries = Object.entries(inputs || {});
  if (!entries.length) return h("p", { class: "muted" }, "No inputs given (defaults used).");
  return h("dl", { class: "kv kv-compact" }, entries.map(([k, v]) => [h("dt", {}, (specs.get(k) || {}).label || k), h("dd", {}, brief(v, 160))]));
}

export async function toolPage(main, params, query, pctx) {
  const toolId = params[0];
  const reply = await api(`/api/tools/${encodeURIComponent(toolId)}`);
  if (!reply.ok) return failure(main, reply, toolId);
  const tool = reply.data;
  document.title = `${tool.name} · Pixie`;
  let dot = stateDot(tool.state, tool.reason);
  const refreshState = async () => {
    const r = await api(`/api/tools/${encodeURIComponent(toolId)}`);
    if (!r.ok) return;
    const fresh = stateDot(r.data.state, r.data.reason);
    dot.replaceWith(fresh);
    dot = fresh;
  };
  const head = h(
    "header",
    { class: "page-head tool-head" },
    h("div", { class: "crumbs" }, link("/tools", {}, "Tools"), tool.category ? h("span", { class: "muted" }, ` › ${tool.category.split("/").join(" › ")}`) : null),
    h("div", { class: "title-row" }, h("h1", {}, tool.name), dot),
    tool.description ? h("p", { class: "lead" }, tool.description) : null,
    h("div", { class: "tool-meta" },
      tool.manifest && tool.manifest.version ? h("span", { class: "muted" }, `v${tool.manifest.version}`) : null,
      tagChips(tool.tags),
      validationLine(tool.last_validation),
      link(`/runs?tool=${encodeURIComponent(toolId)}`, { class: "btn btn-small btn-ghost" }, icon("clock"), "History")),
    logsDisclosure(toolId),
  );
  if (!tool.manifest) {
    clear(main).appendChild(h("div", { class: "page" }, head, errorPanel({ detail: tool.error || "the tool cannot be loaded", code: "tool_invalid", stderr_tail: tool.stderr_tail }, "error")));
    return;
  }
  const manifest = tool.manifest;
  const layout = manifest.layout || "form";
  const refusal = h("div", { class: "refusal-slot" });
  let form = null;
  let view = null;

  const submit = async (inputs, target) => {
    clear(refusal);
    form.setBusy(true);
    const started = Date.now();
    const r = await startRun(toolId, inputs);
    form.setBusy(false);
    if (r.status === 202) {
      target.follow(r.data.id, { started });
      if (layout !== "chat") window.history.replaceState({}, "", `${window.location.pathname}?run=${encodeURIComponent(r.data.id)}`);
      return true;
    }
    if (r.status === 422 && r.data && Array.isArray(r.data.detail)) {
      const unplaced = form.showProblems(r.data.detail);
      if (unplaced.length) refusal.appendChild(errorPanel({ detail: unplaced, code: r.data.code }, "error"));
      return false;
    }
    refusal.appendChild(errorPanel({ detail: errorText(r.data), code: r.data && r.data.code, status_code: r.status }, "error"));
    return false;
  };

  const rctx = { onDispose: pctx.onDispose };
  if (layout === "chat") {
    const transcript = h("ol", { class: "chat-log", "aria-label": "Conversation", "aria-live": "polite" });
    const welcome = h("li", { class: "empty-state" }, "Send the form below to start.");
    transcript.appendChild(welcome);
    form = buildForm(manifest, {
      toolId,
      onDispose: pctx.onDispose,
      compact: true,
      submitLabel: "Send",
      onSubmit: async (inputs) => {
        const exchange = runView(tool, { rctx, onFinished: refreshState });
        const item = h("li", { class: "chat-turn" }, h("div", { class: "bubble bubble-user" }, h("span", { class: "who" }, "You"), inputSummary(manifest, inputs)), h("div", { class: "bubble bubble-tool" }, h("span", { class: "who" }, tool.name), exchange.el));
        welcome.remove();
        if (await submit(inputs, exchange)) {
          transcript.appendChild(item);
          item.scrollIntoView({ block: "end", behavior: "smooth" });
        }
      },
    });
    clear(main).appendChild(h("div", { class: "page page-wide" }, head, h("div", { class: "layout-chat", "data-layout": "chat" }, transcript, h("div", { class: "composer card" }, refusal, form.el))));
  } else {
    view = runView(tool, { rctx, onFinished: refreshState });
    form = buildForm(manifest, { toolId, onDispose: pctx.onDispose, onSubmit: (inputs) => submit(inputs, view) });
    const formPane = h("section", { class: "pane pane-form card", "aria-label": "Inputs" }, h("h2", { class: "pane-title" }, "Inputs"), refusal, form.el);
    const outPane = h("section", { class: "pane pane-out", "aria-label": "Outputs" }, h("h2", { class: "pane-title" }, "Outputs"), view.el);
    let body;
    if (layout === "split") {
      const divider = h("div", { class: "split-divider", role: "separator", tabindex: "0", "aria-orientation": "vertical", "aria-label": "Resize the inputs and outputs", "aria-valuemin": SPLIT_RANGE[0], "aria-valuemax": SPLIT_RANGE[1] });
      body = h("div", { class: "layout-split", "data-layout": "split" }, formPane, divider, outPane);
      const setShare = (p) => {
        const share = Math.max(SPLIT_RANGE[0], Math.min(SPLIT_RANGE[1], p));
        body.style.setProperty("--split", `${share}%`);
        divider.setAttribute("aria-valuenow", String(Math.round(share)));
      };
      setShare(50);
      divider.addEventListener("keydown", (e) => {
        const now = Number(divider.getAttribute("aria-valuenow"));
        if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
          e.preventDefault();
          setShare(now + (e.key === "ArrowRight" ? 5 : -5));
        }
      });
      divider.addEventListener("pointerdown", (e) => {
        divider.setPointerCapture(e.pointerId);
        const move = (ev) => {
          const box = body.getBoundingClientRect();
          setShare(((ev.clientX - box.left) / box.width) * 100);
        };
        divider.addEventListener("pointermove", move);
        divider.addEventListener("pointerup", () => divider.removeEventListener("pointermove", move), { once: true });
      });
    } else {
      body = h("div", { class: "layout-form", "data-layout": "form" }, formPane, outPane);
    }
    clear(main).appendChild(h("div", { class: "page page-wide" }, head, body));
  }

  const from = query.get("from");
  const shown = query.get("run");
  if (from || shown) {
    const past = await api(`/api/runs/${encodeURIComponent(from || shown)}`);
    if (past.ok && past.data.tool_id === toolId) {
      form.setValues(past.data.inputs);
      if (shown && view) view.show(past.data);
      if (from) toast("The form holds that run's inputs");
    }
  }
}

// --- history -------------------------------------------------------------------------------------------------

async function rerun(runId) {
  const past = await api(`/api/runs/${encodeURIComponent(runId)}`);
  if (!past.ok) {
    toast(errorText(past.data), "error");
    return;
  }
  const r = await startRun(past.data.tool_id, past.data.inputs || {});
  if (r.status === 202) navigate(`/runs/${encodeURIComponent(r.data.id)}`);
  else toast(`Re-run refused: ${errorText(r.data)}`, "error");
}

function starButton(run, onChange) {
  const button = h("button", { type: "button", class: ["btn-icon star", run.starred && "on"], "aria-pressed": run.starred ? "true" : "false", "aria-label": run.starred ? "Unstar this run" : "Star this run", "data-action": "star" }, icon("star"));
  button.addEventListener("click", async () => {
    const next = button.getAttribute("aria-pressed") !== "true";
    const r = await api(`/api/runs/${encodeURIComponent(run.id)}/star`, { method: "POST", query: { starred: String(next) } });
    if (!r.ok) {
      toast(errorText(r.data), "error");
      return;
    }
    button.setAttribute("aria-pressed", next ? "true" : "false");
    button.setAttribute("aria-label", next ? "Unstar this run" : "Star this run");
    button.classList.toggle("on", next);
    run.starred = next;
    if (onChange) onChange(next);
  });
  return button;
}

export async function history(main, _params, query, pctx) {
  document.title = "History · Pixie";
  const toolsReply = await api("/api/tools");
  const tools = toolsReply.ok ? toolsReply.data : [];
  const names = new Map(tools.map((t) => [t.id, t.name]));
  const toolSelect = h("select", { class: "input", "aria-label": "Tool" }, h("option", { value: "" }, "All tools"), tools.map((t) => h("option", { value: t.id }, t.name)));
  const statusSelect = h("select", { class: "input", "aria-label": "Status" }, h("option", { value: "" }, "Any status"), RUN_STATUSES.map((s) => h("option", { value: s }, STATUS_TEXT[s])));
  const starred = h("input", { type: "checkbox", id: uid("starred") });
  toolSelect.value = query.get("tool") || "";
  statusSelect.value = query.get("status") || "";
  starred.checked = query.get("starred") === "true";
  const body = h("tbody");
  const more = h("button", { type: "button", class: "btn btn-ghost", hidden: true }, "Older runs");
  const summary = h("p", { class: "muted", "aria-live": "polite" });
  let runs = [];
  let timer = null;
  pctx.onDispose(() => window.clearTimeout(timer));

  const row = (run) =>
    h("tr", { "data-run": run.id, "data-status": run.status },
      h("td", {}, starButton(run, () => starred.checked && load())),
      h("td", {}, statusBadge(run.status)),
      h("td", {}, link(`/tools/${encodeURIComponent(run.tool_id)}`, {}, names.get(run.tool_id) || run.tool_id)),
      h("td", { title: formatTime(run.queued_at) }, relativeTime(run.queued_at)),
      h("td", { class: "num" }, typeof run.duration_ms === "number" ? formatDuration(run.duration_ms) : "–"),
      h("td", {}, h("span", { class: "badge" }, run.source)),
      h("td", { class: "error-cell" }, run.error ? brief(typeof run.error.detail === "string" ? run.error.detail : errorText(run.error), 90) : ""),
      h("td", {}, h("div", { class: "row-actions" },
        link(`/runs/${encodeURIComponent(run.id)}`, { class: "btn btn-small", "data-action": "open" }, "Open"),
        h("button", { type: "button", class: "btn btn-small btn-ghost", "data-action": "rerun", onClick: () => rerun(run.id) }, icon("redo"), "Re-run"),
        link(`/tools/${encodeURIComponent(run.tool_id)}?from=${encodeURIComponent(run.id)}`, { class: "btn btn-small btn-ghost", "data-action": "edit" }, icon("edit"), "Edit"))));

  const draw = () => {
    clear(body);
    runs.forEach((r) => body.appendChild(row(r)));
    if (!runs.length) body.appendChild(h("tr", {}, h("td", { colspan: 8, class: "empty-state" }, "No runs match these filters.")));
    summary.textContent = `${runs.length} run${runs.length === 1 ? "" : "s"}`;
  };
  const params = () => ({ tool: toolSelect.value, status: statusSelect.value, starred: starred.checked ? "true" : "", limit: HISTORY_PAGE });
  let ticket = 0;
  async function load() {
    window.clearTimeout(timer);
    const mine = ++ticket;
    const p = params();
    const qs = new URLSearchParams(Object.entries(p).filter(([k, v]) => v && k !== "limit")).toString();
    window.history.replaceState({}, "", `${window.location.pathname}${qs ? `?${qs}` : ""}`);
    const r = await api("/api/runs", { query: p });
    if (mine !== ticket) return; // a newer filter's answer wins, whatever order the replies come in
    if (!r.ok) {
      toast(errorText(r.data), "error");
      return;
    }
    runs = r.data;
    more.hidden = runs.length < HISTORY_PAGE;
    draw();
    if (runs.some((x) => x.status === "queued" || x.status === "running")) timer = window.setTimeout(load, HISTORY_REFRESH_MS);
  }
  more.addEventListener("click", async () => {
    const last = runs[runs.length - 1];
    const r = await api("/api/runs", { query: { ...params(), before: last.queued_at } });
    if (r.ok) {
      runs = [...runs, ...r.data];
      more.hidden = r.data.length < HISTORY_PAGE;
      draw();
    }
  });
  for (const control of [toolSelect, statusSelect, starred]) control.addEventListener("change", load);
  const filters = h("div", { class: "filters", role: "search", "aria-label": "Filter runs" },
    toolSelect, statusSelect, h("label", { class: "choice", for: starred.id }, starred, h("span", {}, "Starred only")), summary);
  const table = h("table", { class: "data-table runs-table" },
    h("thead", {}, h("tr", {}, ["", "Status", "Tool", "Queued", "Duration", "Source", "Error", ""].map((t, i) => h("th", { scope: "col", class: i === 4 ? "num" : null }, t ? t : h("span", { class: "visually-hidden" }, i === 0 ? "Star" : "Actions"))))),
    body);
  clear(main).appendChild(h("div", { class: "page page-wide" }, pageHeader("Run history", filters), h("div", { class: "card table-card" }, h("div", { class: "table-scroll" }, table)), h("div", { class: "row-end" }, more)));
  await load();
}

// --- one run -------------------------------------------------------------------------------------------------

export async function runPage(main, params, _query, pctx) {
  const runId = params[0];
  const reply = await api(`/api/runs/${encodeURIComponent(runId)}`);
  if (!reply.ok) return failure(main, reply, "Run");
  const record = reply.data;
  const toolReply = await api(`/api/tools/${encodeURIComponent(record.tool_id)}`);
  const tool = toolReply.ok ? toolReply.data : null;
  const name = tool ? tool.name : record.tool_id;
  document.title = `Run of ${name} · Pixie`;
  const times = h("dl", { class: "kv kv-compact run-times" },
    h("dt", {}, "Run"), h("dd", { class: "mono" }, record.id),
    h("dt", {}, "Queued"), h("dd", {}, formatTime(record.queued_at)),
    h("dt", {}, "Started"), h("dd", {}, formatTime(record.started_at)),
    h("dt", {}, "Source"), h("dd", {}, record.source));
  const head = h("header", { class: "page-head" },
    h("div", { class: "crumbs" }, link("/runs", {}, "History"), h("span", { class: "muted" }, " › "), link(`/tools/${encodeURIComponent(record.tool_id)}`, {}, name)),
    h("div", { class: "title-row" }, h("h1", {}, `Run of ${name}`), starButton(record)),
    h("div", { class: "tool-meta" },
      h("button", { type: "button", class: "btn btn-small", "data-action": "rerun", onClick: () => rerun(record.id) }, icon("redo"), "Re-run"),
      link(`/tools/${encodeURIComponent(record.tool_id)}?from=${encodeURIComponent(record.id)}`, { class: "btn btn-small btn-ghost" }, icon("edit"), "Edit inputs")));
  const page = h("div", { class: "page page-wide" }, head);
  if (!tool || !tool.manifest) {
    page.append(errorPanel(record.error, record.status) || h("p", { class: "muted" }, "The tool of this run is no longer served here, so its outputs cannot be drawn."), h("pre", { class: "mono" }, JSON.stringify(record.outputs, null, 2)));
    clear(main).appendChild(page);
    return;
  }
  const view = runView(tool, { rctx: { onDispose: pctx.onDispose }, showLink: false });
  page.appendChild(h("div", { class: "layout-form", "data-layout": "run" },
    h("section", { class: "pane pane-form card", "aria-label": "Inputs" }, h("h2", { class: "pane-title" }, "Inputs"), inputSummary(tool.manifest, record.inputs), h("h2", { class: "pane-title" }, "Details"), times),
    h("section", { class: "pane pane-out", "aria-label": "Outputs" }, h("h2", { class: "pane-title" }, "Outputs"), view.el)));
  clear(main).appendChild(page);
  view.show(record);
}
