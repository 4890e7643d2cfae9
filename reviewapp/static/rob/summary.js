// Draws the risk-of-bias summary figures from the JSON the page embeds, and downloads them.
(function () {
  for (const id of ["traffic-light", "summary-plot"]) {
    const data = document.getElementById(id + "-data");
    if (!data) continue;
    const fig = JSON.parse(data.textContent);
    Plotly.newPlot(id, fig.data, fig.layout, { responsive: true, displaylogo: false });
  }
  const name = document.querySelector("[data-plot-name]")?.dataset.plotName || "risk-of-bias";
  document.querySelectorAll("[data-download]").forEach((button) => {
    button.addEventListener("click", () => {
      Plotly.downloadImage(button.dataset.download, {
        format: button.dataset.format,
        filename: name + "-" + button.dataset.download,
        scale: 2,
      });
    });
  });
})();
