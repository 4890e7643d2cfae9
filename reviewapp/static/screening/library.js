// Library: "/" jumps to the search box.
document.addEventListener("keydown", (e) => {
  if (e.key !== "/" || e.target.closest("input, textarea, select")) return;
  const box = document.getElementById("q");
  if (!box) return;
  e.preventDefault();
  box.focus();
});
