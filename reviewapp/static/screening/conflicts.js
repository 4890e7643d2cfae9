// Conflicts by keyboard: j/k move between cards, i includes, 1-9 choose an exclusion reason,
// e excludes, n goes to the note, r to the reason for reopening a resolved card. Resolving
// swaps the card in place (htmx) and moves on to the next open conflict.
(function () {
  "use strict";
  const cards = () => Array.from(document.querySelectorAll("[data-conflict]"));
  let current = null;

  function select(card) {
    if (!card) return;
    cards().forEach((c) => c.classList.toggle("current", c === card));
    current = card;
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = cards();
    if (!all.length) return;
    const at = all.indexOf(current);
    select(all[Math.min(all.length - 1, Math.max(0, at + step))] || all[0]);
  }

  function typing(target) {
    return target.matches("input, textarea, select, [contenteditable]");
  }

  function press(card, key) {
    const el = card && card.querySelector(`[data-key="${key}"]`);
    if (!el) return false;
    if (el.matches("button")) el.click();
    else el.focus();
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
        if (current) current.focus({ preventScroll: true });
      }
      return;
    }
    if (!current) select(cards()[0]);
    const key = event.key;
    let handled = true;
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "i") handled = press(current, "include");
    else if (key === "e") handled = press(current, "exclude");
    else if (key === "n") handled = press(current, "note");
    else if (key === "r") handled = press(current, "reopen");
    else if (/^[1-9]$/.test(key)) {
      const reasons = current && current.querySelector('[data-key="reason"]');
      handled = Boolean(reasons && reasons.options.length > Number(key));
      if (handled) reasons.selectedIndex = Number(key);
    } else handled = false;
    if (handled) event.preventDefault();
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    const card = event.detail.target.closest ? event.detail.target : null;
    const swapped = card && document.getElementById(card.id);
    if (!swapped) return;
    if (swapped.dataset.status === "resolved" && !swapped.querySelector("[role=alert]")) {
      const all = cards();
      const next = all.slice(all.indexOf(swapped) + 1).find((c) => c.dataset.status !== "resolved");
      select(next || swapped);
    } else {
      select(swapped);
    }
  });

  if (cards().length) select(cards()[0]);
})();
