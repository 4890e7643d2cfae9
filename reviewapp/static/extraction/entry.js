// Extraction entry: add table rows, arms and outcome rows; show the inputs a conversion needs;
// Ctrl+S saves. The save is in place (htmx, hx-post on the form): the answer fills #entry-result
// and swaps the version, the messages beside the fields and the derived values out of band; the
// inputs are never replaced, so what was typed, the focus and the scroll position stay.
(function () {
  const form = document.getElementById("entry-form");
  if (!form) return;
  const NEEDS = {
    sd_from_se: ["se_mean"],
    sd_from_ci: ["ci_mean_lower", "ci_mean_upper"],
    sd_from_t: ["md", "t", "n_other"],
    sd_from_p: ["md", "p", "n_other"],
    mean_sd_from_median_iqr: ["median", "q1", "q3"],
    mean_sd_from_median_range: ["median", "minimum", "maximum"],
  };
  function syncConversion(cell) {
    const method = cell.querySelector("select").value;
    const wanted = NEEDS[method] || [];
    cell.querySelectorAll("label.cv").forEach((label) => {
      label.hidden = !wanted.includes(label.dataset.input);
    });
  }
  function wire(root) {
    root.querySelectorAll("td.conversion").forEach((cell) => {
      cell.querySelector("select").addEventListener("change", () => syncConversion(cell));
      syncConversion(cell);
    });
  }
  wire(form);

  document.querySelectorAll(".add-table-row").forEach((button) => {
    button.addEventListener("click", () => {
      const key = button.dataset.key;
      const body = document.querySelector(`table.repeating[data-key="${key}"] tbody`);
      const last = body.lastElementChild;
      const next = Number(button.dataset.next);
      const row = last.cloneNode(true);
      row.querySelectorAll("[name]").forEach((input) => {
        input.name = input.name.replace(/^(t__[a-z0-9_]+__)\d+(__)/, `$1${next}$2`);
        if (input.tagName === "SELECT") input.selectedIndex = input.multiple ? -1 : 0;
        else input.value = "";
      });
      row.querySelectorAll(".errorlist").forEach((e) => e.remove());
      body.appendChild(row);
      button.dataset.next = String(next + 1);
      row.querySelector("input, select")?.focus();
    });
  });

  const addArm = document.getElementById("add-arm");
  if (addArm) {
    addArm.addEventListener("click", () => {
      const body = document.querySelector("#arms tbody");
      const next = Number(addArm.dataset.next);
      const row = body.lastElementChild.cloneNode(true);
      row.querySelectorAll("[name]").forEach((input) => {
        input.name = input.name.replace(/^arm__\d+__/, `arm__${next}__`);
        if (input.tagName === "SELECT") input.selectedIndex = 0;
        else input.value = "";
      });
      row.querySelectorAll(".errorlist").forEach((e) => e.remove());
      body.appendChild(row);
      addArm.dataset.next = String(next + 1);
      row.querySelector("input").focus();
    });
  }
  // Arm names typed above are offered in the outcome rows.
  form.addEventListener("change", (e) => {
    if (!e.target.name || !/^arm__\d+__label$/.test(e.target.name)) return;
    const list = document.getElementById("arm-labels");
    list.innerHTML = "";
    form.querySelectorAll("input[name$='__label']").forEach((input) => {
      if (/^arm__/.test(input.name) && input.value.trim()) {
        const option = document.createElement("option");
        option.value = input.value.trim();
        list.appendChild(option);
      }
    });
  });

  const nextRow = document.getElementById("next-row");
  document.querySelectorAll(".add-outcome-row").forEach((button) => {
    button.addEventListener("click", () => {
      const block = button.closest(".outcome-block");
      const template = block.querySelector("template.row-template");
      const index = Number(nextRow.value);
      nextRow.value = String(index + 1);
      const html = template.innerHTML.replace(/__IDX__/g, `__${index}__`).replace(/data-index="IDX"/, `data-index="${index}"`);
      const body = block.querySelector("tbody");
      body.insertAdjacentHTML("beforeend", html);
      const row = body.lastElementChild;
      let previous = row.previousElementSibling;
      while (previous && !previous.classList.contains("outcome-row")) previous = previous.previousElementSibling;
      if (previous) {
        // Most rows repeat the timepoint of the row above.
        for (const name of ["timepoint", "timepoint_weeks"]) {
          const from = previous.querySelector(`[name$='__${name}']`);
          const to = row.querySelector(`[name$='__${name}']`);
          if (from && to) to.value = from.value;
        }
      }
      wire(row);
      row.querySelector("[name$='__arm']").focus();
    });
  });

  // Derived fields follow the answers on the page (the server evaluates the rules).
  const deriveUrl = form.dataset.deriveUrl;
  let pending = null;
  function derive() {
    const body = new FormData(form);
    fetch(deriveUrl, { method: "POST", body, headers: { "X-CSRFToken": body.get("csrfmiddlewaretoken") } })
      .then((r) => (r.ok ? r.json() : null))
      .then((values) => {
        if (!values) return;
        form.querySelectorAll("output.derived").forEach((out) => {
          const key = out.id.replace(/^a-/, "");
          const value = values[key];
          out.textContent = value === null || value === undefined ? "—" : String(value);
        });
      })
      .catch(() => {});
  }
  if (deriveUrl && form.querySelector("output.derived")) {
    form.addEventListener("change", () => {
      clearTimeout(pending);
      pending = setTimeout(derive, 150);
    });
  }

  // The save's events fire on its target (#entry-result, outside the form).
  const fromSave = (e) => Boolean(e.detail.requestConfig && e.detail.requestConfig.elt === form);
  // A refused save (400 invalid, 409 someone saved first) is answered in place too.
  document.body.addEventListener("htmx:beforeSwap", (e) => {
    if (!fromSave(e)) return;
    if (e.detail.xhr.status === 400 || e.detail.xhr.status === 409) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
    if (e.detail.shouldSwap) clearFeedback();
  });
  function clearFeedback() {
    form.querySelectorAll(".field-messages").forEach((box) => box.replaceChildren());
    form.querySelectorAll("tr.row-messages, #arms .errorlist, table.repeating td > [role=alert]").forEach((m) => m.remove());
    form.querySelectorAll(".outcome-row [aria-invalid], .outcome-row .warn").forEach((input) => {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      input.classList.remove("warn");
    });
  }
  // The outcome rows' messages arrive in #row-feedback; each goes under its row.
  function placeRowFeedback() {
    const source = document.getElementById("row-feedback");
    if (!source) return;
    source.querySelectorAll("tr.row-messages").forEach((message) => {
      const index = message.dataset.row;
      const row = form.querySelector(`tr.outcome-row[data-index="${index}"]`);
      if (!row) return;
      message.cells[0].colSpan = row.cells.length;
      const mark = (names, apply) => names.split(" ").filter(Boolean).forEach((name) => {
        const input = row.querySelector(`[name="o__${index}__${name}"]`);
        if (!input) return;
        apply(input);
        input.setAttribute("aria-describedby", message.id);
      });
      mark(message.dataset.invalid, (input) => input.setAttribute("aria-invalid", "true"));
      mark(message.dataset.warn, (input) => input.classList.add("warn"));
      row.after(message);
    });
  }
  document.body.addEventListener("htmx:afterSwap", (e) => {
    if (!fromSave(e)) return;
    placeRowFeedback();
    form.querySelectorAll(".entry-field").forEach((field) => {
      const box = field.querySelector(".field-messages");
      const error = Boolean(box && box.querySelector(".errorlist"));
      field.classList.toggle("has-error", error);
      field.classList.toggle("has-warning", !error && Boolean(box && box.querySelector(".warninglist")));
    });
  });

  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "s") {
      e.preventDefault();
      document.getElementById("save")?.click();
    }
  });
})();
