// Findings page: select all rows or groups of a table, and show how many are chosen for the bulk triage.
(function () {
  "use strict";
  const count = document.getElementById("bulk-count");
  const picks = () => Array.from(document.querySelectorAll("input.pick"));
  function update() {
    if (!count) return;
    const n = picks().filter((c) => c.checked).length;
    count.textContent = n ? count.dataset.template.replace("{n}", String(n)) : "";
  }
  document.querySelectorAll("input.select-all").forEach((all) => {
    all.addEventListener("change", () => {
      const table = all.closest("table");
      table.querySelectorAll("input.pick").forEach((c) => { c.checked = all.checked; });
      update();
    });
  });
  picks().forEach((c) => c.addEventListener("change", update));
  update();
})();
