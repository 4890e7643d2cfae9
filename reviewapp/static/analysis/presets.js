// The analysis form shows what a preset will save: choosing "RevMan 5 defaults" sets the
// estimator, test, prediction interval and Mantel-Haenszel fields in view, and changing one of
// those fields by hand turns the preset back to "Custom" (as the server does on save).
(function () {
  "use strict";
  const node = document.getElementById("analysis-presets");
  if (!node) return;
  const data = JSON.parse(node.textContent);

  function measureOf(form) {
    const measure = form.elements.measure && form.elements.measure.value;
    if (measure) return measure;
    const outcome = form.elements.outcome ? form.elements.outcome.value : data.outcome;
    return data.default_measures[outcome] || "";
  }

  function apply(form, preset) {
    const settings = data.presets[preset];
    if (!settings) return;
    Object.entries(settings).forEach(([name, value]) => {
      const field = form.elements[name];
      if (!field) return;
      if (name === "mantel_haenszel") value = value && data.mh_measures.includes(measureOf(form));
      if (field.type === "checkbox") field.checked = Boolean(value);
      else field.value = value;
    });
  }

  document.querySelectorAll("form").forEach((form) => {
    const preset = form.elements.preset;
    if (!preset) return;
    let applying = false;
    preset.addEventListener("change", () => {
      applying = true;
      apply(form, preset.value);
      applying = false;
    });
    const controlled = new Set(Object.values(data.presets).flatMap((s) => Object.keys(s)));
    controlled.forEach((name) => {
      const field = form.elements[name];
      if (!field) return;
      field.addEventListener("change", () => {
        if (!applying && preset.value !== "custom") preset.value = "custom";
      });
    });
    ["measure", "outcome"].forEach((name) => {
      const field = form.elements[name];
      if (field) field.addEventListener("change", () => apply(form, preset.value));
    });
  });
})();
