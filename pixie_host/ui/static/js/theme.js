// Runs before the first paint (a classic script: the page's CSP allows no inline script).
// The theme is the person's last choice, else the system's.
(function () {
  "use strict";
  var saved = null;
  try {
    saved = window.localStorage.getItem("pixie-theme");
  } catch (e) {
    saved = null;
  }
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = saved === "dark" || saved === "light" ? saved : dark ? "dark" : "light";
})();
