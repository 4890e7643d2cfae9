// The screening page: keyboard shortcuts, htmx error messages, and the lease on the record shown
// (renewed while the page is open, given back on skip and when the page is closed).

(() => {
  const help = document.getElementById("help-overlay");
  const toggleHelp = (show) => { help.hidden = show === undefined ? !help.hidden : !show; };
  help.addEventListener("click", (e) => { if (e.target === help || e.target.matches("[data-close-help]")) toggleHelp(false); });
  const form = () => document.getElementById("decision-form");
  const decide = (verdict, reason) => {
    const f = form();
    if (!f || f.dataset.locked === "1" || f.dataset.busy === "1") return;
    if (verdict === "exclude" && !reason && f.dataset.reasonRequired === "1") {
      document.getElementById("reasons").classList.add("prompt");
      document.getElementById("reason-prompt").hidden = false;
      return;
    }
    f.elements.verdict.value = verdict;
    f.elements.reason.value = reason || "";
    f.requestSubmit();
  };
  const go = (attr) => {
    const f = form();
    const url = f && f.dataset[attr];
    if (url) htmx.ajax("GET", url, {target: "#screen-record", swap: "outerHTML"});
  };
  document.addEventListener("htmx:beforeRequest", (e) => { const f = form(); if (f && e.detail.elt === f) f.dataset.busy = "1"; });
  // A failed request (network down, server error) must not leave the form stuck as busy.
  document.addEventListener("htmx:afterRequest", (e) => { if (e.detail.elt && e.detail.elt.dataset) e.detail.elt.dataset.busy = ""; });
  document.addEventListener("htmx:responseError", () => {
    const r = document.getElementById("screen-record");
    if (r && !document.getElementById("network-error")) r.insertAdjacentHTML("afterbegin", '<p class="error-box" role="alert" id="network-error">The server did not accept that decision; nothing was saved. Try again.</p>');
  });
  document.addEventListener("htmx:sendError", () => {
    const r = document.getElementById("screen-record");
    if (r && !document.getElementById("network-error")) r.insertAdjacentHTML("afterbegin", '<p class="error-box" role="alert" id="network-error">No connection to the server; nothing was saved. Try again.</p>');
  });
  document.addEventListener("htmx:afterSwap", () => { const r = document.getElementById("record-title"); if (r) r.focus({preventScroll: false}); });
  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-verdict]");
    if (button) { e.preventDefault(); decide(button.dataset.verdict, button.dataset.reason); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest("input, textarea, select")) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.key === "?") { toggleHelp(); e.preventDefault(); return; }
    if (e.key === "Escape") { toggleHelp(false); return; }
    if (!help.hidden) return;
    const f = form();
    if (!f) return;
    if (e.key === "i") decide("include");
    else if (e.key === "e") decide("exclude");
    else if (e.key === "m") decide("maybe");
    else if (/^[1-9]$/.test(e.key)) {
      const b = document.querySelector(`[data-reason-key="${e.key}"]`);
      if (b) decide("exclude", b.dataset.reason);
    }
    else if (e.key === "s") { const k = document.getElementById("skip-form"); if (k) k.requestSubmit(); }
    else if (e.key === "u") { const u = document.getElementById("undo-form"); if (u) u.requestSubmit(); }
    else if (e.key === "ArrowLeft") go("previous");
    else if (e.key === "ArrowRight") go("next");
    else if (e.key === "n") { f.elements.note.focus(); }
    else if (e.key === "t") { f.elements.tags.focus(); }
    else return;
    e.preventDefault();
  });

  // The record shown is leased to this reviewer: keep the lease alive while the page is open
  // and give it back when the page goes away, so that a colleague can be served it.
  const lease = (action) => {
    const f = form();
    if (!f || !f.dataset.lease || f.dataset.locked === "1") return false;
    const body = new FormData();
    body.append("action", action);
    body.append("csrfmiddlewaretoken", f.elements.csrfmiddlewaretoken.value);
    if (action === "release") return navigator.sendBeacon(f.dataset.lease, body);
    fetch(f.dataset.lease, {method: "POST", body, credentials: "same-origin"}).catch(() => {});
    return true;
  };
  window.addEventListener("pagehide", () => { lease("release"); });
  setInterval(() => { if (document.visibilityState === "visible") lease("renew"); }, 120000);
})();
