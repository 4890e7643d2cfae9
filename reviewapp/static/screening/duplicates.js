// The duplicates page: the possible-duplicates queue with the keyboard (j/k move, d or Enter
// duplicates, s not duplicates, u undo), and the merge form's record number in its address.
// Decisions go through htmx, which swaps the queue in place; the cursor stays on the same
// position (the next pair) or, after an undo, moves to the pair that came back.
(() => {
  "use strict";
  let index = 0;

  const queue = () => document.getElementById("possible-queue");
  const pairs = () => Array.from(document.querySelectorAll("#possible-queue .possible-pair"));
  const busy = () => { const q = queue(); return q && q.dataset.busy === "1"; };

  const show = (focus) => {
    const all = pairs();
    if (!all.length) return;
    index = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((pair, i) => {
      pair.classList.toggle("current", i === index);
      pair.setAttribute("aria-current", i === index ? "true" : "false");
    });
    if (focus) all[index].focus({ preventScroll: true });
    all[index].scrollIntoView({ block: "nearest" });
  };

  const move = (step) => { index += step; show(true); };

  const decide = (decision) => {
    const pair = pairs()[index];
    if (!pair || busy()) return;
    const form = pair.querySelector("form.possible-decide");
    const button = form && form.querySelector(`[data-decision="${decision}"]`);
    // A click, not requestSubmit(button): htmx sends the value of the button it saw clicked.
    if (button) button.click();
  };

  const undo = () => {
    if (busy()) return;
    const queued = document.getElementById("possible-undo");
    const any = document.getElementById("undo");
    if (queued) queued.closest("form").requestSubmit();
    else if (any) any.click();
  };

  const afterSettle = () => {
    const q = queue();
    if (!q) return;
    const focus = q.dataset.focus;
    if (focus) {
      const found = pairs().findIndex((p) => p.dataset.pair === focus);
      if (found >= 0) index = found;
    }
    show(true);
  };

  document.addEventListener("DOMContentLoaded", () => show(false));
  document.addEventListener("htmx:beforeRequest", () => { const q = queue(); if (q) q.dataset.busy = "1"; });
  document.addEventListener("htmx:afterRequest", () => { const q = queue(); if (q) q.dataset.busy = ""; });
  // After the settle, not the swap: htmx keeps a swapped element's old attributes until it
  // settles, which would wipe the cursor's class set in between.
  document.addEventListener("htmx:afterSettle", afterSettle);
  ["htmx:responseError", "htmx:sendError"].forEach((name) => document.addEventListener(name, () => {
    const q = queue();
    if (q && !document.getElementById("possible-network-error")) {
      q.insertAdjacentHTML("afterbegin", '<p class="error-box" role="alert" id="possible-network-error">The server did not take that decision; nothing was saved. Try again.</p>');
    }
  }));

  // Clicking a pair makes it the current one.
  document.addEventListener("click", (e) => {
    const pair = e.target.closest && e.target.closest("#possible-queue .possible-pair");
    if (pair) { index = pairs().indexOf(pair); show(false); }
  });

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (e.target.closest("input, textarea, select, summary")) return;
    // Enter on a focused button or link does what it says; elsewhere it confirms.
    if (e.key === "Enter" && e.target.closest("button, a")) return;
    const keys = { j: () => move(1), k: () => move(-1), d: () => decide("confirm"), Enter: () => decide("confirm"), s: () => decide("separate"), u: undo };
    const run = keys[e.key];
    if (!run) return;
    e.preventDefault();
    run();
  });

  // The merge form posts to the record it names. Its hidden input named "action" shadows
  // form.action, hence the attribute.
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (form.id !== "merge-form") return;
    const target = form.getAttribute("action").replace(/\/\d+\/$/, `/${form.elements.record.value}/`);
    form.setAttribute("action", target);
  });
})();
