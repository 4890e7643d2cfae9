// The consensus page: "show only differences", and keys 1/2 (take A/B for the focused row) and
// j/k (next/previous difference).
(function () {
  "use strict";
  const only = document.getElementById("only-differences");
  if (only) {
    only.addEventListener("change", () => {
      document.querySelectorAll("table.compare tr.agree").forEach((tr) => { tr.hidden = only.checked; });
    });
  }
  const diffs = () => Array.from(document.querySelectorAll("table.compare tr.differ"));
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input[type=text], textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
    const row = document.activeElement && document.activeElement.closest("tr.differ");
    if ((e.key === "1" || e.key === "2") && row) {
      const radio = row.querySelector(`input[value=${e.key === "1" ? "first" : "second"}]`);
      if (radio) radio.checked = true;
    }
    if (e.key === "j" || e.key === "k") {
      const list = diffs();
      const at = row ? list.indexOf(row) : -1;
      const next = list[e.key === "j" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0)];
      if (next) next.focus();
    }
  });
})();
