// Start the first graph request now, while cytoscape.js (~430 kB) is still loading and parsing; topology.js
// uses it when the filters it ends up with match (same URL its load() would request). Loaded without
// "defer" right after the filter form, which must exist when this runs (a file, not inline: the CSP).
(function () {
  const u = new URLSearchParams(location.search), p = new URLSearchParams(), csrf = document.querySelector('meta[name="csrf-token"]');
  for (const [k, v] of new FormData(document.getElementById("topo-filter"))) { const x = u.has(k) ? u.get(k) : v; if (x) p.set(k, x); }
  // the same mapping as apiUrl() in topology.js: the command map unless ?view=assets
  let url;
  if (p.get("view") === "assets") { p.delete("view"); url = "/api/ui/topology?" + p; }
  else { for (const k of ["view", "budget", "q"]) p.delete(k); url = "/api/ui/topology/overview?" + p; }
  window.ciimapTopoFirst = { url, res: fetch(url, { credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf ? csrf.content : "" } }).catch(() => null) };
})();
