// Risk-of-bias pages: Ctrl+S saves a draft in place (htmx, see rob/_save_actions.html);
// changing the design, the aim or the deviations addressed saves and redraws the questions of
// the chosen variant; a result selector submits its form. A static file: the
// Content-Security-Policy allows no inline script.
(function () {
  const form = document.getElementById("rob-form");
  document.addEventListener("keydown", (event) => {
    if (form && (event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      const save = document.getElementById("save-draft");
      if (save) save.click();
    }
  });
  if (form) {
    form.querySelectorAll("[data-variant]").forEach((input) => {
      input.addEventListener("change", () => {
        const apply = document.getElementById("apply-preliminary");
        if (apply) apply.click();
      });
    });
    // A refused save answers 400, or 409 when someone saved first: its fragments (the message,
    // the errors beside the fields, the version to save over) are swapped like a success.
    document.body.addEventListener("htmx:beforeSwap", (event) => {
      const status = event.detail.xhr.status;
      if ((status === 400 || status === 409) && event.detail.elt.closest(".rob-actions")) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    // The messages of an earlier page load (e.g. "saved as a draft (version 2)") would
    // contradict the version a save in place just showed.
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (!event.detail.elt.closest(".rob-actions")) return;
      document.querySelectorAll("main > .messages").forEach((list) => list.remove());
    });
    // No answer, or a server error: say so where the save's message goes; nothing on the page
    // changes, so what was typed is still there to save again.
    const unsaved = (event) => {
      const feedback = document.getElementById("save-feedback");
      if (!feedback || !event.detail.elt.closest(".rob-actions")) return;
      const box = document.createElement("div");
      box.className = "error-box";
      box.setAttribute("role", "alert");
      box.id = "form-error";
      box.textContent =
        "Not saved: the server did not answer. Your answers are still on the page; save again.";
      feedback.replaceChildren(box);
    };
    document.body.addEventListener("htmx:sendError", unsaved);
    document.body.addEventListener("htmx:responseError", unsaved);
  }
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
})();
