// Form builder: show only the inputs that matter for the chosen field type.
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
  function sync(form) {
    const type = form.querySelector("[name=field_type]").value;
    for (const [name, types] of Object.entries(NEEDS)) {
      const input = form.querySelector(`[name=${name}]`);
      if (!input) continue;
      const box = input.closest(".field");
      if (box) box.hidden = !types.includes(type);
    }
  }
  document.querySelectorAll("form.field-form").forEach((form) => {
    const select = form.querySelector("[name=field_type]");
    select.addEventListener("change", () => sync(form));
    sync(form);
  });
  // "p" opens the preview, "s" jumps to "Add a section".
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "p") document.getElementById("preview-link")?.click();
    if (e.key === "s") document.querySelector("#section-form input[name=title]")?.focus();
  });
})();
