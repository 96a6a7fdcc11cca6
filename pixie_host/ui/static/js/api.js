// The host's JSON API, and nothing else: every request goes to <prefix>/api/...

import { url } from "./dom.js";

/** A JSON request; resolves to {ok, status, data} (data is the parsed body, or the text when not JSON). */
export async function api(path, { method = "GET", body, query } = {}) {
  let target = url(path);
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
    const qs = params.toString();
    if (qs) target += (target.includes("?") ? "&" : "?") + qs;
  }
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(target, init);
  } catch (err) {
    return { ok: false, status: 0, data: { detail: `the host did not answer: ${err.message}`, code: "network" } };
  }
  const text = await response.text();
  let data = text;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = { detail: text.slice(0, 2000), code: "not_json" };
  }
  return { ok: response.ok, status: response.status, data };
}

/** The `detail` of an error body as one sentence (FastAPI's list form is joined). */
export function errorText(data) {
  if (!data) return "unknown error";
  const detail = typeof data === "object" && "detail" in data ? data.detail : data;
  if (Array.isArray(detail)) {
    return detail.map((d) => (d && typeof d === "object" ? `${(d.loc || []).slice(2).join(".") || "body"}: ${d.msg}` : String(d))).join("; ");
  }
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}

/**
 * Follow a run's events (SSE, live or replayed). onOpen fires on every (re)connection: the stream
 * replays from the first event, so the caller resets its state there. Returns a function that stops.
 */
export function followEvents(runId, { onOpen, onEvent, onDone, onError }) {
  const source = new EventSource(url(`/api/runs/${encodeURIComponent(runId)}/events`));
  let finished = false;
  source.onopen = () => onOpen && onOpen();
  source.onmessage = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (e) {
      return;
    }
    if (event && event.done) {
      finished = true;
      source.close();
      onDone && onDone(event);
    } else if (event) {
      onEvent && onEvent(event);
    }
  };
  source.onerror = () => {
    if (finished) return;
    if (source.readyState === EventSource.CLOSED) onError && onError();
  };
  return () => {
    finished = true;
    source.close();
  };
}
