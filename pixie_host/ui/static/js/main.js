// Boot: the top bar, the theme switch, keyboard shortcuts and the router (history API, under the prefix).

import { clear, h, icon, link, PREFIX, setTheme, theme } from "./dom.js";
import { history, home, runPage, toolList, toolPage } from "./pages.js";

const ROUTES = [
  [/^\/?$/, home],
  [/^\/tools\/?$/, toolList],
  [/^\/tools\/([^/]+)\/?$/, toolPage],
  [/^\/runs\/?$/, history],
  [/^\/runs\/([^/]+)\/?$/, runPage],
];

let disposers = [];
let firstPage = true;
let renderTicket = 0;

function themeButton() {
  const button = h("button", { type: "button", class: "btn-icon theme-toggle", "data-action": "theme" });
  const draw = () => {
    const dark = theme() === "dark";
    clear(button).appendChild(icon(dark ? "sun" : "moon"));
    button.setAttribute("aria-label", dark ? "Switch to the light theme" : "Switch to the dark theme");
    button.title = button.getAttribute("aria-label");
  };
  button.addEventListener("click", () => {
    setTheme(theme() === "dark" ? "light" : "dark");
    draw();
  });
  draw();
  return button;
}

function topbar() {
  const nav = h("nav", { class: "topnav", "aria-label": "Main" }, link("/tools", { "data-nav": "tools" }, "Tools"), link("/runs", { "data-nav": "runs" }, "History"));
  return h("header", { class: "topbar" }, link("/", { class: "brand", "aria-label": "Pixie home" }, h("span", { class: "brand-mark", "aria-hidden": "true" }, "P"), "Pixie"), nav, h("span", { class: "spacer" }), themeButton());
}

async function render() {
  const ticket = ++renderTicket;
  for (const fn of disposers.splice(0)) {
    try {
      fn();
    } catch (e) {
      // a page part that cannot clean up must not stop the next page
    }
  }
  const path = decodeURIComponent(window.location.pathname.slice(PREFIX.length)) || "/";
  const query = new URLSearchParams(window.location.search);
  const main = document.getElementById("main");
  for (const a of document.querySelectorAll(".topnav a")) {
    const section = a.dataset.nav;
    a.toggleAttribute("aria-current", path.startsWith(`/${section}`));
  }
  const pctx = { onDispose: (fn) => disposers.push(fn) };
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    try {
      await page(main, match.slice(1), query, pctx);
    } catch (err) {
      if (ticket !== renderTicket) return;
      clear(main).appendChild(h("div", { class: "page" }, h("h1", {}, "Something went wrong"), h("p", { class: "out-problem" }, String(err && err.message ? err.message : err))));
      console.error(err);
    }
    if (!firstPage && ticket === renderTicket) main.focus({ preventScroll: true });
    firstPage = false;
    document.body.dataset.page = page.name;
    return;
  }
  clear(main).appendChild(h("div", { class: "page" }, h("h1", {}, "Not found"), h("p", {}, "There is no page here. "), link("/tools", {}, "See the tools")));
}

function shortcuts(event) {
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
    const target = document.querySelector('[data-shortcut="/"]');
    if (target) {
      event.preventDefault();
      target.focus();
    }
  }
}

document.getElementById("app").prepend(topbar());
window.addEventListener("popstate", render);
window.addEventListener("pixie:navigate", () => {
  window.scrollTo(0, 0);
  render();
});
document.addEventListener("keydown", shortcuts);
render();
