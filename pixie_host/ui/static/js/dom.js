// DOM helpers. Every piece of text from a tool goes in through text nodes: nothing here parses HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(el, c);
  } else if (child instanceof Node) {
    el.appendChild(child);
  } else {
    el.appendChild(document.createTextNode(String(child)));
  }
}

function setProps(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "text") el.textContent = String(value);
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key in el && !key.includes("-") && typeof value !== "string" && el.namespaceURI !== SVG_NS) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

/** An HTML element: h("div", {class: "x", onClick}, "text", child, [more]). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

/** An SVG element, attributes set as given. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === "text") el.textContent = String(value);
    else if (key === "class") el.setAttribute("class", value);
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const ICONS = {
  play: "M8 5v14l11-7z",
  stop: "M7 7h10v10H7z",
  star: "M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2L12 17.3 6.5 20.2l1-6.2L3 9.6l6.2-.9z",
  sun: "M12 7a5 5 0 1 0 0 10 5 5 0 0 0 0-10zM12 1v3M12 20v3M4.2 4.2l2.1 2.1M17.7 17.7l2.1 2.1M1 12h3M20 12h3M4.2 19.8l2.1-2.1M17.7 6.3l2.1-2.1",
  moon: "M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z",
  redo: "M4 12a8 8 0 0 1 14-5.3L20 9M20 4v5h-5M20 12a8 8 0 0 1-14 5.3L4 15",
  download: "M12 3v12M7 10l5 5 5-5M4 20h16",
  copy: "M8 8h12v12H8zM4 16V4h12",
  back: "M15 18l-6-6 6-6",
  list: "M4 6h16M4 12h16M4 18h16",
  clock: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 7v5l3 3",
  x: "M6 6l12 12M18 6L6 18",
  upload: "M12 16V4M7 9l5-5 5 5M4 20h16",
  edit: "M4 20h4L19 9l-4-4L4 16zM14 6l4 4",
};

/** A small stroke icon (decorative: hidden from screen readers). */
export function icon(name, cls = "icon") {
  const filled = name === "play" || name === "stop" || name === "star";
  return s(
    "svg",
    { class: cls, viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" },
    s("path", {
      d: ICONS[name] || "",
      fill: filled ? "currentColor" : "none",
      stroke: filled ? "none" : "currentColor",
      "stroke-width": 2,
      "stroke-linecap": "round",
      "stroke-linejoin": "round",
    }),
  );
}

/** The host's URL prefix (from the shell's meta tag). */
export const PREFIX = (document.querySelector('meta[name="pixie-prefix"]') || {}).content || "";

/** A path under the prefix. */
export function url(path) {
  return PREFIX + path;
}

/** A link to one of the UI's pages; a plain click is routed without reloading the page. */
export function link(path, props, ...children) {
  const a = h("a", { ...props, href: url(path) }, ...children);
  a.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return;
    event.preventDefault();
    navigate(path);
  });
  return a;
}

/** Go to a page of the UI (history entry pushed, the router draws it). */
export function navigate(path, { replace = false } = {}) {
  const target = url(path);
  if (replace) window.history.replaceState({}, "", target);
  else window.history.pushState({}, "", target);
  window.dispatchEvent(new Event("pixie:navigate"));
}

let idCounter = 0;
/** A unique element id (labels, aria-describedby). */
export function uid(prefix = "px") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Announce a short message to screen readers and show it as a toast. */
export function toast(message, kind = "info") {
  let host = document.getElementById("toasts");
  if (!host) {
    host = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(host);
  }
  const el = h("div", { class: `toast toast-${kind}` }, message);
  host.appendChild(el);
  window.setTimeout(() => el.remove(), 4000);
}

/** Theme listeners (charts redraw in the other palette). */
const themeListeners = new Set();
export function onTheme(fn) {
  themeListeners.add(fn);
  return () => themeListeners.delete(fn);
}
export function theme() {
  return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
}
export function setTheme(name) {
  document.documentElement.dataset.theme = name;
  try {
    window.localStorage.setItem("pixie-theme", name);
  } catch (e) {
    // private mode: the choice lasts for this page only
  }
  for (const fn of [...themeListeners]) fn(name);
}

/** Read a CSS custom property of the page (for chart and map colours). */
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
