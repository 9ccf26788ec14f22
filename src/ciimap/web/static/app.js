// Shared page behaviour: CSRF for fetch(), language switch, messages for other scripts.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const i18nEl = document.getElementById("i18n");
  window.ciimap = {
    csrf: meta ? meta.content : "",
    msg: i18nEl ? JSON.parse(i18nEl.textContent) : {},
    t(key, vars) {
      let s = this.msg[key] || key;
      for (const k in vars || {}) s = s.replace("{" + k + "}", vars[k]);
      return s;
    },
    async api(url, opts) {
      const o = Object.assign({ credentials: "same-origin", headers: {} }, opts || {});
      o.headers = Object.assign({ "X-CSRF-Token": this.csrf }, o.headers);
      const r = await fetch(url, o);
      const ct = r.headers.get("content-type") || "";
      const body = ct.includes("json") ? await r.json() : null;
      if (!r.ok) throw new Error((body && body.error) || r.statusText);
      return body;
    },
  };
  const sw = document.getElementById("lang-switch");
  if (sw) sw.addEventListener("click", async () => {
    await window.ciimap.api("/api/ui/locale", { method: "PATCH", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ locale: sw.dataset.locale }) });
    window.location.reload();
  });
})();
