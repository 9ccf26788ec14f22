// Incident page (/incidents/{id}): live countdown to each stored deadline, and the changes (state,
// grade, roles, tasks, comments, report forms, reports sent, what-if) through /api/incidents with the
// session's CSRF token (app.js). The deadlines themselves are stored on the server; only the display ticks.
(function () {
  "use strict";
  const C = window.ciimap;
  const dataEl = document.getElementById("inc-data");
  if (!dataEl) return;
  const id = dataEl.dataset.incident;
  const base = "/api/incidents/" + id;
  const $ = (x) => document.getElementById(x);

  function showError(text) { const el = $("inc-error"); el.textContent = text || ""; el.hidden = !text; }
  async function call(url, method, body) {
    try {
      const res = await C.api(url, { method: method, headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body) });
      window.location.reload();
      return res;
    } catch (e) { showError(e.message); return null; }
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach((el) => {
      const left = Math.round((Date.parse(el.dataset.due) - now) / 1000);
      if (left <= 0) { el.textContent = C.t("inc_overdue"); el.closest(".card").classList.add("bad"); return; }
      const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    });
  }
  tick();
  setInterval(tick, 1000);
  const form = (fid, fn) => { const f = $(fid); if (f) f.addEventListener("submit", (ev) => { ev.preventDefault(); fn(new FormData(f)); }); };
  document.querySelectorAll("[data-move]").forEach((b) => b.addEventListener("click", () => call(base + "/transition", "POST", { to: b.dataset.move })));
  document.querySelectorAll("[data-done]").forEach((b) => b.addEventListener("click", () => call("/api/incidents/tasks/" + b.dataset.done + "/done", "POST")));
  form("inc-comment-form", (d) => call(base + "/comments", "POST", { text: d.get("text") }));
  form("inc-role-form", (d) => call(base + "/roles", "POST", { role: d.get("role"), person: d.get("person") }));
  form("inc-task-form", (d) => call(base + "/tasks", "POST", { title: d.get("title"), owner: d.get("owner") || null,
    due_at: d.get("due_at") ? new Date(d.get("due_at")).toISOString() : null }));
  form("inc-grade-form", (d) => {
    const facts = {};
    for (const [k, v] of d.entries()) if (v !== "") facts[k] = k === "portal_level" ? v : Number(v);
    call(base + "/grade", "POST", facts);
  });
  form("inc-report-form", (d) => {
    const items = {};
    for (const [k, v] of d.entries()) if (k.startsWith("item") && v.trim()) items[k.slice(4)] = v;
    call(base + "/reports", "POST", { kind: d.get("kind"), items: items });
  });
  document.querySelectorAll("form[data-send]").forEach((f) => f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const d = new FormData(f);
    call("/api/incidents/reports/" + f.dataset.send + "/send", "POST", { authority: d.get("authority"), channel: d.get("channel") });
  }));
  const wi = $("inc-whatif");
  if (wi) wi.addEventListener("click", async () => {
    try {
      const r = await C.api(base + "/what-if");
      const names = (xs) => xs.map((n) => n.name + " (" + C.t("inc_status_" + n.status) + ")").join("、") || "—";
      $("inc-whatif-out").textContent = C.t("inc_whatif_services") + ": " + names(r.services) + "  " + C.t("inc_whatif_systems") + ": " + names(r.systems);
    } catch (e) { showError(e.message); }
  });
})();
