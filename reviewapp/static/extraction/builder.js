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
  let announce = null; // a selector whose new place is read out once the answer is in
  let across = false; // the field moved to another section: its name is read out too
  let placed = false; // this answer already put the focus where it belongs

  // Screen readers hear where a moved field or section landed ("Design: position 2 of 5").
  function announceMove() {
    const target = announce && document.querySelector(announce);
    announce = null;
    const live = document.getElementById("builder-live");
    if (!target || !live) return;
    const item = target.closest("tr.field-row, section.builder-section");
    const kind = item.matches("tr") ? "tr.field-row" : "section.builder-section";
    const siblings = [...item.parentNode.querySelectorAll(`:scope > ${kind}`)];
    const name = item.matches("tr") ? item.querySelector("strong").textContent : item.querySelector("h2").textContent;
    const where = across ? `moved to ${item.closest("section").querySelector("h2").textContent}, ` : "";
    across = false;
    live.textContent = `${name}: ${where}position ${siblings.indexOf(item) + 1} of ${siblings.length}.`;
  }

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
    const forms = [...root.querySelectorAll("form.field-form")];
    if (root.matches && root.matches("form.field-form")) forms.push(root);
    forms.forEach((form) => {
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
      if (target) {
        placed = true;
        return target.focus();
      }
    }
    // A swap of the whole list loads each part on its own: the Undo of a move, in the notice,
    // must not take the focus from the moved row.
    if (placed) return;
    const undo = root.querySelector(".undo-form button");
    if (undo) undo.focus();
  }

  setup(document);
  document.addEventListener("htmx:load", (event) => {
    setup(event.detail.elt);
    focusAfter(event.detail.elt);
    announceMove();
  });

  // Where the focus goes after a change: back to the row moved or edited, to the next field
  // to type after an add, to "Undo" after a removal.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const row = form.closest("tr.field-row");
    const action = event.submitter && event.submitter.value;
    placed = false;
    if (form.matches("form[id^=add-field-]")) pending = `#${form.id} [name=label]`;
    else if (form.matches("form.move-form") && row) {
      pending = announce = `#${row.id}`;
      across = true;
    } else if (form.matches("form.undo-form[data-field]")) {
      pending = announce = `#${form.dataset.field}`;
      across = true;
    }
    else if (row && action !== "remove") pending = `#${row.id}`;
  }, true);

  // A row's editor is rendered only when Edit is opened: fetched into the row the first time,
  // then kept (Esc resets it to what is saved). Opening it puts the cursor in its first input.
  function focusEditor(details) {
    const input = details.querySelector("form.field-form input:not([type=hidden]), form.field-form textarea");
    if (input) input.focus();
  }
  document.addEventListener("toggle", (e) => {
    const details = e.target;
    if (!details.matches || !details.matches("details.edit-field") || !details.open) return;
    const link = details.querySelector("a.edit-link");
    if (!link) return focusEditor(details);
    if (link.dataset.loading) return;
    link.dataset.loading = "1";
    htmx.ajax("GET", link.dataset.edit, { target: link, swap: "outerHTML" }).then(() => {
      delete link.dataset.loading; // still there if the answer was refused: the next open retries
      if (details.open) focusEditor(details);
    });
  }, true); // "toggle" does not bubble: caught on its way down

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
    if (row && e.altKey && e.shiftKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      // Alt+Shift+arrow: to the end of the section above, or the top of the section below.
      const up = e.key === "ArrowUp";
      const sections = [...document.querySelectorAll("#sections section.builder-section")];
      const target = sections[sections.indexOf(row.closest("section")) + (up ? -1 : 1)];
      const live = document.getElementById("builder-live");
      if (!target) {
        if (live) live.textContent = `Already in the ${up ? "first" : "last"} section.`;
      } else moveToSection(row, target, up ? "" : "1");
      e.preventDefault();
      return;
    }
    if (row && e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      const button = row.querySelector(`button[value=${e.key === "ArrowUp" ? "up" : "down"}]`);
      if (button && !button.disabled) {
        pending = announce = `#${row.id}`;
        button.click();
      }
      e.preventDefault();
      return;
    }
    const handle = e.target.matches && e.target.matches("h2.section-handle") ? e.target : null;
    if (handle && e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      const section = handle.closest("section");
      const button = section.querySelector(`.section-actions button[value=${e.key === "ArrowUp" ? "up" : "down"}]`);
      if (button && !button.disabled) {
        pending = announce = `#${section.id} h2.section-handle`;
        button.click();
      }
      e.preventDefault();
      return;
    }
    const typing = e.target.closest("input, textarea, select");
    // "u" or Ctrl+Z (outside a text input, where it undoes typing) undoes the last removal.
    if (!typing && !e.altKey && ((e.key === "u" && !e.ctrlKey && !e.metaKey) || (e.key === "z" && (e.ctrlKey || e.metaKey)))) {
      const undo = [...document.querySelectorAll(".undo-form button")].pop();
      if (undo) {
        undo.click();
        e.preventDefault();
      }
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    // "p" opens the preview, "s" jumps to "Add a section".
    if (e.key === "p") document.getElementById("preview-link")?.click();
    if (e.key === "s") {
      document.querySelector("#section-form input[name=title]")?.focus();
      e.preventDefault();
    }
  });

  // Sends a field row to another section through its "Move to section" form.
  function moveToSection(row, section, position) {
    const form = row.querySelector("form.move-form");
    if (!form) return;
    form.querySelector("[name=section]").value = section.id.replace("section-", "");
    form.querySelector("[name=position]").value = position;
    form.requestSubmit(); // the submit listener sets where the focus and the announcement go
  }

  // Drag a field row within its section or into another section's list, or a section by its
  // title; the new order (or the new section and place) is saved when it is dropped.
  let dragged = null;
  let draggedFrom = null;
  let home = null; // where the dragged item stood, to put it back when it is not dropped
  document.addEventListener("dragstart", (e) => {
    const handle = e.target.closest && e.target.closest("h2.section-handle");
    const row = e.target.closest && e.target.closest("tr.field-row");
    dragged = handle ? handle.closest("section") : row;
    if (!dragged) return;
    draggedFrom = dragged.closest("section");
    home = { parent: dragged.parentNode, next: dragged.nextSibling };
    dragged.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", dragged.id);
  });
  document.addEventListener("dragover", (e) => {
    if (!dragged || !e.target.closest) return;
    const isRow = dragged.matches("tr");
    const over = e.target.closest(isRow ? "tr.field-row" : "section.builder-section");
    const overSection = isRow && !over && e.target.closest("section.builder-section");
    if (overSection) {
      // Over another section but not over one of its rows: the field goes to its end.
      e.preventDefault();
      const body = overSection.querySelector("table.builder-fields tbody");
      if (overSection !== dragged.closest("section") && body) body.appendChild(dragged);
      return;
    }
    if (!over || (!isRow && over.parentNode !== dragged.parentNode)) return;
    e.preventDefault(); // also over the dragged item itself, or the drop would not come
    if (over === dragged) return;
    const box = over.getBoundingClientRect();
    const after = e.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("drop", (e) => {
    if (!dragged) return;
    e.preventDefault();
    home = null; // dropped: the new place is saved below
    let form, order;
    if (dragged.matches("tr") && dragged.closest("section") !== draggedFrom) {
      const rows = [...dragged.parentNode.querySelectorAll(":scope > tr.field-row")];
      moveToSection(dragged, dragged.closest("section"), String(rows.indexOf(dragged) + 1));
      return;
    }
    if (dragged.matches("tr")) {
      const section = dragged.closest("section");
      form = section.querySelector("form.reorder-form");
      order = [...section.querySelectorAll("tr.field-row")].map((r) => r.dataset.pk);
      pending = announce = `#${dragged.id}`;
    } else {
      form = document.getElementById("sections-order");
      order = [...document.querySelectorAll("#sections h2.section-handle")].map((h) => h.dataset.pk);
      pending = announce = `#${dragged.id} h2.section-handle`;
    }
    form.querySelector("[name=order]").value = order.join(",");
    form.requestSubmit();
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    // Let go outside any list (or Esc): nothing was saved, so nothing looks moved either.
    if (dragged && home) home.parent.insertBefore(dragged, home.next);
    home = null;
    dragged = null;
  });
})();
