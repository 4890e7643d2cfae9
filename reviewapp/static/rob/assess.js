// Risk-of-bias pages: Ctrl+S saves a draft; changing the design, the aim or the deviations
// addressed saves and redraws the questions of the chosen variant; a result selector submits
// its form. A static file: the Content-Security-Policy allows no inline script.
(function () {
  const form = document.getElementById("rob-form");
  document.addEventListener("keydown", (event) => {
    if (form && (event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      form.querySelector("button[value=save]").click();
    }
  });
  if (form) {
    form.querySelectorAll("[data-variant]").forEach((input) => {
      input.addEventListener("change", () => {
        const apply = document.getElementById("apply-preliminary");
        if (apply) apply.click();
      });
    });
  }
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
})();
