// Form builder: shows only the inputs a field type needs, and makes the page work by keyboard
// and by drag. Every change goes through htmx and swaps only the section it changed.
// No inline script or style anywhere: the page runs under a strict Content-Security-Policy.
(function () {
  const NEEDS = {
    min_value: ["integer", "decimal"],
    max_value: ["integer", "decimal"],
    unit: ["integer", "decimal"],
    choices: ["single_choice", "multiple_choice", "derived"],
    columns: ["table"],
    rule: ["derived"],
    required: ["short_text", "long_text", "integer", "decimal", "date", "single_choice", "multiple_choice", "yes_no_unclear", "table"],
  };
  let pending = null; // a selector to focus once the answer to a change is on the page

  function sync(form) {
    const type = form.querySelector("[name=field_type]").value;
    for (const [name, types] of Object.entries(NEEDS)) {
      const input = form.querySelector(`[name=${name}]`);
      if (!input) continue;
      const box = input.closest(".field");
      if (box) box.hidden = !types.includes(type);
    }
  }

  function setup(root) {
    root.querySelectorAll("form.field-form").forEach((form) => {
      const select = form.querySelector("[name=field_type]");
      if (!select || form.dataset.synced) return;
      form.dataset.synced = "1";
      select.addEventListener("change", () => sync(form));
      sync(form);
    });
  }

  function focusAfter(root) {
    const bad = root.querySelector(".has-error input, .has-error textarea, .has-error select");
    if (bad) return bad.focus();
    if (pending) {
      const target = document.querySelector(pending);
      pending = null;
      if (target) return target.focus();
    }
    const undo = root.querySelector(".undo-form button");
    if (undo) undo.focus();
  }

  setup(document);
  document.addEventListener("htmx:load", (event) => {
    setup(event.detail.elt);
    focusAfter(event.detail.elt);
  });

  // Where the focus goes after a change: back to the row moved or edited, to the next field
  // to type after an add, to "Undo" after a removal.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const row = form.closest("tr.field-row");
    const action = event.submitter && event.submitter.value;
    if (form.matches("form[id^=add-field-]")) pending = `#${form.id} [name=label]`;
    else if (row && action !== "remove") pending = `#${row.id}`;
  }, true);

  document.addEventListener("keydown", (e) => {
    const form = e.target.closest && e.target.closest("form.field-form");
    if (form && e.key === "Escape") {
      // Esc cancels: the inputs go back to what is saved and the editor closes.
      const details = form.closest("details");
      form.reset();
      setup(form);
      sync(form);
      if (details) {
        details.open = false;
        details.querySelector("summary").focus();
      }
      e.preventDefault();
      return;
    }
    if (form && e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      // Enter saves from a one-line input; in a box (choices, rule), Ctrl+Enter does.
      form.requestSubmit();
      e.preventDefault();
      return;
    }
    const row = e.target.matches && e.target.matches("tr.field-row") ? e.target : null;
    if (row && e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      const button = row.querySelector(`button[value=${e.key === "ArrowUp" ? "up" : "down"}]`);
      if (button && !button.disabled) {
        pending = `#${row.id}`;
        button.click();
      }
      e.preventDefault();
      return;
    }
    if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
    // "p" opens the preview, "s" jumps to "Add a section".
    if (e.key === "p") document.getElementById("preview-link")?.click();
    if (e.key === "s") {
      document.querySelector("#section-form input[name=title]")?.focus();
      e.preventDefault();
    }
  });

  // Drag a field row within its section; the new order is saved when it is dropped.
  let dragged = null;
  document.addEventListener("dragstart", (e) => {
    const row = e.target.closest && e.target.closest("tr.field-row");
    if (!row) return;
    dragged = row;
    row.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", row.dataset.pk);
  });
  document.addEventListener("dragover", (e) => {
    const row = e.target.closest && e.target.closest("tr.field-row");
    if (!dragged || !row || row === dragged || row.parentNode !== dragged.parentNode) return;
    e.preventDefault();
    const box = row.getBoundingClientRect();
    const after = e.clientY > box.top + box.height / 2;
    row.parentNode.insertBefore(dragged, after ? row.nextSibling : row);
  });
  document.addEventListener("drop", (e) => {
    if (!dragged) return;
    e.preventDefault();
    const section = dragged.closest("section");
    const form = section.querySelector("form.reorder-form");
    const order = [...section.querySelectorAll("tr.field-row")].map((r) => r.dataset.pk);
    form.querySelector("[name=order]").value = order.join(",");
    pending = `#${dragged.id}`;
    form.requestSubmit();
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
  });
})();
