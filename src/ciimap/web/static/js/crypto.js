// 密评 workspace: save one unit (management result, or test objects one per line NAME:DAK[:ra=X][:rk=Y]
// [:covered_by=ID][:asset=ID]) through PUT /api/crypto/assessments/{id}/units; Ctrl+Enter saves the row.
(function () {
  "use strict";
  const C = window.ciimap;
  const dataEl = document.getElementById("ws-data");
  if (!dataEl) return;
  const ws = JSON.parse(dataEl.textContent);
  const status = document.getElementById("cry-status");
  const say = (text) => { if (status) status.textContent = text; };
  const NAMES = { ra: "ra", rk: "rk", covered_by: "covered_by", asset: "asset_id" };

  function parseLine(line) {
    const parts = line.split(":");
    const dak = parts[1] || "";
    if (parts.length < 2 || !/^[01yn]{3}$/i.test(dak)) throw new Error(C.t("cry_bad_line", { line }));
    const on = (c) => c === "1" || c.toLowerCase() === "y";
    const obj = { name: parts[0].trim(), d: on(dak[0]), a: on(dak[1]), k: on(dak[2]) };
    for (const kv of parts.slice(2)) {
      const [key, value] = kv.split("=");
      if (!(key in NAMES) || value === undefined || value === "" || isNaN(Number(value))) {
        throw new Error(C.t("cry_bad_line", { line }));
      }
      obj[NAMES[key]] = Number(value);
    }
    return obj;
  }

  async function save(row) {
    const payload = { layer: row.dataset.layer, unit: row.dataset.name, high_risk: row.querySelector(".cry-high").checked };
    if (row.dataset.management === "true") {
      const v = row.querySelector(".cry-result").value;
      if (!v) return;
      payload.result = v;
    } else {
      const lines = row.querySelector(".cry-objects").value.split("\n").map((l) => l.trim()).filter(Boolean);
      if (!lines.length) return;
      try { payload.objects = lines.map(parseLine); } catch (e) { say(e.message); return; }
    }
    try {
      const r = await C.api("/api/crypto/assessments/" + ws.assessment_id + "/units", {
        method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
      row.querySelector(".cry-score").textContent = r.score === null ? "—" : r.score.toFixed(4);
      say(C.t("cry_saved", { unit: payload.unit, score: r.score === null ? "—" : r.score }));
      const total = await C.api("/api/crypto/assessments/" + ws.assessment_id);
      const el = document.getElementById("cry-total");
      if (el && total.score.total !== null) el.textContent = total.score.total.toFixed(2);
    } catch (e) {
      say(e.message);
    }
  }

  document.querySelectorAll("tr[data-unit]").forEach((row) => {
    const btn = row.querySelector(".cry-save");
    if (btn) btn.addEventListener("click", () => save(row));
    const sel = row.querySelector(".cry-result");
    if (sel && ws.editable) sel.addEventListener("change", () => save(row));
    const ta = row.querySelector(".cry-objects");
    if (ta && ws.editable) ta.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.ctrlKey) { e.preventDefault(); save(row); } });
  });
})();
