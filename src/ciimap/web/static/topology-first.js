// Start the first graph request now, while cytoscape.js (~430 kB) is still loading and parsing; topology.js
// uses it when the filters it ends up with match (same parameters its load() would send). Loaded without
// "defer" right after the filter form, which must exist when this runs (a file, not inline: the CSP).
(function () {
  const u = new URLSearchParams(location.search), p = new URLSearchParams(), csrf = document.querySelector('meta[name="csrf-token"]');
  for (const [k, v] of new FormData(document.getElementById("topo-filter"))) { const x = u.has(k) ? u.get(k) : v; if (x) p.set(k, x); }
  window.ciimapTopoFirst = { qs: p.toString(), res: fetch("/api/ui/topology?" + p, { credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf ? csrf.content : "" } }).catch(() => null) };
})();
