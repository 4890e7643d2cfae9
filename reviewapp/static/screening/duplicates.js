// Duplicates: "u" undoes the last change; the "merge a missed duplicate" form posts to the
// record the user typed (its action holds a 0 placeholder for the record number).
(function () {
  "use strict";
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "u") {
      const undo = document.getElementById("undo");
      if (undo) undo.click();
    }
  });
  const merge = document.getElementById("merge-form");
  if (merge) {
    merge.addEventListener("submit", () => {
      // getAttribute: the form's <input name="action"> shadows form.action.
      const url = merge.getAttribute("action").replace(/\/0\/$/, "/" + merge.elements.record.value + "/");
      merge.setAttribute("action", url);
    });
  }
})();
