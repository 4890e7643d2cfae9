// Ask before a destructive form is sent: <form data-confirm="Remove ana from the team?">, or on
// the one button of a form that needs it: <button data-confirm="Remove this section?">.
// A static file rather than onsubmit="..."/onclick="...", which a strict Content-Security-Policy
// blocks.
document.addEventListener("submit", (event) => {
  const button = event.submitter && event.submitter.closest("[data-confirm]");
  const form = event.target.closest("form[data-confirm]");
  const message = (button && button.dataset.confirm) || (form && form.dataset.confirm);
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
