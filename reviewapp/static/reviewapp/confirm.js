// Ask before a destructive form is sent: <form data-confirm="Remove ana from the team?">.
// A static file rather than onsubmit="...", which a strict Content-Security-Policy blocks.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
